/**
 * kube-proxy end to end, traffic policies and source addresses: agnhost pods pinned to nodes,
 * real curl from chosen source addresses. externalTrafficPolicy Local keeps the client's IP and
 * hangs on a node without an endpoint; Cluster shows the receiving node's IP (SNAT); the
 * healthCheckNodePort says which node has the pod; internalTrafficPolicy Local keeps a pod's
 * traffic on its own node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from 'kubernetes-types/core/v1.js';
import { nodeIP } from '../../dataplane/base/cluster-config.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { agnhostDeployment, curl, curlFrom, hostnames, readyPods } from './proxy-helpers.js';

let cluster: KnetCluster;
let node1: string;
let node2: string;
/** Pod name and IP of the pinned deployments. */
const pod: Record<'one' | 'a' | 'b', { name: string; ip: string }> = {} as never;
const OUTSIDE = '127.60.2.1';

const service = (name: string, selector: string, spec: string) => `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { ${selector} }
${spec}  ports: [{ port: 80, targetPort: 8080 }]
`;

beforeAll(async () => {
  cluster = await startCluster({
    components: { dns: false, ingress: false },
    manifests: [
      agnhostDeployment({ name: 'one', node: 'node-1' }),
      agnhostDeployment({ name: 'a', node: 'node-1', labels: { app: 'a', tier: 'itp' } }),
      agnhostDeployment({ name: 'b', node: 'node-2', labels: { app: 'b', tier: 'itp' } }),
      service('local-np', 'app: one', '  type: NodePort\n  externalTrafficPolicy: Local\n'),
      service('cluster-np', 'app: one', '  type: NodePort\n'),
      service('local-lb', 'app: one', '  type: LoadBalancer\n  externalTrafficPolicy: Local\n'),
      service('itp', 'tier: itp', '  internalTrafficPolicy: Local\n'),
      service('itp-one', 'app: one', '  internalTrafficPolicy: Local\n'),
    ].join('---\n'),
  });
  node1 = nodeIP(cluster.config, 1);
  node2 = nodeIP(cluster.config, 2);
  for (const name of ['one', 'a', 'b'] as const) {
    const [p] = await readyPods(cluster, { app: name });
    pod[name] = { name: p!.metadata!.name!, ip: p!.status!.podIP! };
  }
  await cluster.waitForEndpoints('itp', 2);
}, 90_000);

afterAll(async () => {
  await cluster?.close();
});

const nodePortOf = async (svc: string) => (await cluster.serviceAddress(svc, undefined, { type: 'NodePort' })).port;

describe('externalTrafficPolicy on a NodePort', () => {
  it("Local: /clientip shows the client's own IP (source preserved)", async () => {
    const r = await curlFrom(OUTSIDE, `http://${node1}:${await nodePortOf('local-np')}/clientip`);
    expect(r.code).toBe(0);
    expect(r.body).toMatch(new RegExp(`^${OUTSIDE.replaceAll('.', '\\.')}:\\d+$`));
  });

  it("Cluster: /clientip shows the receiving node's IP (SNAT), on either node", async () => {
    const np = await nodePortOf('cluster-np');
    const via1 = await curlFrom(OUTSIDE, `http://${node1}:${np}/clientip`);
    const via2 = await curlFrom(OUTSIDE, `http://${node2}:${np}/clientip`);
    expect(via1.body.split(':')[0]).toBe(node1);
    expect(via2.body.split(':')[0]).toBe(node2);
  });

  it('Local: the node without an endpoint holds the connection (curl exit 28) while the other answers', async () => {
    const np = await nodePortOf('local-np');
    const [held, served] = await Promise.all([
      curlFrom(OUTSIDE, `http://${node2}:${np}/hostname`, '--max-time', '2'),
      curlFrom(OUTSIDE, `http://${node1}:${np}/hostname`, '--max-time', '2'),
    ]);
    expect(held.code).toBe(28);
    expect(served).toEqual({ code: 0, body: pod.one.name });
  });

  it('Local: the healthCheckNodePort answers 200 on the node with the pod, 503 on the other', async () => {
    const svc = await cluster.get<Service>('service', 'local-lb');
    const hc = svc!.spec!.healthCheckNodePort!;
    expect(hc).toBeGreaterThanOrEqual(30000);
    const ask = async (ip: string) => {
      const r = await curl(`http://${ip}:${hc}/healthz`, '-w', '\n%{http_code}');
      const cut = r.body.lastIndexOf('\n');
      return { status: Number(r.body.slice(cut + 1)), json: JSON.parse(r.body.slice(0, cut)) as unknown };
    };
    expect(await ask(node1)).toEqual({ status: 200, json: { service: { namespace: 'default', name: 'local-lb' }, localEndpoints: 1, serviceProxyHealthy: true } });
    expect(await ask(node2)).toEqual({ status: 503, json: { service: { namespace: 'default', name: 'local-lb' }, localEndpoints: 0, serviceProxyHealthy: true } });
  });
});

describe('internalTrafficPolicy Local on a ClusterIP', () => {
  it("a pod's connections stay on its own node, from a pod IP on each node", async () => {
    const { host, port } = await cluster.serviceAddress('itp');
    const fromA = await hostnames(`http://${host}:${port}/hostname`, 5, pod.a.ip);
    const fromB = await hostnames(`http://${host}:${port}/hostname`, 5, pod.b.ip);
    expect(new Set(fromA)).toEqual(new Set([pod.a.name]));
    expect(new Set(fromB)).toEqual(new Set([pod.b.name]));
    // The pod sees its caller's pod IP (ClusterIP traffic keeps the source).
    expect((await curlFrom(pod.b.ip, `http://${host}:${port}/clientip`)).body.split(':')[0]).toBe(pod.b.ip);
  });

  it('a pod on a node with no local endpoint hangs (curl exit 28); one on the node with the pod is served', async () => {
    const { host, port } = await cluster.serviceAddress('itp-one');
    const [held, served] = await Promise.all([
      curlFrom(pod.b.ip, `http://${host}:${port}/hostname`, '--max-time', '2'),
      curlFrom(pod.a.ip, `http://${host}:${port}/hostname`, '--max-time', '2'),
    ]);
    expect(held.code).toBe(28);
    expect(served).toEqual({ code: 0, body: pod.one.name });
  });
});
