/**
 * The cache half of an informer: objects of one kind by key with their indexes (indexer.ts),
 * plus the handlers to tell. The watch half (store/watch.ts) feeds it events; tests and
 * embedders can feed it directly.
 */
import type { Informer, InformerFactory, InformerHandler } from './informer-types.js';
import { Indexer, type Indexers } from './indexer.js';
import { indexByNamespace, NAMESPACE_INDEX } from './indexes.js';
import { KINDS, keyOf, objectKey, type KObject, type Kind } from '../model/object.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export class InformerCache<T extends KObject = KObject> implements Informer<T> {
  private readonly objects: Indexer<T>;
  private readonly handlers = new Set<InformerHandler<T>>();
  private synced = false;

  constructor(readonly kind: Kind) {
    this.objects = new Indexer<T>(kind);
    this.objects.addIndexers({ [NAMESPACE_INDEX]: indexByNamespace });
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.objects.get(objectKey(this.kind, KINDS[this.kind].namespaced ? namespace : undefined, name));
  }

  on(handler: InformerHandler<T>): () => void {
    this.handlers.add(handler);
    // client-go's AddEventHandler: what is already cached reaches the new handler first.
    if (handler.add && this.objects.size > 0) {
      for (const obj of [...this.objects.values()]) {
        try {
          handler.add(obj, true);
        } catch (err) {
          process.emitWarning(`informer ${this.kind} handler threw: ${(err as Error).stack ?? err}`);
        }
      }
    }
    return () => this.handlers.delete(handler);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  addIndexers(indexers: Indexers<T>): void {
    this.objects.addIndexers(indexers);
  }

  byIndex(indexName: string, value: string): T[] {
    return this.objects.byIndex(indexName, value);
  }

  countByIndex(indexName: string, value: string): number {
    return this.objects.countByIndex(indexName, value);
  }

  indexValues(indexName: string): string[] {
    return this.objects.indexValues(indexName);
  }

  /** Applies one watch event. Events older than the cached object are ignored. */
  apply(type: WatchEventType, obj: T): void {
    const key = keyOf(obj);
    const old = this.objects.get(key);
    if (type === 'DELETED') {
      if (!old) return;
      this.objects.delete(key);
      this.emit((h) => h.delete?.(obj));
      return;
    }
    if (old && rvNumber(old) > rvNumber(obj)) return;
    this.objects.set(key, obj);
    if (old) this.emit((h) => h.update?.(old, obj));
    else this.emit((h) => h.add?.(obj, false));
  }

  /**
   * Replaces the whole cache with a fresh list (first sync, or a relist after the watch
   * history was lost) and tells handlers only what changed.
   */
  replace(objects: T[]): void {
    const initial = !this.synced;
    const fresh = new Map(objects.map((o) => [keyOf(o), o] as const));
    for (const [key, old] of [...this.objects.entries()]) {
      if (!fresh.has(key)) {
        this.objects.delete(key);
        this.emit((h) => h.delete?.(old));
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.objects.get(key);
      if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) continue;
      this.objects.set(key, obj);
      if (old) this.emit((h) => h.update?.(old, obj));
      else this.emit((h) => h.add?.(obj, initial));
    }
    this.synced = true;
  }

  private emit(call: (h: InformerHandler<T>) => void): void {
    for (const h of this.handlers) {
      try {
        call(h);
      } catch (err) {
        // One broken handler must not starve the others of events.
        process.emitWarning(`informer ${this.kind} handler threw: ${(err as Error).stack ?? err}`);
      }
    }
  }
}

function rvNumber(obj: KObject): number {
  return Number(obj.metadata?.resourceVersion ?? 0);
}

/**
 * An informer factory with no store behind it: objects are put in by hand. Used by unit and
 * component tests, and by embedders who feed objects themselves.
 */
export class MemoryInformerFactory implements InformerFactory {
  private readonly caches = new Map<Kind, InformerCache>();
  private rv = 0;

  informer<T extends KObject = KObject>(kind: Kind): Informer<T> {
    return this.cache(kind) as unknown as Informer<T>;
  }

  async waitForSync(): Promise<void> {}

  /** Adds or replaces an object, stamping a fresh resourceVersion. */
  upsert(obj: KObject): void {
    const kind = obj.kind as Kind;
    const stamped = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    const cache = this.cache(kind);
    cache.apply(cache.get(obj.metadata?.namespace, obj.metadata?.name ?? '') ? 'MODIFIED' : 'ADDED', stamped);
  }

  remove(obj: KObject): void {
    this.cache(obj.kind as Kind).apply('DELETED', obj);
  }

  private cache(kind: Kind): InformerCache {
    let c = this.caches.get(kind);
    if (!c) {
      c = new InformerCache(kind);
      c.replace([]);
      this.caches.set(kind, c);
    }
    return c;
  }
}
