/**
 * kube-proxy end to end, issue #18: 2,000 clients at once that send a request and then shut
 * down their write side, through the ClusterIP and through a NodePort of agnhost pods. Every
 * one must get its whole answer; none may be reset, and the proxy's reset counter stays empty.
 *
 * What broke: the proxy's listeners (and the emulated pods') listened with Node's backlog of
 * 511. A burst overflowed the accept queue, the kernel answered with SYN cookies, and a
 * client's FIN arriving in a segment of its own no longer matched its cookie, so the kernel
 * reset it (dataplane/base/net/listen-backlog.ts). Before the fix about a quarter of each burst was
 * reset here, through the proxy and (in this single-process cluster) straight to a pod too.
 *
 * The process holds ~8,000 sockets at the peak (clients, both proxy sides, the pods' side),
 * well within the descriptor limit Node raises itself to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeIP } from '../../dataplane/base/cluster-config.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { halfClosedStorm } from '../support/half-close-storm.js';
import { agnhostDeployment, curl, readyPods } from './proxy-helpers.js';

const CLIENTS = 2000;
let cluster: KnetCluster;

beforeAll(async () => {
  cluster = await startCluster({
    components: { dns: false, ingress: false },
    manifests: [
      agnhostDeployment({ name: 'web', replicas: 3 }),
      `apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
`,
    ].join('---\n'),
  });
  await cluster.waitForEndpoints('web', 3);
}, 90_000);

afterAll(async () => {
  await cluster?.close();
});

async function resetsCounted(): Promise<string[]> {
  const r = await curl(`http://${nodeIP(cluster.config, 1)}:10249/metrics`);
  expect(r.code).toBe(0);
  expect(r.body).toContain('# TYPE knet_proxy_resets_total counter');
  return r.body.split('\n').filter((l) => l.startsWith('knet_proxy_resets_total{') && !l.endsWith(' 0'));
}

describe(`${CLIENTS} half-closed clients at once`, () => {
  it.each(['ClusterIP', 'NodePort'] as const)('through the %s: every answer complete, no reset', async (type) => {
    const { host, port } = await cluster.serviceAddress('web', 'http', { type });
    const { outcomes, samples } = await halfClosedStorm(host, port, CLIENTS);
    expect(outcomes, samples.join('\n')).toEqual({ ok: CLIENTS });
    expect(await resetsCounted()).toEqual([]);
  }, 60_000);

  it('straight to a pod: every answer complete, no reset (the emulated pod listens as a Go program does)', async () => {
    const [pod] = await readyPods(cluster, { app: 'web' });
    const { outcomes, samples } = await halfClosedStorm(pod!.status!.podIP!, 8080, CLIENTS);
    expect(outcomes, samples.join('\n')).toEqual({ ok: CLIENTS });
  }, 60_000);
});

