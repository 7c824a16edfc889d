import { describe, expect, it } from 'vitest';
import { InformerCache } from '../../../dataplane/base/informer/informer-cache.js';
import type { RelistListener } from '../../../dataplane/base/store/watch.js';
import { KINDS, type KObject, type Kind } from '../../../dataplane/base/model/object.js';
import { TooOldError, WatchCache, type CacheEvent, type WatchSource } from '../../../dataplane/apiserver/watch-cache.js';

/** A watch source fed by hand: events with versions, and relists. */
class FakeSource implements WatchSource {
  readonly caches = new Map<Kind, InformerCache>();
  private readonly listeners = new Set<RelistListener>();
  resourceVersion = 0;
  informer<T extends KObject>(kind: Kind) {
    let c = this.caches.get(kind);
    if (!c) this.caches.set(kind, (c = new InformerCache(kind)));
    return c as unknown as InformerCache<T>;
  }
  async waitForSync() {}
  onRelist(l: RelistListener) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  relist(objects: KObject[], rv: number) {
    for (const l of this.listeners) l.start?.();
    for (const kind of Object.keys(KINDS) as Kind[]) this.informer(kind).replace(objects.filter((o) => o.kind === kind));
    this.resourceVersion = rv;
    for (const l of this.listeners) l.done?.(rv);
  }
  event(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KObject) {
    this.resourceVersion = Number(obj.metadata!.resourceVersion);
    this.informer(obj.kind as Kind).apply(type, obj);
  }
}

const cm = (name: string, rv: number, ns = 'default'): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, resourceVersion: String(rv) } });

async function started(capacity = 100) {
  const source = new FakeSource();
  const cache = new WatchCache(source, capacity);
  const starting = cache.start();
  source.relist([cm('b', 3), cm('a', 2), cm('z', 1, 'alpha')], 3);
  await starting;
  return { source, cache };
}

function collect(cache: WatchCache, from: number | undefined) {
  const events: CacheEvent[] = [];
  const expired: string[] = [];
  const stop = cache.watch({ kind: 'ConfigMap', onEvent: (e) => events.push(e), onExpired: (m) => expired.push(m) }, from);
  return { events, expired, stop };
}

describe('the apiserver watch cache', () => {
  it('lists sorted by namespace/name, per namespace too', async () => {
    const { cache } = await started();
    expect(cache.list('ConfigMap').map((o) => o.metadata!.name)).toEqual(['z', 'a', 'b']);
    expect(cache.list('ConfigMap', 'default').map((o) => o.metadata!.name)).toEqual(['a', 'b']);
    expect(cache.resourceVersion).toBe(3);
  });

  it('replays every event after a version from its window, then goes live', async () => {
    const { source, cache } = await started();
    source.event('ADDED', cm('c', 4));
    source.event('MODIFIED', cm('c', 5));
    const w = collect(cache, 4);
    source.event('DELETED', cm('c', 6));
    expect(w.events.map((e) => `${e.type} ${e.rv}`)).toEqual(['MODIFIED 5', 'DELETED 6']);
    expect(w.events[0]!.prev?.metadata?.resourceVersion).toBe('4');
    w.stop();
    source.event('ADDED', cm('d', 7));
    expect(w.events).toHaveLength(2);
  });

  it('refuses a version older than its window (410), after the window moved on', async () => {
    const { source, cache } = await started(2);
    for (let rv = 4; rv <= 8; rv++) source.event('ADDED', cm(`n${rv}`, rv));
    expect(() => collect(cache, 3)).toThrow(TooOldError);
    expect(cache.oldestResourceVersion).toBe(6);
    expect(collect(cache, 6).events.map((e) => e.rv)).toEqual([7, 8]);
  });

  it('ends every watch with Expired when the store had to be relisted, and restarts its window there', async () => {
    const { source, cache } = await started();
    const w = collect(cache, 3);
    source.relist([cm('a', 2)], 20);
    expect(w.expired).toHaveLength(1);
    expect(w.events).toEqual([]);
    expect(cache.resourceVersion).toBe(20);
    expect(() => collect(cache, 10)).toThrow(TooOldError);
    expect(cache.list('ConfigMap').map((o) => o.metadata!.name)).toEqual(['a']);
  });

  it('lets a writer wait until its version is in the cache', async () => {
    const { source, cache } = await started();
    let done = false;
    const waiting = cache.waitFor(4).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    source.event('ADDED', cm('c', 4));
    await waiting;
    expect(done).toBe(true);
  });
});
