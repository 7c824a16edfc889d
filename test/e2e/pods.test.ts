/**
 * Pods as real listeners, end to end: the quickstart Deployment on a real cluster (store,
 * controller-manager, node agents, proxy), driven with real curl.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { curl } from './proxy-helpers.js';

let cluster: KnetCluster;

async function pods(selector = 'app=web'): Promise<Pod[]> {
  const [k, v] = selector.split('=');
  return ((await cluster.get<Pod>('pods')) as Pod[]).filter((p) => p.metadata?.labels?.[k!] === v);
}

const readyPods = async () => (await pods()).filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

beforeAll(async () => {
  cluster = await startCluster({ manifests: 'examples/quickstart', components: { dns: false, ingress: false }, config: { nodeGraceSeconds: 2 } });
});
afterAll(async () => {
  await cluster?.close();
});

describe('the quickstart deployment', () => {
  it('runs 3 pods, each answering /hostname with its own name on its own IP', async () => {
    const list = await readyPods();
    expect(list).toHaveLength(3);
    for (const p of list) {
      const r = await curl(`http://${p.status!.podIP}:8080/hostname`);
      expect(r.body).toBe(p.metadata!.name);
    }
    expect(new Set(list.map((p) => p.spec?.nodeName))).toEqual(new Set(['node-1', 'node-2']));
    expect(await cluster.readyEndpoints('web')).toEqual(list.map((p) => p.status!.podIP!).sort());
  });

  it('scales 3 → 6 → 2 with that many ready pods and slice endpoints', async () => {
    for (const n of [6, 2]) {
      await cluster.store.mutate('Deployment', 'default', 'web', (d) => ({ ...d, spec: { ...(d.spec as object), replicas: n } }));
      await cluster.waitForEndpoints('web', n);
      await cluster.waitFor(async () => (await readyPods()).length === n && (await pods()).length === n, `${n} pods`);
    }
  });

  it('replaces a deleted pod', async () => {
    const [victim] = await readyPods();
    await cluster.delete('pod', victim!.metadata!.name!);
    await cluster.waitFor(async () => {
      const now = await readyPods();
      return now.length === 2 && !now.some((p) => p.metadata?.name === victim!.metadata!.name);
    }, 'a replacement pod');
  });

  it('restarts a container that exits and counts the restart', async () => {
    const [p] = await readyPods();
    await curl(`http://${p!.status!.podIP}:8080/exit?code=1`);
    await cluster.waitFor(async () => {
      const now = await cluster.get<Pod>('pod', p!.metadata!.name!);
      return now?.status?.containerStatuses?.[0]?.restartCount === 1 && now.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    }, 'restartCount 1 and Ready again');
    const after = await cluster.get<Pod>('pod', p!.metadata!.name!);
    expect(after?.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode).toBe(1);
    expect((await curl(`http://${p!.status!.podIP}:8080/hostname`)).body).toBe(p!.metadata!.name);
  });

  it("takes a stopped node's endpoints out, and puts them back when it starts", async () => {
    await cluster.store.mutate('Deployment', 'default', 'web', (d) => ({ ...d, spec: { ...(d.spec as object), replicas: 4 } }));
    await cluster.waitForEndpoints('web', 4);
    const onNode2 = (await readyPods()).filter((p) => p.spec?.nodeName === 'node-2').map((p) => p.status!.podIP!);
    expect(onNode2.length).toBeGreaterThan(0);
    await cluster.nodeStop('node-2');
    await cluster.waitFor(async () => (await cluster.readyEndpoints('web')).every((ip) => !onNode2.includes(ip)), "node-2's endpoints to go not-ready");
    const node = await cluster.get('node', 'node-2');
    expect(JSON.stringify(node)).toContain('NodeStatusUnknown');
    await cluster.nodeStart('node-2');
    await cluster.waitFor(async () => onNode2.every(async (ip) => (await cluster.readyEndpoints('web')).includes(ip)), "node-2's endpoints back");
    await cluster.waitForEndpoints('web', 4);
  });
});

describe('probes', () => {
  it('a failing readiness probe takes the endpoint to ready=false and back', async () => {
    // The exec readiness probe runs inside the pod (its simulated shell and filesystem): a marker
    // file made there with cluster.exec fails it, removing the file makes it pass again.
    await cluster.apply(`apiVersion: v1
kind: Pod
metadata:
  name: flaky
  labels: { app: flaky }
spec:
  containers:
  - name: agnhost
    image: registry.k8s.io/e2e-test-images/agnhost:2.53
    args: ["netexec", "--http-port=8080"]
    readinessProbe:
      exec:
        command: ["test", "!", "-e", "/tmp/unready"]
      periodSeconds: 1
      failureThreshold: 2
---
apiVersion: v1
kind: Service
metadata: { name: flaky }
spec:
  selector: { app: flaky }
  ports: [{ port: 80, targetPort: 8080 }]
`);
    await cluster.waitForEndpoints('flaky', 1);
    expect(await cluster.exec('flaky', ['touch', '/tmp/unready'])).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    await cluster.waitFor(async () => {
      const slices = (await cluster.get<EndpointSlice>('endpointslices')) as unknown as EndpointSlice[];
      const ep = slices.find((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === 'flaky')?.endpoints?.[0];
      return ep?.conditions?.ready === false && ep.conditions.serving === false;
    }, 'the flaky endpoint to go ready=false');
    expect((await cluster.exec('flaky', ['rm', '/tmp/unready'])).exitCode).toBe(0);
    await cluster.waitForEndpoints('flaky', 1);
    const events = await cluster.events();
    expect(events.some((e) => e.reason === 'Unhealthy' && e.involvedObject.name === 'flaky')).toBe(true);
  });
});
