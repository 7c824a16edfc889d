/**
 * The apiserver's cache (the kube-apiserver's cacher/watch cache): every kind's objects from
 * one informer factory over the store's event stream, plus a window of recent events so a
 * watch can start at a resourceVersion and get every change after it.
 *
 *  - GET and LIST read here, never Redis: lists come sorted by key (etcd's order), computed once
 *    per change of the kind; objects' JSON is serialized once and reused.
 *  - A watch from resourceVersion N replays the window's events after N, then follows live. N
 *    older than the window is 410 Expired (the client relists).
 *  - When the informer had to relist (the store's history was trimmed or rewritten under it: a
 *    Redis restart that lost writes, a failover), the events in between are unknown: every open
 *    watch ends with 410 Expired and the window restarts at the list's version. So a watcher gets
 *    every event or a 410, never a silent gap.
 */
import type { StoreInformerFactory } from '../base/store/watch.js';
import type { Informer } from '../base/informer/informer-types.js';
import { KINDS, keyOf, type KObject, type Kind } from '../base/model/object.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface CacheEvent {
  type: EventType;
  kind: Kind;
  rv: number;
  object: KObject;
  /** The object before a MODIFIED or DELETED (for selectors: leaving one is a DELETED). */
  prev?: KObject;
}

export interface CacheWatcher {
  kind: Kind;
  onEvent(e: CacheEvent): void;
  /** History lost (relist): the watch must end with 410 Expired. */
  onExpired(message: string): void;
}

export class TooOldError extends Error {}

/** What the cache needs of its watch: the store's informer factory (store/watch.ts). */
export type WatchSource = Pick<StoreInformerFactory, 'informer' | 'waitForSync' | 'onRelist' | 'resourceVersion'>;

interface KindView {
  sorted?: KObject[];
  byNamespace?: Map<string, KObject[]>;
  /** Bumped on every change of the kind: what a cached answer about the kind was computed at. */
  version: number;
  /** Whole answers (a list's JSON) computed at `version`, by what was asked. */
  answers: Map<string, string>;
}

export class WatchCache {
  private readonly informers = new Map<Kind, Informer>();
  private readonly views = new Map<Kind, KindView>();
  private readonly watchers = new Map<Kind, Set<CacheWatcher>>();
  private readonly history: CacheEvent[] = [];
  private historyStart = 0;
  /** Events after this version are all in the window. */
  private oldestRv = 0;
  private rv = 0;
  private relisting = false;
  private synced = false;
  private readonly rvWaiters: Array<{ rv: number; resolve: () => void }> = [];
  private readonly json = new WeakMap<object, string>();
  private readonly offs: Array<() => void> = [];
  readonly stats = { events: 0, expiredWatches: 0, relists: 0 };

  constructor(
    private readonly factory: WatchSource,
    private readonly capacity = 10_000,
  ) {}

  async start(): Promise<void> {
    this.offs.push(
      this.factory.onRelist({
        start: () => (this.relisting = true),
        done: (rv) => this.relisted(rv),
      }),
    );
    for (const kind of Object.keys(KINDS) as Kind[]) {
      const informer = this.factory.informer(kind);
      this.informers.set(kind, informer);
      this.watchers.set(kind, new Set());
      this.offs.push(
        informer.on({
          // A replay of what the informer held when we subscribed is not history: the window starts after it.
          add: (o, initial) => (initial ? this.invalidate(kind) : this.record('ADDED', kind, o)),
          update: (old, o) => this.record('MODIFIED', kind, o, old),
          delete: (o) => this.record('DELETED', kind, o, o),
        }),
      );
    }
    await this.factory.waitForSync();
    // The factory may have synced before we listened: the window starts where it is now.
    if (!this.synced) {
      this.synced = true;
      this.oldestRv = this.rv = this.factory.resourceVersion;
    }
  }

  close(): void {
    for (const off of this.offs) off();
  }

  get resourceVersion(): number {
    return Math.max(this.rv, this.factory.resourceVersion);
  }

  /** The oldest version a watch (or a continue token) can start from. */
  get oldestResourceVersion(): number {
    return this.oldestRv;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Every object of a kind (in one namespace), sorted by namespace/name. */
  list(kind: Kind, namespace?: string): readonly KObject[] {
    const view = this.view(kind);
    if (!view.sorted) {
      view.sorted = this.informers.get(kind)!.list().sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
      view.byNamespace = undefined;
    }
    if (namespace === undefined || !KINDS[kind].namespaced) return view.sorted;
    if (!view.byNamespace) {
      view.byNamespace = new Map();
      for (const o of view.sorted) {
        const ns = o.metadata?.namespace ?? '';
        let l = view.byNamespace.get(ns);
        if (!l) view.byNamespace.set(ns, (l = []));
        l.push(o);
      }
    }
    return view.byNamespace.get(namespace) ?? [];
  }

  /**
   * An answer about a kind computed once per change of it (a LIST's JSON body): `compute` runs
   * again only after the kind changed.
   */
  answer(kind: Kind, key: string, compute: () => string): string {
    const view = this.view(kind);
    let a = view.answers.get(key);
    if (a === undefined) {
      a = compute();
      if (view.answers.size > 64) view.answers.clear();
      view.answers.set(key, a);
    }
    return a;
  }

  private view(kind: Kind): KindView {
    let view = this.views.get(kind);
    if (!view) this.views.set(kind, (view = { version: 0, answers: new Map() }));
    return view;
  }

  get(kind: Kind, namespace: string | undefined, name: string): KObject | undefined {
    return this.informers.get(kind)!.get(namespace, name);
  }

  /** The object as JSON, serialized once per version of it. */
  toJson(obj: object): string {
    let s = this.json.get(obj);
    if (s === undefined) this.json.set(obj, (s = JSON.stringify(obj)));
    return s;
  }

  /** Resolves once the cache has seen resourceVersion `rv` (a write's), or after `timeoutMs`. */
  waitFor(rv: number, timeoutMs = 5000): Promise<void> {
    if (this.resourceVersion >= rv) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = { rv, resolve };
      const t = setTimeout(() => {
        const i = this.rvWaiters.indexOf(waiter);
        if (i >= 0) this.rvWaiters.splice(i, 1);
        resolve();
      }, timeoutMs);
      waiter.resolve = () => {
        clearTimeout(t);
        resolve();
      };
      this.rvWaiters.push(waiter);
    });
  }

  /**
   * Starts a watch. From `fromRv` (a number): the window's events after it are delivered first
   * (throws TooOldError when the window no longer reaches back that far). From undefined: no
   * replay (the caller sends the current objects as ADDED). Synchronous, so nothing can happen
   * between the replay and the live events.
   */
  watch(watcher: CacheWatcher, fromRv: number | undefined): () => void {
    if (fromRv !== undefined) {
      if (fromRv < this.oldestRv) throw new TooOldError(`too old resource version: ${fromRv} (${this.oldestRv})`);
      for (let i = this.firstAfter(fromRv); i < this.history.length; i++) {
        const e = this.history[i]!;
        if (e.kind === watcher.kind) watcher.onEvent(e);
      }
    }
    const set = this.watchers.get(watcher.kind)!;
    set.add(watcher);
    return () => set.delete(watcher);
  }

  watcherCount(): number {
    let n = 0;
    for (const s of this.watchers.values()) n += s.size;
    return n;
  }

  /** Index of the first window event with rv > `rv`. */
  private firstAfter(rv: number): number {
    let lo = this.historyStart;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid]!.rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drops a kind's derived views (sorted lists, per-namespace lists, cached answers). */
  private invalidate(kind: Kind): void {
    const view = this.views.get(kind);
    if (view) {
      view.sorted = undefined;
      view.byNamespace = undefined;
      view.version++;
      view.answers.clear();
    }
  }

  private record(type: EventType, kind: Kind, object: KObject, prev?: KObject): void {
    this.invalidate(kind);
    if (this.relisting) return;
    const rv = Number(object.metadata?.resourceVersion ?? 0);
    const event: CacheEvent = { type, kind, rv, object, ...(prev ? { prev } : {}) };
    this.stats.events++;
    this.history.push(event);
    if (this.history.length - this.historyStart > this.capacity) {
      this.oldestRv = this.history[this.historyStart]!.rv;
      this.historyStart++;
      // Compact now and then instead of shifting on every event.
      if (this.historyStart > this.capacity) {
        this.history.splice(0, this.historyStart);
        this.historyStart = 0;
      }
    }
    if (rv > this.rv) this.rv = rv;
    for (const w of this.watchers.get(kind)!) {
      try {
        w.onEvent(event);
      } catch {
        // A watcher whose client is gone cleans itself up; it must not stop the others.
      }
    }
    this.wakeWaiters();
  }

  private relisted(rv: number): void {
    this.relisting = false;
    for (const view of this.views.values()) {
      view.sorted = undefined;
      view.byNamespace = undefined;
      view.version++;
      view.answers.clear();
    }
    if (this.synced) {
      // The events between our last one and this list are unknown: no watch can go on gap-free.
      this.stats.relists++;
      const message = `The resourceVersion for the provided watch is too old (the state store's history was lost; relisted at ${rv})`;
      for (const set of this.watchers.values()) {
        for (const w of [...set]) {
          this.stats.expiredWatches++;
          set.delete(w);
          w.onExpired(message);
        }
      }
      this.history.length = 0;
      this.historyStart = 0;
    }
    this.synced = true;
    this.oldestRv = rv;
    this.rv = rv;
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    if (this.rvWaiters.length === 0) return;
    const now = this.resourceVersion;
    for (let i = this.rvWaiters.length - 1; i >= 0; i--) {
      const w = this.rvWaiters[i]!;
      if (w.rv <= now) {
        this.rvWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }
}

/** etcd's key order: byte order of "namespace/name". */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
