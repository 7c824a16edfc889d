/**
 * Objects by key plus named indexes over them: client-go's threadSafeMap + Indexers
 * (tools/cache/thread_safe_store.go). Each index function maps an object to the values it is
 * found under; every add, update and delete moves the object's key between the buckets of
 * every index, so `byIndex` costs the objects it returns, not the objects cached.
 */
import type { KObject } from '../model/object.js';

/** The values an object is indexed under (none: not in that index). */
export type IndexFunc<T extends KObject = KObject> = (obj: T) => readonly string[];

export type Indexers<T extends KObject = KObject> = Record<string, IndexFunc<T>>;

export class Indexer<T extends KObject> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /** index name → value → keys of the objects under it. */
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  constructor(
    /** Names the informer in errors ("Pod"). */
    private readonly owner: string,
  ) {}

  get size(): number {
    return this.items.size;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  values(): IterableIterator<T> {
    return this.items.values();
  }

  entries(): IterableIterator<[string, T]> {
    return this.items.entries();
  }

  set(key: string, obj: T): void {
    const old = this.items.get(key);
    this.items.set(key, obj);
    for (const [name, fn] of this.indexers) this.reindex(name, fn, key, old, obj);
  }

  delete(key: string): void {
    const old = this.items.get(key);
    if (!old) return;
    this.items.delete(key);
    for (const [name, fn] of this.indexers) this.reindex(name, fn, key, old, undefined);
  }

  /**
   * Declares indexes (client-go AddIndexers), built at once over the objects already held.
   * Declaring a name again with the same function is a no-op, so components sharing one
   * informer can each declare what they use; another function under a taken name is an error.
   */
  addIndexers(indexers: Indexers<T>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      const existing = this.indexers.get(name);
      if (existing === fn) continue;
      if (existing) throw new Error(`informer ${this.owner}: index "${name}" is already declared with another function`);
      this.indexers.set(name, fn);
      this.indices.set(name, new Map());
      for (const [key, obj] of this.items) this.reindex(name, fn, key, undefined, obj);
    }
  }

  hasIndex(name: string): boolean {
    return this.indexers.has(name);
  }

  /** The objects indexed under `value` in the named index (client-go ByIndex). */
  byIndex(name: string, value: string): T[] {
    const keys = this.bucketsOf(name).get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) out.push(this.items.get(k)!);
    return out;
  }

  /** How many objects `byIndex(name, value)` would return, without building the list. */
  countByIndex(name: string, value: string): number {
    return this.bucketsOf(name).get(value)?.size ?? 0;
  }

  /** Every value the named index has objects under (client-go ListIndexFuncValues). */
  indexValues(name: string): string[] {
    return [...this.bucketsOf(name).keys()];
  }

  private bucketsOf(name: string): Map<string, Set<string>> {
    const buckets = this.indices.get(name);
    if (!buckets) throw new Error(`informer ${this.owner}: no index named "${name}" (declare it with addIndexers first)`);
    return buckets;
  }

  private reindex(name: string, fn: IndexFunc<T>, key: string, old: T | undefined, obj: T | undefined): void {
    const before = old ? fn(old) : NONE;
    const after = obj ? fn(obj) : NONE;
    // The common update leaves every indexed value as it was.
    if (before.length === after.length && before.every((v, i) => v === after[i])) return;
    const buckets = this.indices.get(name)!;
    for (const v of before) {
      if (after.includes(v)) continue;
      const keys = buckets.get(v);
      keys?.delete(key);
      if (keys?.size === 0) buckets.delete(v);
    }
    for (const v of after) {
      let keys = buckets.get(v);
      if (!keys) buckets.set(v, (keys = new Set()));
      keys.add(key);
    }
  }
}

const NONE: readonly string[] = [];
