/**
 * Two Service fields end to end, with the real kubectl and curl, on a cluster whose nodes are in
 * zones (node-1 zone-a, node-2 zone-b):
 * - `trafficDistribution: PreferClose`: the EndpointSlice controller hints each endpoint for its
 *   zone, and the proxy keeps a client on a node of zone-a on the zone-a pod; `kubectl patch`
 *   removing the field removes the hints and traffic spreads again.
 * - `service.kubernetes.io/topology-mode: Auto` with two pods per zone: the zones weigh the same
 *   (equal nodes), so each endpoint is hinted for its own zone, the Service gets
 *   `TopologyAwareHintsEnabled`, and a zone-a client reaches only zone-a pods.
 * - `loadBalancerSourceRanges`: a curl from outside the ranges gets no answer at the
 *   LoadBalancer IP (held as a dropped SYN, counted in /metrics) while one from inside does and
 *   the NodePort serves both; a `kubectl patch` that admits its range lets the held one through.
 * Clients bind addresses of node-1's and node-2's pod ranges (the proxy takes them for pods on
 * those nodes) and of 127.60.5.0/24 (inside the ranges) and 127.60.6.0/24 (outside).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { cidrAddress } from '../../dataplane/base/net/ip.js';
import { nodeIP, podSubnet } from '../../dataplane/base/cluster-config.js';
import type { KnetCluster } from '../../dataplane/index.js';
import { kubectlCluster } from '../support/kubectl-cluster.js';
import { agnhostDeployment, curl, curlFrom, hostnames, type CurlResult } from './proxy-helpers.js';

/** Below the test's own timeout, so a wait that fails says what it waited for. */
const WAIT_MS = 10_000;
let cluster: KnetCluster;
const pods: Record<'a' | 'b', string> = { a: '', b: '' };
const { ok, file } = kubectlCluster(
  {
    components: { dns: false, ingress: false },
    config: { zones: { 'node-1': 'zone-a', 'node-2': 'zone-b' } },
    manifests: [agnhostDeployment({ name: 'a', node: 'node-1', labels: { app: 'a', tier: 'close' } }), agnhostDeployment({ name: 'b', node: 'node-2', labels: { app: 'b', tier: 'close' } })].join('---\n'),
  },
  {
    started: async (k) => {
      cluster = k.cluster;
      for (const app of ['a', 'b'] as const) pods[app] = ((await cluster.get<Pod>('pods', undefined, 'default', { labelSelector: `app=${app}` })) as Pod[])[0]!.metadata!.name!;
    },
    timeoutMs: 90_000,
  },
);

/** An address in node N's pod range that no pod has: the proxy takes it for a pod on that node. */
const podOn = (n: number) => cidrAddress(podSubnet(cluster.config, n), 250);

describe('trafficDistribution: PreferClose', () => {
  const hints = async () => ok('get', 'endpointslices', '-l', 'kubernetes.io/service-name=close', '-o', 'jsonpath={range .items[*].endpoints[*]}{.targetRef.name}={.zone}:{.hints.forZones[*].name}{"\\n"}{end}');

  it('hints each endpoint for its zone; clients stay in their zone; removing the field spreads them again', async () => {
    await ok('apply', '-f', file('close.yaml', 'apiVersion: v1\nkind: Service\nmetadata: { name: close }\nspec:\n  selector: { tier: close }\n  trafficDistribution: PreferClose\n  ports: [{ port: 80, targetPort: 8080 }]\n'));
    const want = [`${pods.a}=zone-a:zone-a`, `${pods.b}=zone-b:zone-b`].sort();
    await cluster.waitFor(async () => (await hints()).trim().split('\n').sort().join() === want.join(), 'both endpoints hinted for their own zone', WAIT_MS);

    const ip = (await ok('get', 'svc', 'close', '-o', 'jsonpath={.spec.clusterIP}')).trim();
    const url = `http://${ip}/hostname`;
    // The proxy has the hints once a zone-a client stays on the zone-a pod (without them, round robin covers both in two).
    await cluster.waitFor(async () => new Set(await hostnames(url, 4, podOn(1))).size === 1, 'the proxy keeps zone-a clients in zone-a', WAIT_MS);
    expect(new Set(await hostnames(url, 4, podOn(1)))).toEqual(new Set([pods.a]));
    expect(new Set(await hostnames(url, 4, podOn(2)))).toEqual(new Set([pods.b]));

    await ok('patch', 'svc', 'close', '--type=json', '-p', '[{"op":"remove","path":"/spec/trafficDistribution"}]');
    await cluster.waitFor(async () => (await hints()).trim().split('\n').sort().join() === [`${pods.a}=zone-a:`, `${pods.b}=zone-b:`].sort().join(), 'hints removed', WAIT_MS);
    await cluster.waitFor(async () => new Set(await hostnames(url, 2, podOn(1))).size === 2, 'a zone-a client reaches both pods again', WAIT_MS);
  });
});

describe('topology-mode: Auto', () => {
  it('hints two endpoints per zone for their own zones, says so in an event, and keeps clients in their zone', async () => {
    const manifests = [agnhostDeployment({ name: 'auto-a', node: 'node-1', replicas: 2, labels: { app: 'auto-a', tier: 'auto' } }), agnhostDeployment({ name: 'auto-b', node: 'node-2', replicas: 2, labels: { app: 'auto-b', tier: 'auto' } })];
    const svc = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: auto\n  annotations: { service.kubernetes.io/topology-mode: Auto }\nspec:\n  selector: { tier: auto }\n  ports: [{ port: 80, targetPort: 8080 }]\n';
    await ok('apply', '-f', file('auto.yaml', [...manifests, svc].join('---\n')));
    const hints = async () => (await ok('get', 'endpointslices', '-l', 'kubernetes.io/service-name=auto', '-o', 'jsonpath={range .items[*].endpoints[*]}{.zone}:{.hints.forZones[*].name}{"\\n"}{end}')).trim().split('\n').sort().join();
    await cluster.waitFor(async () => (await hints()) === 'zone-a:zone-a,zone-a:zone-a,zone-b:zone-b,zone-b:zone-b', 'four endpoints hinted for their own zones', 30_000);
    const events = await ok('get', 'events', '--field-selector', 'involvedObject.kind=Service,involvedObject.name=auto', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}');
    expect(events).toContain('TopologyAwareHintsEnabled: Topology Aware Hints has been enabled, addressType: IPv4');

    const zoneA = ((await cluster.get<Pod>('pods', undefined, 'default', { labelSelector: 'app=auto-a' })) as Pod[]).map((p) => p.metadata!.name!);
    const ip = (await ok('get', 'svc', 'auto', '-o', 'jsonpath={.spec.clusterIP}')).trim();
    const url = `http://${ip}/hostname`;
    // The proxy has the hints once four zone-a requests stay on the zone-a pods.
    await cluster.waitFor(async () => (await hostnames(url, 4, podOn(1))).every((h) => zoneA.includes(h)), 'the proxy keeps zone-a clients on zone-a pods', WAIT_MS);
    for (const h of await hostnames(url, 4, podOn(1))) expect(zoneA).toContain(h);
  });
});

describe('loadBalancerSourceRanges', () => {
  it('drops a source outside the ranges at the LoadBalancer IP only, and a patch that admits it lets the held connection through', async () => {
    await ok('apply', '-f', file('guarded.yaml', 'apiVersion: v1\nkind: Service\nmetadata: { name: guarded }\nspec:\n  type: LoadBalancer\n  selector: { app: a }\n  loadBalancerSourceRanges: [127.60.5.0/24]\n  ports: [{ port: 80, targetPort: 8080 }]\n'));
    const lbIP = await cluster.waitFor(async () => (await ok('get', 'svc', 'guarded', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}')).trim() || undefined, 'a LoadBalancer IP', WAIT_MS);
    const nodePort = (await ok('get', 'svc', 'guarded', '-o', 'jsonpath={.spec.ports[0].nodePort}')).trim();
    await cluster.waitForEndpoints('guarded', 1);

    const denied = curlRunning('127.60.6.1', `http://${lbIP}/hostname`);
    const metrics = `http://${nodeIP(cluster.config, 1)}:10249/metrics`;
    await cluster.waitFor(async () => (await curl(metrics)).body.includes('knet_proxy_connections_failed_total{service="default/guarded:/TCP",reason="source_range_denied"} 1'), 'the proxy counts the dropped connection', WAIT_MS);

    expect(await curlFrom('127.60.5.1', `http://${lbIP}/hostname`)).toEqual({ code: 0, body: pods.a });
    expect(await curlFrom('127.60.6.1', `http://${nodeIP(cluster.config, 2)}:${nodePort}/hostname`)).toEqual({ code: 0, body: pods.a });
    // The dropped client is still waiting: no answer, no reset, no close.
    expect(denied.result()).toBeUndefined();

    await ok('patch', 'svc', 'guarded', '-p', '{"spec":{"loadBalancerSourceRanges":["127.60.5.0/24","127.60.6.0/24"]}}');
    expect(await denied.done).toEqual({ code: 0, body: pods.a });
  });
});

/** A curl left running (its own limit 60 s): `result()` is undefined until it exits. */
function curlRunning(from: string, url: string): { done: Promise<CurlResult>; result(): CurlResult | undefined } {
  const child = spawn('curl', ['-s', '--max-time', '60', '--interface', from, url]);
  let body = '';
  let result: CurlResult | undefined;
  child.stdout.on('data', (d: Buffer) => (body += d.toString()));
  const done = new Promise<CurlResult>((resolve) => child.once('close', (code) => resolve((result = { code: code ?? -1, body }))));
  return { done, result: () => result };
}
