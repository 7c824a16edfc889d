/**
 * The state store crashes under a running cluster and comes back by itself (here through the
 * Node test API, everything in this process; test/e2e/store-recovery-cli.test.ts does it with
 * one process per component). kill -9 of redis-server with writes in flight and a watch open:
 * nothing the store acknowledged is lost, the watch sees every object without relisting, the
 * data plane serves while the store is away, a command says in one line that the store is not
 * answering, and everything works after the restart. A hung store does not hold close().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { cliEntry } from '../../dataplane/cluster/cluster.js';
import { StoreInformerFactory } from '../../dataplane/base/store/watch.js';
import { parseRedisUrl } from '../../dataplane/base/store/redis-connection.js';
import { StoreError } from '../../dataplane/base/store/errors.js';
import type { ObjectStore } from '../../dataplane/base/store/object-store.js';
import { waitUntil } from '../../dataplane/cluster/wait-until.js';
import { pidAlive } from '../../dataplane/cluster/state-dir.js';
import { killStoreAndHoldPort } from '../support/store-outage.js';

const exec = promisify(execFile);

const web = (replicas: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'agnhost', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080'], ports: [{ containerPort: 8080 }] }] },
    },
  },
});
const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } };

/**
 * Creates ConfigMaps from `parallel` loops until stopped, remembering which the store
 * acknowledged. A create whose reply was lost to the crash is sent again once the store is
 * back (ioredis resends what was in flight) and may find its object there: AlreadyExists,
 * as a client of the apiserver can see after a timeout. That is not an acknowledgement.
 */
class Writer {
  readonly acknowledged = new Set<string>();
  readonly errors: unknown[] = [];
  private next = 0;
  private stopped = false;
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  private loops: Array<Promise<void>> = [];

  constructor(private readonly store: ObjectStore) {}

  start(parallel: number): void {
    for (let i = 0; i < parallel; i++) this.loops.push(this.loop());
  }

  /** Resolves once `n` creates in all were acknowledged. */
  acked(n: number): Promise<void> {
    if (this.acknowledged.size >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const name = `cm-${this.next++}`;
      try {
        await this.store.create<ConfigMap & { kind: 'ConfigMap' }>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { name } });
        this.acknowledged.add(name);
        this.waiters = this.waiters.filter((w) => (w.n <= this.acknowledged.size ? (w.resolve(), false) : true));
      } catch (err) {
        if (!(err instanceof StoreError && err.reason === 'AlreadyExists')) this.errors.push(err);
      }
    }
  }
}

describe('the state store crashing under a running cluster (test API, one process)', () => {
  let cluster: KnetCluster;
  let port: number;
  const knet = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await exec(process.execPath, [cliEntry(), ...args, '--state-dir', cluster.ref.stateDir, '--cluster', cluster.name], { timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };

  beforeAll(async () => {
    cluster = await startCluster({ components: { dns: false, ingress: false }, manifests: [web(2), service] });
    port = parseRedisUrl(cluster.ref.redisUrl).hosts[0]!.port;
  }, 60_000);
  afterAll(() => cluster?.close());

  it('comes back from its append-only file: nothing acknowledged is lost, the watch resumes, the data plane serves throughout', async () => {
    const watch = new StoreInformerFactory(cluster.store, { redisUrl: cluster.ref.redisUrl });
    const seen = new Set<string>();
    watch.informer<ConfigMap & { kind: 'ConfigMap' }>('ConfigMap').on({ add: (o) => seen.add(o.metadata!.name!) });
    await watch.waitForSync();
    const relists = watch.stats.relists;
    const { host, port: svcPort } = await cluster.serviceAddress('web');
    const writer = new Writer(cluster.store);
    try {
      writer.start(4);
      await writer.acked(30);

      // 1. Killed under writes: the supervisor restarts it, the writes go on.
      const first = cluster.pids().redis!;
      process.kill(first, 'SIGKILL');
      await writer.acked(writer.acknowledged.size + 30);
      expect(cluster.pids().redis).not.toBe(first);

      // 2. Killed and kept away (its port taken): the data plane serves, commands fail in one line.
      const held = await killStoreAndHoldPort(port, () => cluster.pids().redis);
      try {
        const get = await knet('get', 'pods');
        expect(get.code).toBe(1);
        expect(get.stdout).toBe('');
        expect(get.stderr).toMatch(new RegExp(`^error: the state store of cluster "${cluster.name}" at 127\\.0\\.0\\.1:${port} is not answering \\(knet up restarts it\\); [^\\n]+\\n$`));
        for (let i = 0; i < 4; i++) {
          const res = await cluster.fetch(`http://${host}:${svcPort}/hostname`);
          expect(res.status).toBe(200);
          expect(await res.text()).toMatch(/^web-/);
        }
        expect(writer.errors).toEqual([]);
      } finally {
        await held.release();
      }
      await writer.acked(writer.acknowledged.size + 30);
    } finally {
      await writer.stop();
    }

    // The watch catches up with the store: it holds what the store holds, and saw every add.
    const rv = await cluster.store.currentResourceVersion();
    await waitUntil(() => watch.resourceVersion >= rv, { informers: watch, kinds: ['ConfigMap'], timeoutMs: 10_000, onTimeout: () => new Error(`the watch stayed at ${watch.resourceVersion} < ${rv}`) });
    const stored = new Set((await cluster.store.list('ConfigMap', 'default')).items.map((o) => o.metadata!.name!));
    await watch.close();
    expect([...writer.acknowledged].filter((n) => !stored.has(n))).toEqual([]);
    expect([...stored].filter((n) => !seen.has(n))).toEqual([]);
    expect(watch.stats.relists).toBe(relists);
    expect(writer.errors).toEqual([]);

    // All is well: commands work, and the controllers and nodes act on new writes.
    const get = await knet('get', 'pods');
    expect(get.stderr).toBe('');
    expect(get.stdout.trim().split('\n').slice(1)).toHaveLength(2);
    await cluster.apply(web(3));
    expect(await cluster.waitForEndpoints('web', 3)).toHaveLength(3);
  }, 120_000);

  it('does not hold close() when it hangs, and commands say it does not answer', async () => {
    const pid = cluster.pids().redis!;
    process.kill(pid, 'SIGSTOP');
    const get = await knet('get', 'pods');
    expect(get.code).toBe(1);
    expect(get.stderr).toBe(`error: the state store of cluster "${cluster.name}" at 127.0.0.1:${port} is not answering (knet up restarts it); no answer within 2 s\n`);
    await cluster.close();
    expect(pidAlive(pid)).toBe(false);
  }, 60_000);
});
