/**
 * `--redis URL` against the Redis deployments users already run: the store, the commit
 * script and the watch through a redis-sentinel:// URL (including a failover) and a
 * redis-cluster:// URL (three masters; every key of a knet cluster in one slot); and a
 * component started alone against a running cluster's Redis, as another machine joins one:
 * `knet node node-3 --redis URL --cluster NAME` (needs the build: `npm run build`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { connectRedis, parseRedisUrl, redactUrl } from '../../dataplane/base/store/redis-connection.js';
import { ObjectStore } from '../../dataplane/base/store/object-store.js';
import { StoreInformerFactory } from '../../dataplane/base/store/watch.js';
import { StoreKeys } from '../../dataplane/base/store/keys.js';
import { Redis } from 'ioredis';
import type { AnyObject, KObject } from '../../dataplane/base/model/object.js';
import { startCluster } from '../../dataplane/testing/index.js';
import { cliEntry, launchCluster } from '../../dataplane/cluster/cluster.js';
import type { ClusterFile } from '../../dataplane/cluster/state-dir.js';
import { nodeIP, podSubnet, type ClusterConfig } from '../../dataplane/base/cluster-config.js';
import { startClusterTopology, startSentinelTopology, type ClusterTopology, type SentinelTopology } from '../support/redis-topologies.js';
import { deleteObject } from '../../dataplane/base/admission/writes.js';

let seq = 0;

function cm(name: string, data: Record<string, string> = {}): AnyObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data };
}

async function until<T>(check: () => T | false | undefined | Promise<T | false | undefined>, what: string | (() => string), timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Seen {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  name: string;
  rv: number;
}

/** A store and a watch over one URL, recording every ConfigMap event in order. */
async function open(url: string, cluster = `topo${process.pid}x${++seq}`) {
  const store = new ObjectStore(connectRedis(url), cluster);
  const informers = new StoreInformerFactory(store, { redisUrl: url, blockMs: 1000 });
  const seen: Seen[] = [];
  const record = (type: Seen['type']) => (o: KObject) => seen.push({ type, name: o.metadata?.name ?? '', rv: Number(o.metadata?.resourceVersion) });
  const configMaps = informers.informer('ConfigMap');
  configMaps.on({ add: record('ADDED'), update: (_old, o) => record('MODIFIED')(o), delete: record('DELETED') });
  await informers.waitForSync();
  return {
    store,
    informers,
    configMaps,
    seen,
    async close() {
      await informers.close();
      await store.close();
    },
  };
}

/**
 * What every topology must do: writes (single and batched), a conflict, an allocation
 * collision, deletes; the watch sees each write once, in resourceVersion order; listKinds
 * reads every kind at one version.
 */
async function exerciseStore(url: string): Promise<void> {
  const s = await open(url);
  try {
    const a = await s.store.create(cm('a', { v: '1' }));
    const b = await s.store.create(cm('b'));
    const a2 = await s.store.update({ ...a, data: { v: '2' } });
    await expect(s.store.update({ ...a, data: { v: 'stale' } })).rejects.toThrow(/the object has been modified/);
    await expect(s.store.create(cm('a'))).rejects.toThrow(/already exists/);
    // One commit, several objects and an allocation: the apply path (all or nothing).
    const batch = [s.store.prepareCreate(cm('c')), s.store.prepareCreate(cm('d'))];
    const rvs = await s.store.commit(
      batch.map((o, i) => ({ kind: 'ConfigMap', key: `default/${o.metadata!.name}`, mode: 'create', json: s.store.serialize(o), owner: `ConfigMap/default/${o.metadata!.name}`, claims: i === 0 ? [['nodeport', '30080']] : [] })),
      batch,
    );
    expect(rvs).toEqual([rvs[0], rvs[0]! + 1]);
    // Another owner claiming the same value fails and writes nothing.
    const clash = s.store.prepareCreate(cm('e'));
    const failed = s.store.commit(
      [
        { kind: 'ConfigMap', key: 'default/f', mode: 'create', json: s.store.serialize(s.store.prepareCreate(cm('f'))) },
        { kind: 'ConfigMap', key: 'default/e', mode: 'create', json: s.store.serialize(clash), owner: 'ConfigMap/default/e', claims: [['nodeport', '30080']] },
      ],
      [s.store.prepareCreate(cm('f')), clash],
    );
    await expect(failed).rejects.toThrow(/30080 is already allocated to ConfigMap\/default\/c/);
    await deleteObject(s.store, 'ConfigMap', 'default', 'b');
    await expect(s.store.get('ConfigMap', 'default', 'f')).resolves.toBeUndefined();

    const last = await s.store.currentResourceVersion();
    await until(() => s.informers.resourceVersion === last, `the watch to reach resourceVersion ${last}`);
    expect(s.seen.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED a', 'ADDED b', 'MODIFIED a', 'ADDED c', 'ADDED d', 'DELETED b']);
    const order = s.seen.map((e) => e.rv);
    expect(order).toEqual([...order].sort((x, y) => x - y));
    expect(order[2]).toBe(Number(a2.metadata?.resourceVersion));
    expect(order[1]).toBe(Number(b.metadata?.resourceVersion));
    expect(s.configMaps.list().map((o) => o.metadata?.name).sort()).toEqual(['a', 'c', 'd']);

    const { resourceVersion, byKind } = await s.store.listKinds(['ConfigMap', 'Secret']);
    expect(resourceVersion).toBe(last);
    expect(byKind.get('ConfigMap')!.map((o) => o.metadata?.name).sort()).toEqual(['a', 'c', 'd']);
    expect(byKind.get('Secret')).toEqual([]);
    expect((await s.store.list('ConfigMap', 'default')).items.map((o) => o.metadata?.name)).toEqual(['a', 'c', 'd']);
  } finally {
    await s.close();
  }
}

describe('parseRedisUrl', () => {
  it.each([
    ['redis://:pw@127.0.0.1:7000/2', { scheme: 'redis', hosts: [{ host: '127.0.0.1', port: 7000 }], password: 'pw', db: 2 }],
    ['redis://u:p%40ss@h', { scheme: 'redis', hosts: [{ host: 'h', port: 6379 }], username: 'u', password: 'p@ss', db: 0 }],
    ['redis://p@ss@h:1', { scheme: 'redis', hosts: [{ host: 'h', port: 1 }], password: 'p@ss', db: 0 }],
    ['rediss://h', { scheme: 'rediss', hosts: [{ host: 'h', port: 6379 }], db: 0 }],
    [
      'redis-sentinel://:pw@10.0.0.1:26379,10.0.0.2,[::1]:26380/prod',
      { scheme: 'redis-sentinel', hosts: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }, { host: '::1', port: 26380 }], password: 'pw', db: 0, masterName: 'prod', sentinelPassword: 'pw' },
    ],
    ['redis-sentinel://:pw@s1/m?sentinelPassword=', { scheme: 'redis-sentinel', hosts: [{ host: 's1', port: 26379 }], password: 'pw', db: 0, masterName: 'm', sentinelPassword: undefined }],
    ['redis-sentinel://s1:1', { scheme: 'redis-sentinel', hosts: [{ host: 's1', port: 1 }], db: 0, masterName: 'mymaster', sentinelPassword: undefined }],
    ['redis-cluster://:pw@h:7000,h:7001', { scheme: 'redis-cluster', hosts: [{ host: 'h', port: 7000 }, { host: 'h', port: 7001 }], password: 'pw', db: 0 }],
  ])('%s', (url, want) => {
    expect(parseRedisUrl(url)).toEqual(want);
  });

  it.each([
    ['http://h', /unsupported Redis URL "http:\/\/h"/],
    ['redis://:secret@h/x', /"redis:\/\/:\*\*\*@h\/x": the path must be a database number/],
    ['redis-cluster://h:1/x', /no path/],
    ['redis://h:70000', /port 70000 is out of range/],
    ['redis://h:1:2', /cannot read the host "h:1:2"/],
  ])('rejects %s', (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(message);
  });

  it('redacts passwords', () => {
    expect(redactUrl('redis-sentinel://:s3cr@t@h:1,h:2/m?sentinelPassword=x')).toBe('redis-sentinel://:***@h:1,h:2/m?sentinelPassword=***');
    expect(redactUrl('redis://user:pw@h')).toBe('redis://user:***@h');
    expect(redactUrl('redis://h:1')).toBe('redis://h:1');
  });
});

// Both topologies start side by side (Sentinel discovery and cluster creation are mostly waiting).
let sentinel: Promise<SentinelTopology> | undefined;
let redisCluster: Promise<ClusterTopology> | undefined;
beforeAll(() => {
  sentinel = startSentinelTopology();
  redisCluster = startClusterTopology();
  // Failures surface in the suites that await them.
  sentinel.catch(() => {});
  redisCluster.catch(() => {});
});
afterAll(async () => {
  await Promise.allSettled([sentinel?.then((t) => t.cleanup()), redisCluster?.then((t) => t.cleanup())]);
});

describe('Redis Sentinel (redis-sentinel://)', () => {
  let topo: SentinelTopology;
  beforeAll(async () => {
    topo = await sentinel!;
  });

  it('stores, commits and watches through the Sentinels', async () => {
    await exerciseStore(topo.url);
  });

  it('a watch notices history rewritten under it (a failover to a replica that lagged) and relists', async () => {
    const s = await open(topo.url);
    const direct = topo.node(await topo.masterPort());
    try {
      for (const n of ['k1', 'k2', 'k3']) await s.store.create(cm(n));
      // What a lagging replica holds: every key of this knet cluster as of now.
      const keys = [s.store.keys.rv, s.store.keys.events, s.store.keys.objects('ConfigMap')];
      const snapshot = await Promise.all(keys.map((k) => direct.dumpBuffer(k)));
      for (const n of ['k4', 'k5', 'k6', 'k7', 'k8']) await s.store.create(cm(n));
      const seenRv = await s.store.currentResourceVersion();
      await until(() => s.informers.resourceVersion === seenRv, 'the watch to see k4…k8');
      const relists = s.informers.stats.relists;

      // "Fail over" to it: the data goes back to the snapshot, clients are disconnected (as
      // Sentinel does), and new writes carry the versions past the one the watch saw.
      await Promise.all(keys.map((k, i) => direct.restore(k, 0, snapshot[i]!, 'REPLACE')));
      await direct.call('CLIENT', 'KILL', 'TYPE', 'normal');
      for (const n of ['n1', 'n2', 'n3', 'n4', 'n5', 'n6']) await s.store.create(cm(n));
      const last = await s.store.currentResourceVersion();
      expect(last).toBeGreaterThan(seenRv);

      await until(() => s.informers.resourceVersion === last, `the watch to reach resourceVersion ${last}`);
      const want = ['k1', 'k2', 'k3', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
      expect(s.configMaps.list().map((o) => o.metadata?.name).sort()).toEqual(want);
      expect(s.informers.stats.relists).toBeGreaterThan(relists);
      // Handlers heard the difference: k4…k8 deleted, n1…n6 added.
      const after = s.seen.slice(8).map((e) => `${e.type} ${e.name}`).sort();
      expect(after).toEqual([...['k4', 'k5', 'k6', 'k7', 'k8'].map((n) => `DELETED ${n}`), ...want.slice(3).map((n) => `ADDED ${n}`)].sort());
    } finally {
      direct.disconnect();
      await s.close();
    }
  });

  it('keeps writing and watching across a failover, on the new master', async () => {
    const s = await open(topo.url);
    try {
      for (const n of ['x1', 'x2', 'x3']) await s.store.create(cm(n));
      await until(() => s.seen.length === 3, 'the first three events');

      // A writer that keeps going through the failover. Replication is asynchronous, so what
      // the old master acknowledged after the promotion is lost (Redis Sentinel's documented
      // behaviour); what must hold is that the watch ends up agreeing with the store.
      let writing = true;
      const written: string[] = [];
      const failures: string[] = [];
      const writer = (async () => {
        for (let i = 0; writing; i++) {
          try {
            await s.store.create(cm(`during-${i}`));
            written.push(`during-${i}`);
          } catch (err) {
            failures.push((err as Error).message);
          }
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const { from, to } = await topo.failover();
      writing = false;
      await writer;
      expect(from).not.toBe(to);
      expect(failures).toEqual([]);

      const names = (items: KObject[]) => items.map((o) => o.metadata?.name ?? '').sort();
      const settled = await until(async () => {
        const rv = await s.store.currentResourceVersion();
        const stored = names((await s.store.list('ConfigMap')).items);
        return s.informers.resourceVersion === rv && JSON.stringify(names(s.configMaps.list())) === JSON.stringify(stored) && stored;
      }, 'the watch to agree with the store after the failover');
      // x1…x3 were replicated before the failover (it waits for the replica): never lost.
      expect(settled.filter((n) => n.startsWith('x'))).toEqual(['x1', 'x2', 'x3']);
      const lost = written.filter((n) => !settled.includes(n));

      // After the failover: writes land on the new master and the watch sees them in order.
      const before = s.seen.length;
      const x1 = await s.store.get('ConfigMap', 'default', 'x1');
      await s.store.update({ ...x1!, data: { after: 'failover' } });
      await deleteObject(s.store, 'ConfigMap', 'default', 'x2');
      await s.store.create(cm('y1'));
      const direct = topo.node(to);
      try {
        expect(JSON.parse((await direct.hget(s.store.keys.objects('ConfigMap'), 'default/y1'))!).metadata.name).toBe('y1');
        expect(await direct.hexists(s.store.keys.objects('ConfigMap'), 'default/x2')).toBe(0);
      } finally {
        direct.disconnect();
      }
      const last = await s.store.currentResourceVersion();
      await until(() => s.informers.resourceVersion === last, `the watch to reach resourceVersion ${last}`);
      expect(s.seen.slice(before).map((e) => `${e.type} ${e.name}`)).toEqual(['MODIFIED x1', 'DELETED x2', 'ADDED y1']);
      expect(s.seen.slice(before).map((e) => e.rv)).toEqual([last - 2, last - 1, last]);
      console.log(`failover ${from} -> ${to}: ${written.length} writes during it, ${lost.length} of them lost with the old master`);
    } finally {
      await s.close();
    }
  });
});

describe('Redis Cluster (redis-cluster://)', () => {
  let topo: ClusterTopology;
  beforeAll(async () => {
    topo = await redisCluster!;
  });

  it('stores, commits and watches through the cluster', async () => {
    await exerciseStore(topo.url);
  });

  it('keeps each knet cluster in one slot, whichever master serves it', async () => {
    // Find knet cluster names whose hash tag lands on each of the three masters.
    const byNode = new Map<number, string>();
    for (let i = 0; byNode.size < topo.ports.length && i < 200; i++) {
      const name = `slot${i}`;
      const node = await topo.nodeForKey(new StoreKeys(name).rv);
      if (!byNode.has(node)) byNode.set(node, name);
    }
    expect([...byNode.keys()].sort()).toEqual([...topo.ports].sort());
    for (const [port, name] of byNode) {
      const s = await open(topo.url, name);
      try {
        await s.store.create(cm('one'));
        await s.store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'two', namespace: 'default' } });
        await deleteObject(s.store, 'ConfigMap', 'default', 'one');
        const last = await s.store.currentResourceVersion();
        await until(() => s.informers.resourceVersion === last, `the watch of ${name} to reach ${last}`);
        expect(s.seen.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED one', 'DELETED one']);
        const { byKind } = await s.store.listKinds(['ConfigMap', 'Secret']);
        expect(byKind.get('Secret')!.map((o) => o.metadata?.name)).toEqual(['two']);
        // Every key the script built from the prefix is on the master the rv key routed it to.
        const direct = new Redis({ host: '127.0.0.1', port, password: topo.password });
        try {
          const keys = [s.store.keys.rv, s.store.keys.events, s.store.keys.objects('Secret')];
          expect(await Promise.all(keys.map((k) => direct.exists(k)))).toEqual([1, 1, 1]);
        } finally {
          direct.disconnect();
        }
      } finally {
        await s.close();
      }
    }
  });
});


/**
 * `knet node node-3 --redis URL --cluster NAME` in its own process, with a state dir that
 * knows nothing of the cluster (as on another machine): node-3 registers and goes Ready, and a
 * Pod bound to it gets an address in node-3's pod /24 and answers there.
 */
async function joinNode3(
  cluster: { name: string; config: ClusterConfig; store: ObjectStore; apply(pod: Pod): Promise<unknown> },
  redisUrl: string,
  via: '--redis' | 'KNET_REDIS_URL',
): Promise<void> {
  const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'knet-node3-'));
  const flag = via === '--redis' ? ['--redis', redisUrl] : [];
  const child = spawn(process.execPath, [cliEntry(), 'node', 'node-3', ...flag, '--cluster', cluster.name], {
    env: { ...process.env, KNET_STATE_DIR: elsewhere, KNET_REDIS_URL: via === 'KNET_REDIS_URL' ? redisUrl : '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const explain = (what: string) => `${what}; knet node output:\n${output.slice(-3000)}`;
  try {
    const node = await until(async () => {
      if (child.exitCode !== null) throw new Error(explain(`knet node exited with ${child.exitCode}`));
      const n = await cluster.store.get<Node>('Node', undefined, 'node-3');
      return n?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && n;
    }, () => explain('Node node-3 to be Ready'));
    expect(node.status?.addresses).toContainEqual({ type: 'InternalIP', address: nodeIP(cluster.config, 3) });

    await cluster.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'on-node-3', namespace: 'default' },
      spec: { nodeName: 'node-3', containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 8080 }] }] },
    });
    const pod = await until(async () => {
      const p = await cluster.store.get<Pod>('Pod', 'default', 'on-node-3');
      return p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && p;
    }, () => explain('pod on-node-3 to be Ready'));
    const podIP = pod.status!.podIP!;
    const subnet = podSubnet(cluster.config, 3);
    expect(podIP.split('.').slice(0, 3).join('.')).toBe(subnet.split('.').slice(0, 3).join('.'));
    expect(pod.status?.hostIP).toBe(nodeIP(cluster.config, 3));
    const body = await get(`http://${podIP}:8080/hello`);
    expect(JSON.parse(body)).toMatchObject({ pod: 'on-node-3', node: 'node-3', podIP, path: '/hello' });
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(elsewhere, { recursive: true, force: true });
  }
  expect(await exited, explain('knet node should stop cleanly on SIGTERM')).toBe(0);
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

describe('knet node node-3 --redis URL: a node started alone against a running cluster', () => {
  const lean = { proxy: false, dns: false, ingress: false };

  it('joins a cluster on its embedded Redis (the URL from cluster.json)', async () => {
    const cluster = await startCluster({ nodes: 2, components: lean });
    try {
      const file = JSON.parse(readFileSync(path.join(cluster.stateDir, 'cluster.json'), 'utf8')) as ClusterFile;
      expect(file.redisUrl).toMatch(/^redis:\/\//);
      await joinNode3({ name: cluster.name, config: cluster.config, store: cluster.store, apply: (pod) => cluster.apply(pod, { wait: false }) }, file.redisUrl, '--redis');
    } finally {
      await cluster.close();
    }
  });

  it.each([
    ['Sentinel', 'KNET_REDIS_URL', () => sentinel!],
    ['Cluster', '--redis', () => redisCluster!],
  ] as const)('joins a cluster kept in Redis %s (URL through %s)', async (_kind, via, topology) => {
    const url = (await topology()).url;
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'knet-topo-'));
    const cluster = await launchCluster({ name: `join${process.pid}x${++seq}`, stateDir, redisUrl: url, nodes: 2, mode: 'single-process', components: lean, removeStateOnClose: true, crashBackoffMs: 100 });
    try {
      await joinNode3({ ...cluster, apply: (pod) => cluster.apply([{ source: '<test>', index: 1, object: pod }]) }, url, via);
    } finally {
      await cluster.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
