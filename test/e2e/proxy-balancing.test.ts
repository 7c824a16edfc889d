/**
 * kube-proxy end to end, endpoint choice: three agnhost pods on a real cluster, driven with
 * real curl. Round robin, ClientIP affinity (sticky per client IP, spread between clients, a
 * 2 s timeout that expires), connection refused without endpoints, TCP and UDP on one port,
 * and the proxy's own /metrics and /healthz on node-1's IP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeIP } from '../../dataplane/base/cluster-config.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { fakeClock } from '../support/fake-clock.js';
import { agnhostDeployment, curl, hostnames, readyPods, udpAsk } from './proxy-helpers.js';

let cluster: KnetCluster;
let pods: string[];
/** The proxy's time: affinity records expire when a test advances it. */
const clock = fakeClock();

const service = (name: string, extra = '') => `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: web }
${extra}  ports:
  - { name: http, port: 80, targetPort: http }
  - { name: udp, port: 80, targetPort: udp, protocol: UDP }
`;

beforeAll(async () => {
  cluster = await startCluster({
    clock,
    components: { dns: false, ingress: false },
    manifests: [
      agnhostDeployment({ name: 'web', replicas: 3 }),
      service('rr'),
      service('sticky', '  sessionAffinity: ClientIP\n'),
      service('short', '  sessionAffinity: ClientIP\n  sessionAffinityConfig: { clientIP: { timeoutSeconds: 2 } }\n'),
      `apiVersion: v1
kind: Service
metadata: { name: empty }
spec:
  selector: { app: nobody }
  ports: [{ port: 80, targetPort: 8080 }]
`,
    ].join('---\n'),
  });
  for (const s of ['rr', 'sticky', 'short']) await cluster.waitForEndpoints(s, 3);
  pods = (await readyPods(cluster, { app: 'web' })).map((p) => p.metadata!.name!).sort();
  expect(pods).toHaveLength(3);
}, 90_000);

afterAll(async () => {
  await cluster?.close();
});

const url = async (svc: string, path = '/hostname') => {
  const { host, port } = await cluster.serviceAddress(svc, 'http');
  return `http://${host}:${port}${path}`;
};

describe('endpoint choice through the ClusterIP', () => {
  it('round robin: 3 requests reach all 3 pods', async () => {
    const seen = await hostnames(await url('rr'), 3);
    expect(seen.sort()).toEqual(pods);
  });

  it('ClientIP affinity: 20 requests from one client reach one pod; other clients are spread', async () => {
    const u = await url('sticky');
    const first = await hostnames(u, 20, '127.60.0.1');
    expect(new Set(first).size).toBe(1);
    expect(pods).toContain(first[0]);
    // New clients take the next endpoints in rotation: three clients, three pods.
    const others = [];
    for (const from of ['127.60.0.2', '127.60.0.3']) {
      const got = await hostnames(u, 5, from);
      expect(new Set(got).size).toBe(1);
      others.push(got[0]);
    }
    expect([first[0], ...others].sort()).toEqual(pods);
  });

  it('a 2 s affinity timeout expires and the client is balanced again', async () => {
    const u = await url('short');
    const before = await hostnames(u, 5, '127.60.1.1');
    expect(new Set(before).size).toBe(1);
    clock.advance(2_000);
    // The record expired: the next connection takes the next pod in rotation, and sticks to it.
    const after = await hostnames(u, 5, '127.60.1.1');
    expect(new Set(after).size).toBe(1);
    expect(after[0]).not.toBe(before[0]);
    expect(pods).toContain(after[0]);
  });

  it('a service with no endpoints refuses connections (curl exit 7)', async () => {
    const { host, port } = await cluster.serviceAddress('empty');
    const r = await curl(`http://${host}:${port}/`);
    expect(r.code).toBe(7);
  });

  it('TCP and UDP on the same port number reach the pods', async () => {
    const { host, port } = await cluster.serviceAddress('rr', 'udp');
    expect(port).toBe(80);
    const answers = new Set<string>();
    // Each datagram from a new source port is a new UDP session, balanced like a connection.
    for (let i = 0; i < 3; i++) answers.add(await udpAsk(host, port, 'hostname'));
    expect([...answers].sort()).toEqual(pods);
    expect(await udpAsk(host, port, 'echo hello udp')).toBe('hello udp');
    expect(pods).toContain((await curl(`http://${host}:${port}/hostname`)).body);
  });
});

describe("the proxy's own endpoints on node-1's IP", () => {
  it('/metrics counts connections per endpoint, naming the pod that served', async () => {
    await hostnames(await url('rr'), 6);
    const r = await curl(`http://${nodeIP(cluster.config, 1)}:10249/metrics`);
    expect(r.code).toBe(0);
    const lines = r.body.split('\n').filter((l) => l.startsWith('knet_proxy_endpoint_connections_total{service="default/rr:http/TCP"'));
    const byPod = new Map(lines.map((l) => [/pod="([^"]+)"/.exec(l)![1]!, Number(l.split(' ').pop())]));
    expect([...byPod.keys()].sort()).toEqual(pods);
    // 3 from the round-robin test, 1 from the TCP/UDP test and 6 here, in rotation.
    for (const n of byPod.values()) expect(n).toBeGreaterThanOrEqual(3);
    expect(r.body).toMatch(/knet_proxy_bytes_total\{service="default\/rr:http\/TCP",direction="out"\} [1-9]/);
    expect(r.body).toMatch(/knet_proxy_connections_total\{service="default\/rr:udp\/UDP",protocol="UDP"\} [1-9]/);
    expect(r.body).toMatch(/knet_proxy_sync_proxy_rules_duration_seconds_count [1-9]/);
  });

  it('/healthz answers 200 with the last sync time', async () => {
    const r = await curl(`http://${nodeIP(cluster.config, 1)}:10256/healthz`, '-w', '\n%{http_code}');
    const [body, status] = r.body.split('\n');
    expect(status).toBe('200');
    expect(JSON.parse(body!)).toMatchObject({ lastUpdated: expect.any(String), nodeEligible: true });
  });
});
