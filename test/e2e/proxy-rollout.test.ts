/**
 * kube-proxy end to end, a rolling update under constant load through the ClusterIP:
 * `knet rollout restart` (the template annotation kubectl.kubernetes.io/restartedAt) replaces
 * all three agnhost pods while wrk (or, where wrk is not installed, a loop of requests in this
 * process) keeps calling; not one request may fail or answer non-2xx.
 *
 * Every request opens its own connection (`Connection: close`), as Kubernetes' own
 * rolling-update disruption test does (its client disables keep-alives): a kept-alive
 * connection is pinned to its pod and is cut when that pod exits, in a real cluster too
 * (the conntrack entry outlives the endpoint; the pod's exit resets the flow). What the proxy
 * owes is that no *new* connection goes to a pod that stopped serving: terminating endpoints
 * leave the rotation at once, and a refused connect is retried on the next endpoint.
 */
import { execFile, execFileSync } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { agnhostDeployment, hostnames, readyPods } from './proxy-helpers.js';

const run = promisify(execFile);
let cluster: KnetCluster;

const hasWrk = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version prints its banner and exits 1; only "not found" means no wrk.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
})();

interface Load {
  requests: number;
  non2xx: number;
  socketErrors: number;
  detail: string;
}

/** One bounded wrk run: 1 thread, 4 connections, a new connection per request. */
async function wrkFor(url: string, seconds: number): Promise<Load> {
  const { stdout } = await run('wrk', ['-t1', '-c4', `-d${seconds}s`, '--timeout', '5s', '-H', 'Connection: close', url]);
  const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    requests: num(/(\d+) requests in/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: socket ? socket.slice(1).reduce((n, v) => n + Number(v), 0) : 0,
    detail: stdout,
  };
}

/** The same from this process: 4 workers, each request on a fresh connection. */
async function loopFor(url: string, seconds: number): Promise<Load> {
  const load: Load = { requests: 0, non2xx: 0, socketErrors: 0, detail: '' };
  const until = Date.now() + seconds * 1000;
  const once = () =>
    new Promise<void>((resolve) => {
      const req = http.get(url, { agent: false, headers: { Connection: 'close' }, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => {
          load.requests++;
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 400) load.non2xx++;
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) => {
        load.socketErrors++;
        load.detail += `${err.message}\n`;
        resolve();
      });
    });
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (Date.now() < until) await once();
    }),
  );
  return load;
}

beforeAll(async () => {
  cluster = await startCluster({
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

describe('a rolling update under constant load through the ClusterIP', () => {
  it('replaces every pod with zero non-2xx responses and zero socket errors', async () => {
    const { host, port } = await cluster.serviceAddress('web');
    const url = `http://${host}:${port}/hostname`;
    const before = new Set((await readyPods(cluster, { app: 'web' })).map((p) => p.metadata!.name!));
    expect(before.size).toBe(3);

    const rolledOut = async () => {
      const pods = ((await cluster.get<Pod>('pods')) as Pod[]).filter((p) => p.metadata?.labels?.app === 'web');
      const ready = await readyPods(cluster, { app: 'web' });
      return pods.length === 3 && ready.length === 3 && ready.every((p) => !before.has(p.metadata!.name!));
    };
    const loads: Load[] = [];
    const restarted = (async () => {
      await new Promise((r) => setTimeout(r, 500));
      await cluster.store.mutate('Deployment', 'default', 'web', (d) => {
        const spec = d.spec as { template: { metadata?: { annotations?: Record<string, string> } } };
        const meta = spec.template.metadata ?? {};
        return { ...d, spec: { ...spec, template: { ...spec.template, metadata: { ...meta, annotations: { ...meta.annotations, 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } };
      });
    })();
    // Load in bounded 3 s runs until the rollout has finished (and one run after it).
    let done = false;
    for (let i = 0; i < 15 && !done; i++) {
      done = await rolledOut();
      loads.push(await (hasWrk ? wrkFor(url, 3) : loopFor(url, 3)));
    }
    await restarted;
    expect(done).toBe(true);
    const total = loads.reduce((t, l) => ({ requests: t.requests + l.requests, non2xx: t.non2xx + l.non2xx, socketErrors: t.socketErrors + l.socketErrors }), { requests: 0, non2xx: 0, socketErrors: 0 });
    const detail = loads.map((l) => l.detail).join('\n');
    if (process.env.KNET_E2E_VERBOSE) console.log(`rollout under load: ${loads.length} runs, ${JSON.stringify(total)}`);
    expect(total.requests, detail).toBeGreaterThan(0);
    expect({ non2xx: total.non2xx, socketErrors: total.socketErrors }, detail).toEqual({ non2xx: 0, socketErrors: 0 });
    // And the new pods are the ones serving now.
    const after = new Set((await readyPods(cluster, { app: 'web' })).map((p) => p.metadata!.name!));
    expect(new Set(await hostnames(url, 3))).toEqual(after);
  }, 60_000);
});
