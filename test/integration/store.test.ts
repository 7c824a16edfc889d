import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { connectRedis } from '../../dataplane/base/store/redis-connection.js';
import { ObjectStore } from '../../dataplane/base/store/object-store.js';
import { StoreInformerFactory } from '../../dataplane/base/store/watch.js';
import { StoreError } from '../../dataplane/base/store/errors.js';
import type { AnyObject } from '../../dataplane/base/model/object.js';

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
  it('creates with uid, creationTimestamp, a resourceVersion and (only for the kinds that keep one) generation', async () => {
    const store = newStore();
    const created = await store.create(cm('a'));
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata).not.toHaveProperty('generation');
    const np = await store.create<AnyObject>({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'np', namespace: 'default' }, spec: { podSelector: {} } });
    expect(np.metadata?.generation).toBe(1);
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
    // A Service has no generation (its registry strategy keeps none), whatever changes.
    const changed = await store.update({ ...svc, spec: { ports: [{ port: 81 }] } });
    expect(changed.metadata).not.toHaveProperty('generation');
    const ing: AnyObject = { kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', metadata: { name: 'i', namespace: 'default' }, spec: { ingressClassName: 'a' } };
    await store.create(ing);
    const relabeled = await store.update({ ...ing, metadata: { ...ing.metadata, labels: { a: 'b' }, generation: 7 } });
    expect(relabeled.metadata?.generation).toBe(1);
    const respecced = await store.update({ ...ing, spec: { ingressClassName: 'b' } });
    expect(respecced.metadata?.generation).toBe(2);
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

  it('commits a delete op as given: the object goes, with a DELETED event, and no other object is touched', async () => {
    const store = newStore();
    const owner = await store.create(cm('owner'));
    await store.create({ ...cm('child'), metadata: { name: 'child', namespace: 'default', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! }] } });
    const scans = vi.spyOn(store, 'listKinds');
    await store.commit([{ kind: 'ConfigMap', key: 'default/owner', mode: 'delete', expectRv: owner.metadata?.resourceVersion }]);
    // Dependents are the garbage collector's (a controller), not the store's.
    expect((await store.list('ConfigMap')).items.map((o) => o.metadata?.name)).toEqual(['child']);
    expect(scans).toHaveBeenCalledTimes(1); // the list just above, nothing in the delete
    const [last] = (await store.redis.xrevrange(store.keys.events, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
    expect(last![1].slice(0, 6)).toEqual(['type', 'DELETED', 'kind', 'ConfigMap', 'key', 'default/owner']);
    await store.close();
  });

  it('expires objects at their expireAt, each with a DELETED event, and renews the expiry on every write', async () => {
    const store = newStore();
    const informers = new StoreInformerFactory(store, { redisUrl: redis.url, blockMs: 200 });
    const events = informers.informer('Event');
    await informers.waitForSync();
    const t0 = Date.now();
    const ev = (name: string): AnyObject => ({ apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'p' }, reason: 'R', message: name });
    await store.create(ev('soon'), { expireAt: t0 + 1_000 });
    await store.create(ev('later'), { expireAt: t0 + 5_000 });
    await store.mutate('Event', 'default', 'soon', (e) => ({ ...e, count: 2 }) as AnyObject, { extra: { expireAt: t0 + 3_000 } });
    expect(await store.expire(t0 + 2_000)).toBe(0); // renewed by the update
    expect(await store.expire(t0 + 3_000)).toBe(1);
    await until(() => events.list().map((e) => e.metadata?.name).join() === 'later', 'the expiry to reach the informer');
    expect(await store.get('Event', 'default', 'soon')).toBeUndefined();
    // A deleted object leaves no expiry behind.
    await store.commit([{ kind: 'Event', key: 'default/later', mode: 'delete' }]);
    expect(await store.redis.zcard(store.keys.expiry)).toBe(0);
    await informers.close();
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
    await store.commit([{ kind: 'ConfigMap', key: 'default/x', mode: 'delete' }]);
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
    // (The replay of what the cache holds now is not what this test is about.)
    inf.on({ add: (o, initial) => !initial && events.push(`add ${o.metadata?.name}`), update: (_o, n) => events.push(`update ${n.metadata?.name}`), delete: (o) => events.push(`delete ${o.metadata?.name}`) });
    // While nobody watches: change, delete, add, then push the history out of the stream.
    await store.update({ ...keep, data: { v: '2' } });
    await store.commit([{ kind: 'ConfigMap', key: 'default/gone', mode: 'delete' }]);
    await store.create(cm('new'));
    for (let i = 0; i < 200; i++) await store.create(cm(`filler${i}`));
    for (let i = 0; i < 200; i++) await store.commit([{ kind: 'ConfigMap', key: `default/filler${i}`, mode: 'delete' }]);
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
