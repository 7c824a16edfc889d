/**
 * kube-proxy end to end, a rolling update under constant load through the ClusterIP:
 * `knet rollout restart` (the template annotation kubectl.kubernetes.io/restartedAt) replaces
 * all three agnhost pods while clients keep calling; not one request may fail: no empty reply,
 * no reset, no partial or non-2xx answer, and the proxy counts no reset and no failed connect.
 *
 * Every request opens its own connection (`Connection: close`), as Kubernetes' own
 * rolling-update disruption test does (its client disables keep-alives): a kept-alive
 * connection is pinned to its pod and is cut when that pod exits, in a real cluster too
 * (the conntrack entry outlives the endpoint; the pod's exit resets the flow). What the proxy
 * owes is that no *new* connection goes to a pod that stopped serving: terminating endpoints
 * leave the rotation at once, and a refused connect is retried on an endpoint not tried yet.
 *
 * The pods run netexec --delay-shutdown=2, serving for 2 s after SIGTERM as Kubernetes asks
 * of a pod that wants no errors through a rollout (kube-proxy learns of the pod's end no sooner
 * than its kubelet); a pod that exits at the instant of SIGTERM cuts the connections it has
 * just accepted, here and in a real cluster (proxy/README.md, "Rolling updates under load").
 *
 * Bounded by events, not time: the restart is triggered once the load has completed 200
 * requests, and the load stops 200 requests after the last old pod is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { nodeIP } from '../../dataplane/base/cluster-config.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { OutcomeTally, rawRequest } from '../support/raw-http.js';
import { agnhostDeployment, curl, hostnames, readyPods } from './proxy-helpers.js';

let cluster: KnetCluster;

beforeAll(async () => {
  cluster = await startCluster({
    // One process per component, as `knet up` runs them: a pod's exit and the proxy's
    // connects then race as they do in a real cluster.
    mode: 'processes',
    components: { dns: false, ingress: false },
    manifests: [
      agnhostDeployment({ name: 'web', replicas: 3, args: ['netexec', '--http-port=8080', '--udp-port=8081', '--delay-shutdown=2'] }),
      `apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
`,
    ].join('---\n'),
  });
  await cluster.waitForEndpoints('web', 3);
}, 90_000);

afterAll(async () => {
  await cluster?.close();
});

/** `clients` loops, each one request per connection, until stop(); completed(n) resolves once n requests have ended. */
function startLoad(host: string, port: number, clients: number) {
  const tally = new OutcomeTally();
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  let stopped = false;
  const loops = Promise.all(
    Array.from({ length: clients }, async () => {
      while (!stopped) {
        tally.add(await rawRequest(host, port, { timeoutMs: 10_000 }));
        for (const w of waiters.filter((x) => tally.total >= x.n)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    }),
  );
  return {
    tally,
    completed: (n: number) => new Promise<void>((resolve) => (tally.total >= n ? resolve() : waiters.push({ n, resolve }))),
    stop: async () => {
      stopped = true;
      await loops;
    },
  };
}

const webPods = async () => ((await cluster.get<Pod>('pods')) as Pod[]).filter((p) => p.metadata?.labels?.app === 'web');

describe('a rolling update under constant load through the ClusterIP', () => {
  it('replaces every pod with every answer complete: no empty reply, no reset, no error', async () => {
    const { host, port } = await cluster.serviceAddress('web');
    const before = new Set((await readyPods(cluster, { app: 'web' })).map((p) => p.metadata!.name!));
    expect(before.size).toBe(3);

    const load = startLoad(host, port, 8);
    try {
      await load.completed(200);
      await cluster.store.mutate('Deployment', 'default', 'web', (d) => {
        const spec = d.spec as { template: { metadata?: { annotations?: Record<string, string> } } };
        const meta = spec.template.metadata ?? {};
        return { ...d, spec: { ...spec, template: { ...spec.template, metadata: { ...meta, annotations: { ...meta.annotations, 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } };
      });
      // Rolled out and every old pod gone (each served 2 s past its SIGTERM, then exited).
      await cluster.waitFor(
        async () => {
          const pods = await webPods();
          const ready = await readyPods(cluster, { app: 'web' });
          return pods.length === 3 && ready.length === 3 && pods.every((p) => !before.has(p.metadata!.name!));
        },
        { what: 'the rollout to replace every pod', kinds: ['Pod'], timeoutMs: 30_000 },
      );
      await load.completed(load.tally.total + 200);
    } finally {
      await load.stop();
    }
    const { outcomes, samples, total } = load.tally;
    if (process.env.KNET_E2E_VERBOSE) console.log(`rollout under load: ${total} requests, ${JSON.stringify(outcomes)}`);
    expect(outcomes, samples.join('\n')).toEqual({ ok: total });

    const metrics = (await curl(`http://${nodeIP(cluster.config, 1)}:10249/metrics`)).body;
    const counted = metrics.split('\n').filter((l) => /^knet_proxy_(resets_total|connections_failed_total)\{/.test(l) && !l.endsWith(' 0'));
    expect(counted).toEqual([]);
    // And the new pods are the ones serving now.
    const after = new Set((await readyPods(cluster, { app: 'web' })).map((p) => p.metadata!.name!));
    expect(new Set(await hostnames(`http://${host}:${port}/hostname`, 3))).toEqual(after);
  }, 60_000);
});
