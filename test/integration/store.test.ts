import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { connectRedis } from '../../dataplane/store/redis-connection.js';
import { ObjectStore } from '../../dataplane/store/object-store.js';
import { StoreInformerFactory } from '../../dataplane/store/watch.js';
import { StoreError } from '../../dataplane/store/errors.js';
import type { AnyObject } from '../../dataplane/model/object.js';

let redis: TestRedis;
let clusterSeq = 0;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.cleanup();
});

function newStore(opts: { eventRetention?: number } = {}): ObjectStore {
  return new ObjectStore(connectRedis(redis.url), `t${++clusterSeq}`, opts);
}

function cm(name: string, data: Record<string, string> = {}): AnyObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('object store', () => {
  it('creates with uid, creationTimestamp, generation and a resourceVersion', async () => {
    const store = newStore();
    const created = await store.create(cm('a'));
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.generation).toBe(1);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    const read = await store.get('ConfigMap', 'default', 'a');
    expect(read).toEqual(created);
    await expect(store.create(cm('a'))).rejects.toThrow('configmaps "a" already exists');
    await store.close();
  });

  it('keeps status apart from spec and bumps generation only on spec change', async () => {
    const store = newStore();
    const svc: AnyObject = { kind: 'Service', apiVersion: 'v1', metadata: { name: 's', namespace: 'default' }, spec: { ports: [{ port: 80 }] } };
    const created = await store.create(svc);
    const withStatus = await store.updateStatus({ ...created, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } });
    const updated = await store.update({ ...svc, metadata: { ...svc.metadata, labels: { a: 'b' } }, status: { bogus: true } });
    expect(updated.status).toEqual(withStatus.status);
    expect(updated.metadata?.generation).toBe(1);
    const changed = await store.update({ ...svc, spec: { ports: [{ port: 81 }] } });
    expect(changed.metadata?.generation).toBe(2);
    await store.close();
  });

  it('rejects a write against a stale resourceVersion (409 Conflict)', async () => {
    const store = newStore();
    const created = await store.create(cm('c'));
    await store.update({ ...created, data: { x: '1' } });
    await expect(store.update({ ...created, data: { x: '2' } })).rejects.toThrow(/the object has been modified/);
    await store.close();
  });

  it('mutate: writes against the object it read, retries on a conflict, and with status: true writes only status', async () => {
    const store = newStore();
    const svc: AnyObject = { kind: 'Service', apiVersion: 'v1', metadata: { name: 'm', namespace: 'default' }, spec: { ports: [{ port: 80 }] } };
    await store.create(svc);
    // A writer that slips in between mutate's read and its write forces one retry.
    let calls = 0;
    const after = await store.mutate<AnyObject>('Service', 'default', 'm', (cur) => {
      calls++;
      return { ...cur, metadata: { ...cur.metadata, labels: { n: String(calls) } } };
    });
    expect(after?.metadata?.labels).toEqual({ n: '1' });
    // Another writer lands right after mutate's first read: its write conflicts, and the retry
    // starts from the other writer's version.
    const get = store.get.bind(store);
    let raced = false;
    store.get = (async (...args: Parameters<typeof get>) => {
      const read = await get(...args);
      if (!raced && read) {
        raced = true;
        await store.update({ ...read, metadata: { ...read.metadata, labels: { n: 'other' } } });
      }
      return read;
    }) as typeof store.get;
    calls = 0;
    const raced2 = await store.mutate<AnyObject>('Service', 'default', 'm', (cur) => {
      calls++;
      return { ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata?.labels, mine: 'yes' } } };
    });
    store.get = get;
    expect(calls).toBe(2);
    expect(raced2?.metadata?.labels).toEqual({ n: 'other', mine: 'yes' });
    const withStatus = await store.mutate<AnyObject>('Service', 'default', 'm', (cur) => ({ ...cur, spec: { ports: [{ port: 99 }] }, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } }), { status: true });
    expect(withStatus?.spec).toEqual(svc.spec);
    const read = await store.get<AnyObject>('Service', 'default', 'm');
    expect(read).toEqual(withStatus);
    expect(read?.status).toEqual({ loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } });
    await store.close();
  });

  it('cascades deletes through ownerReferences', async () => {
    const store = newStore();
    const owner = await store.create(cm('owner'));
    await store.create({ ...cm('child'), metadata: { name: 'child', namespace: 'default', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! }] } });
    await store.create(cm('unrelated'));
    await store.delete('ConfigMap', 'default', 'owner');
    const left = (await store.list('ConfigMap')).items.map((o) => o.metadata?.name);
    expect(left).toEqual(['unrelated']);
    await store.close();
  });

  it('terminates a scheduled pod gracefully instead of removing it', async () => {
    const store = newStore();
    await store.create({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p', namespace: 'default' }, spec: { nodeName: 'node-1', terminationGracePeriodSeconds: 30, containers: [] } });
    const terminating = await store.delete('Pod', 'default', 'p');
    expect(terminating.metadata?.deletionTimestamp).toBeDefined();
    expect(terminating.metadata?.deletionGracePeriodSeconds).toBe(30);
    expect(await store.get('Pod', 'default', 'p')).toBeDefined();
    await store.delete('Pod', 'default', 'p', { gracePeriodSeconds: 0 });
    expect(await store.get('Pod', 'default', 'p')).toBeUndefined();
    await store.close();
  });

  it('lets exactly one of two concurrent writers claim the same allocation', async () => {
    const store = newStore();
    const results = await Promise.allSettled(
      ['a', 'b'].map((name) => {
        const obj = store.prepareCreate(cm(name));
        return store.commit([{ kind: 'ConfigMap', key: `default/${name}`, mode: 'create', json: store.serialize(obj), claims: [['nodeport', '30080']], owner: `ConfigMap/default/${name}` }], [obj]);
      }),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(StoreError);
    expect(String(rejected.reason.causes)).toContain('provided port is already allocated');
    await store.close();
  });

  it('writes a batch all or nothing', async () => {
    const store = newStore();
    await store.create(cm('exists'));
    const a = store.prepareCreate(cm('new-one'));
    const b = store.prepareCreate(cm('exists'));
    await expect(
      store.commit(
        [
          { kind: 'ConfigMap', key: 'default/new-one', mode: 'create', json: store.serialize(a) },
          { kind: 'ConfigMap', key: 'default/exists', mode: 'create', json: store.serialize(b) },
        ],
        [a, b],
      ),
    ).rejects.toThrow('already exists');
    expect(await store.get('ConfigMap', 'default', 'new-one')).toBeUndefined();
    await store.close();
  });
});

describe('informers over the watch', () => {
  it('delivers adds, updates and deletes in write order with old and new objects', async () => {
    const store = newStore();
    await store.create(cm('before'));
    const factory = new StoreInformerFactory(store, { redisUrl: redis.url, blockMs: 500 });
    const inf = factory.informer<AnyObject>('ConfigMap');
    const seen: string[] = [];
    inf.on({
      add: (o) => seen.push(`add ${o.metadata?.name}`),
      update: (old, o) => seen.push(`update ${o.metadata?.name} ${JSON.stringify(old.data)}->${JSON.stringify(o.data)}`),
      delete: (o) => seen.push(`delete ${o.metadata?.name}`),
    });
    await factory.waitForSync();
    expect(inf.list().map((o) => o.metadata?.name)).toEqual(['before']);
    const x = await store.create(cm('x'));
    await store.update({ ...x, data: { k: 'v' } });
    await store.delete('ConfigMap', 'default', 'x');
    await until(() => seen.length === 4, 'four events');
    expect(seen).toEqual(['add before', 'add x', 'update x {}->{"k":"v"}', 'delete x']);
    await factory.close();
    await store.close();
  });

  it('resumes after a disconnect and sees every one of 1,000 writes made meanwhile', async () => {
    const store = newStore();
    const factory = new StoreInformerFactory(store, { redisUrl: redis.url, blockMs: 500 });
    const inf = factory.informer('ConfigMap');
    const added = new Set<string>();
    inf.on({ add: (o) => added.add(o.metadata!.name!) });
    await factory.waitForSync();
    // Kill the watch connection from the server side, then write while it reconnects.
    const admin = connectRedis(redis.url);
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await Promise.all(Array.from({ length: 1000 }, (_, i) => store.create(cm(`w${i}`))));
    await until(() => added.size === 1000, '1000 adds');
    expect(factory.stats.relists).toBe(1);
    admin.disconnect();
    await factory.close();
    await store.close();
  });

  it('relists when the stream was trimmed past its version and emits only the difference', async () => {
    const store = newStore({ eventRetention: 5 });
    const keep = await store.create(cm('keep'));
    await store.create(cm('gone'));
    const factory = new StoreInformerFactory(store, { redisUrl: redis.url, blockMs: 300 });
    const inf = factory.informer('ConfigMap');
    await factory.waitForSync();
    await factory.close();
    const events: string[] = [];
    inf.on({ add: (o) => events.push(`add ${o.metadata?.name}`), update: (_o, n) => events.push(`update ${n.metadata?.name}`), delete: (o) => events.push(`delete ${o.metadata?.name}`) });
    // While nobody watches: change, delete, add, then push the history out of the stream.
    await store.update({ ...keep, data: { v: '2' } });
    await store.delete('ConfigMap', 'default', 'gone');
    await store.create(cm('new'));
    for (let i = 0; i < 200; i++) await store.create(cm(`filler${i}`));
    for (let i = 0; i < 200; i++) await store.delete('ConfigMap', 'default', `filler${i}`);
    await store.redis.xtrim(store.keys.events, 'MAXLEN', 3);
    // Resume the same caches from the old version through a new watch.
    const resumed = new StoreInformerFactory(store, { redisUrl: redis.url, blockMs: 300 });
    (resumed as unknown as { caches: Map<string, unknown> }).caches.set('ConfigMap', inf);
    (resumed as unknown as { lastRv: number }).lastRv = Number(keep.metadata!.resourceVersion) + 1;
    (resumed as unknown as { needRelist: boolean }).needRelist = false;
    resumed.informer('ConfigMap');
    await until(() => resumed.stats.relists === 1 && events.length >= 3, 'relist');
    expect(events.sort()).toEqual(['add new', 'delete gone', 'update keep']);
    await resumed.close();
    await store.close();
  });

  it('loses nothing across a SIGKILL of Redis, and watchers resume', async () => {
    const store = newStore();
    const factory = new StoreInformerFactory(store, { redisUrl: redis.url, blockMs: 300 });
    const inf = factory.informer('ConfigMap');
    await factory.waitForSync();
    for (let i = 0; i < 50; i++) await store.create(cm(`k${i}`));
    await until(() => inf.list().length === 50, 'first 50');
    redis = await redis.crashAndRestart();
    expect((await store.list('ConfigMap')).items).toHaveLength(50);
    // The cache kept serving while Redis was away, and the watch comes back by itself.
    expect(inf.list()).toHaveLength(50);
    await store.create(cm('after-restart'));
    await until(() => inf.get('default', 'after-restart') !== undefined, 'write after restart');
    await factory.close();
    await store.close();
  });
});
