/**
 * NetworkPolicy enforced by the data plane, case by case as the upstream network-policy e2e
 * tests run them (pods a, b, c in namespaces x, y, z): for each case, every pod-to-pod cell is
 * probed with a real connection from the source pod's IP, and the observed truth table must
 * equal the upstream expectation and what `knet netpol matrix` prints. Also: UDP, egress to
 * the cluster DNS (dig from a pod IP), a Service through kube-proxy, the ingress controller as
 * ingress-nginx's pod, and a policy added and removed under live traffic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Service } from 'kubernetes-types/core/v1.js';
import { startCluster, type KnetCluster } from '../../dataplane/testing/index.js';
import { ANNOTATION_DNS_PORT } from '../../dataplane/base/model/well-known.js';
import type { KObject } from '../../dataplane/base/model/object.js';
import { manifests, observe, podIPs, policy, printedMatrix, probeTcp, probeUdp, setPolicies, UDP_PORT, DENIED_WAIT_MS } from './netpol-support.js';

const exec = promisify(execFile);
let cluster: KnetCluster;
let ips: Map<string, string>;

beforeAll(async () => {
  cluster = await startCluster({ manifests: manifests() });
  ips = await podIPs(cluster);
}, 120_000);
afterAll(() => cluster?.close());

/** The expected table from a rule over "ns/pod" names. */
function table(allowed: (from: string, to: string) => boolean): string[] {
  const names = [...ips.keys()];
  return names.map((f) => names.map((t) => (allowed(f, t) ? '.' : 'X')).join(''));
}

/** Sets the policies, then compares expectation, the printed matrix and real connections. */
async function check(policies: KObject[], allowed: (from: string, to: string) => boolean, port = 8080, protocol: 'TCP' | 'UDP' = 'TCP'): Promise<void> {
  await setPolicies(cluster, policies);
  const expected = table(allowed);
  const printed = await printedMatrix(cluster, `${port}/${protocol}`);
  expect(printed.rows, printed.text).toEqual(expected);
  expect(await observe(ips, port, expected, protocol === 'UDP' ? probeUdp : probeTcp)).toEqual(expected);
}

const ns = (name: string) => name.split('/')[0]!;
const nsSel = (n: string) => ({ namespaceSelector: { matchLabels: { ns: n } } });
const podSel = (p: string) => ({ podSelector: { matchLabels: { pod: p } } });

describe('the upstream network-policy cases, probed from pod IPs', () => {
  it('everything is reachable without policies', async () => {
    await check([], () => true);
  });

  it('deny-all ingress isolates every pod of x', async () => {
    await check([policy('x', 'deny-all', { podSelector: {} })], (_f, t) => ns(t) !== 'x');
  });

  it('allow-same-namespace lets only x reach x', async () => {
    await check([policy('x', 'allow-same-ns', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] })], (f, t) => ns(t) !== 'x' || ns(f) === 'x');
  });

  it('a namespaceSelector lets only y reach x/a', async () => {
    await check([policy('x', 'allow-y', { podSelector: podSel('a').podSelector, ingress: [{ from: [nsSel('y')] }] })], (f, t) => t !== 'x/a' || ns(f) === 'y');
  });

  it('podSelector AND namespaceSelector in one peer: only y/b reaches x/a', async () => {
    await check([policy('x', 'allow-yb', { podSelector: podSel('a').podSelector, ingress: [{ from: [{ ...nsSel('y'), ...podSel('b') }] }] })], (f, t) => t !== 'x/a' || f === 'y/b');
  });

  it('podSelector OR namespaceSelector as two peers: y/* and x/b reach x/a', async () => {
    await check([policy('x', 'allow-y-or-b', { podSelector: podSel('a').podSelector, ingress: [{ from: [nsSel('y'), podSel('b')] }] })], (f, t) => t !== 'x/a' || ns(f) === 'y' || f === 'x/b');
  });

  it('an ipBlock with except: every pod but y/b reaches x/a', async () => {
    const cidr = `${cluster.config.podPrefix}.0.0/16`;
    await check([policy('x', 'allow-block', { podSelector: podSel('a').podSelector, ingress: [{ from: [{ ipBlock: { cidr, except: [`${ips.get('y/b')}/32`] } }] }] })], (f, t) => t !== 'x/a' || f !== 'y/b');
  });

  it('a named port: x/a admits on serve-8081-tcp only', async () => {
    const named = [policy('x', 'allow-8081', { podSelector: podSel('a').podSelector, ingress: [{ ports: [{ port: 'serve-8081-tcp' }] }] })];
    await check(named, (_f, t) => t !== 'x/a', 8080);
    await check(named, () => true, 8081);
  });

  it('endPort: x/a admits 8080–8081, not 8082', async () => {
    const range = [policy('x', 'allow-range', { podSelector: podSel('a').podSelector, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ protocol: 'TCP', port: 8080, endPort: 8081 }] }] })];
    await check(range, () => true, 8081);
    await check(range, (_f, t) => t !== 'x/a', 8082);
  });

  it('UDP: deny-all ingress in y drops datagrams to y', async () => {
    await check([policy('y', 'deny-all', { podSelector: {} })], (_f, t) => ns(t) !== 'y', UDP_PORT, 'UDP');
  });

  it('egress to DNS only: x/a can query the cluster DNS and reach no pod; a pod with no egress cannot even query', async () => {
    const dnsOnly = policy('x', 'dns-only', {
      podSelector: podSel('a').podSelector,
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] }],
    });
    const noEgress = policy('x', 'no-egress', { podSelector: podSel('b').podSelector, policyTypes: ['Egress'] });
    await check([dnsOnly, noEgress], (f) => f !== 'x/a' && f !== 'x/b');
    const svc = (await cluster.get<Service & KObject>('Service', 'kube-dns', 'kube-system'))!;
    const port = svc.metadata?.annotations?.[ANNOTATION_DNS_PORT] ?? '53';
    const dig = async (from: string, tcp = false) => {
      try {
        const { stdout } = await exec('dig', ['-b', ips.get(from)!, `@${cluster.config.dnsServiceIP}`, '-p', port, 'kubernetes.default.svc.cluster.local', '+short', '+time=1', '+tries=1', ...(tcp ? ['+tcp'] : [])]);
        return stdout.trim();
      } catch (err) {
        return `failed: ${(err as { stdout?: string }).stdout?.trim()}`;
      }
    };
    const answer = cluster.config.kubernetesServiceIP;
    expect(await dig('x/a')).toBe(answer);
    expect(await dig('x/a', true)).toBe(answer);
    expect(await dig('x/c')).toBe(answer);
    expect(await dig('x/b')).toMatch(/^failed: .*(timed out|no servers could be reached)/s);
  });

  it('a pod → ClusterIP connection is checked against the endpoint pod, and denied ones are counted by the proxy', async () => {
    await cluster.apply([{ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'x', name: 'svc-a' }, spec: { selector: { pod: 'a' }, ports: [{ port: 80, targetPort: 8080 }] } } as KObject]);
    await setPolicies(cluster, [policy('x', 'allow-yb', { podSelector: podSel('a').podSelector, ingress: [{ from: [{ ...nsSel('y'), ...podSel('b') }] }] })]);
    const clusterIP = (await cluster.get<Service & KObject>('Service', 'svc-a', 'x'))!.spec!.clusterIP!;
    const [fromYb, fromYa] = await Promise.all([probeTcp(ips.get('y/b')!, clusterIP, 80, 5000), probeTcp(ips.get('y/a')!, clusterIP, 80, DENIED_WAIT_MS)]);
    expect([fromYb, fromYa]).toEqual([true, false]);
    const metrics = await (await fetch(`http://${cluster.config.nodeAddressBase.replace(/\d+$/, (n) => String(Number(n) + 1))}:10249/metrics`)).text();
    expect(metrics).toMatch(/knet_netpol_denied_total\{policy="x\/allow-yb",direction="Ingress",component="proxy"\} [1-9]/);
  });

  it("the ingress controller is ingress-nginx's controller pod: allowed by a rule for it, 504 after proxy-connect-timeout when denied", async () => {
    await cluster.apply([
      { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'x', name: 'svc-a' }, spec: { selector: { pod: 'a' }, ports: [{ port: 80, targetPort: 8080 }] } } as KObject,
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { namespace: 'x', name: 'web', annotations: { 'nginx.ingress.kubernetes.io/proxy-connect-timeout': '1' } },
        spec: { ingressClassName: 'nginx', rules: [{ host: 'web.netpol.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'svc-a', port: { number: 80 } } } }] } }] },
      } as KObject,
    ]);
    const fromIngress = policy('x', 'from-ingress', {
      podSelector: podSel('a').podSelector,
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' } } }] }],
    });
    // Denied first: the controller's kept-alive upstream connections would outlive a later
    // policy, as established flows do on a cluster (conntrack), so none exists yet.
    await setPolicies(cluster, [policy('x', 'deny-all', { podSelector: {} })]);
    const started = Date.now();
    const denied = await cluster.fetch('http://web.netpol.test/');
    expect(denied.status).toBe(504);
    // nginx's proxy_connect_timeout (1 s here) ran out: the connect was never answered, not refused.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    await setPolicies(cluster, [fromIngress]);
    expect((await cluster.fetch('http://web.netpol.test/')).status).toBe(200);
    expect(await probeTcp(ips.get('y/a')!, ips.get('x/a')!, 8080, DENIED_WAIT_MS)).toBe(false);
  });

  it('a policy added and removed under live traffic takes effect for the next connection', async () => {
    await setPolicies(cluster, []);
    const from = ips.get('y/c')!;
    const to = ips.get('z/a')!;
    let stop = false;
    const outcomes: boolean[] = [];
    const traffic = (async () => {
      while (!stop) outcomes.push(await probeTcp(from, to, 8080, 300));
    })();
    try {
      const waitFor = async (want: boolean) => {
        const start = outcomes.length;
        while (!outcomes.slice(start).includes(want)) await new Promise((r) => setTimeout(r, 20));
      };
      await waitFor(true);
      await setPolicies(cluster, [policy('z', 'deny-all', { podSelector: {} })]);
      const appliedAt = outcomes.length;
      await waitFor(false);
      // The first connection opened after the informers had the policy was denied (one in flight may have been allowed).
      expect(outcomes.slice(appliedAt + 1).every((ok) => !ok)).toBe(true);
      await setPolicies(cluster, []);
      await waitFor(true);
    } finally {
      stop = true;
      await traffic;
    }
  });
});
