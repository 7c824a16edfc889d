/**
 * Four clusters side by side in one test, started at once: each has its own address block,
 * Redis and state dir, so the same Service name resolves to a different ClusterIP in each,
 * and traffic to one cluster's Service only ever reaches that cluster's pods.
 *
 * In your project: import { startCluster } from 'knet';
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { nodeIP } from '../../dataplane/base/cluster-config.js';

let clusters: KnetCluster[] = [];

beforeAll(async () => {
  // Started together: the address blocks are claimed safely under concurrency. (No ingress
  // controller: it is not needed here, and four of them would only cost CPU.)
  const started = await Promise.allSettled([1, 2, 3, 4].map(() => startCluster({ manifests: 'examples/quickstart', components: { ingress: false }, readyTimeoutMs: 60_000 })));
  clusters = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
}, 120_000);

afterAll(async () => {
  await Promise.all(clusters.map((c) => c.close()));
});

const podNames = async (c: KnetCluster) => new Set((await c.get<Pod>('pods', undefined, 'default', { labelSelector: 'app=web' })).map((p) => p.metadata!.name!));

/** Resolves a name through one cluster's `lookup`. */
const resolve = (c: KnetCluster, name: string) =>
  new Promise<string>((ok, fail) => c.lookup(name, {}, (err, address) => (err ? fail(err) : ok(address as string))));

describe('four clusters at once', () => {
  it('have disjoint address blocks: nodes, pods, services, load balancers, DNS', () => {
    const blocks = clusters.map((c) => ({
      index: c.config.index,
      node: nodeIP(c.config, 1),
      pods: c.config.podPrefix,
      services: c.config.serviceCIDR,
      lb: c.config.loadBalancerPool.first,
      dns: c.dnsServer.host,
    }));
    for (const key of ['index', 'node', 'pods', 'services', 'lb', 'dns'] as const) expect(new Set(blocks.map((b) => b[key])).size, key).toBe(4);
  });

  it('resolve the same Service name to a different ClusterIP each, from its own DNS', async () => {
    const ips = await Promise.all(clusters.map((c) => resolve(c, 'web.default.svc.cluster.local')));
    expect(new Set(ips).size).toBe(4);
    for (const [i, c] of clusters.entries()) expect(ips[i]).toBe((await c.serviceAddress('web')).host);
  });

  it('never send one cluster’s traffic to another’s pods', async () => {
    const names = await Promise.all(clusters.map(podNames));
    for (const [i, c] of clusters.entries()) {
      const others = names.filter((_, j) => j !== i).flatMap((s) => [...s]);
      for (let n = 0; n < 6; n++) {
        const byName = await (await c.fetch('http://web.default.svc.cluster.local/hostname')).text();
        expect(names[i]).toContain(byName);
        expect(others).not.toContain(byName);
      }
      const { host, port } = await c.serviceAddress('web', 'http', { type: 'NodePort' });
      expect(names[i]).toContain(await (await fetch(`http://${host}:${port}/hostname`)).text());
    }
  });

  it('change independently: deleting a Service in one leaves the others serving', async () => {
    const [first, ...rest] = clusters;
    await first!.delete('service', 'web', 'default', { wait: true });
    await first!.waitFor(() => resolve(first!, 'web.default.svc.cluster.local').then(() => false, () => true), 'the name to disappear from its DNS');
    for (const c of rest) expect((await c.fetch('http://web.default.svc.cluster.local/hostname')).status).toBe(200);
  });
});
