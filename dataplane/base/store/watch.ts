/**
 * List + watch, as client-go's reflector does it, over the store's event stream.
 *
 * One factory = one watch connection = one XREAD loop, however many kinds it serves:
 *  1. list every kind asked for at one resourceVersion (atomically, one script);
 *  2. XREAD BLOCK from `<rv>-0`, dispatching events to the per-kind caches;
 *  3. on any error, keep the caches (components keep serving) and resume from the last
 *     version seen once Redis is back;
 *  4. if the history was trimmed past that version (the first entry read is not last+1) or
 *     the counter went backwards (Redis lost data), relist and emit only the difference —
 *     the 410 Gone analog. XREAD from a trimmed ID does not fail, so this check is ours.
 *  5. after every (re)connection, before applying what it reads, check that the server still
 *     has the entry we last applied, unchanged: a Sentinel failover to a replica that lagged,
 *     or a restart that lost the tail, rewrites history from some version on, and once new
 *     writes pass our version the rewritten entries would otherwise be skipped unnoticed.
 * A blocking read can hang forever after a reconnect (ioredis#610), so a watchdog recreates
 * the connection when a read outlives its block time.
 */
import { abandonConnection, connectRedis, type RedisClient } from './redis-connection.js';
import { InformerCache, type WatchEventType } from '../informer/informer-cache.js';
import type { Informer, InformerFactory } from '../informer/informer-types.js';
import type { KObject, Kind } from '../model/object.js';
import type { ObjectStore } from './object-store.js';
import { silentLogger, type Logger } from '../log.js';

export interface WatchOptions {
  /** URL for the dedicated watch connection (the store's own connection must not block). */
  redisUrl: string;
  log?: Logger;
  blockMs?: number;
  batch?: number;
}

export interface RelistListener {
  start?(): void;
  done?(resourceVersion: number): void;
}

type StreamReply = Array<[string, Array<[string, string[]]>]> | null;

export class StoreInformerFactory implements InformerFactory {
  private readonly caches = new Map<Kind, InformerCache>();
  private readonly log: Logger;
  private readonly blockMs: number;
  private readonly batch: number;
  private conn: RedisClient | undefined;
  private lastRv = 0;
  private running = false;
  /** Closed for good: asking for an informer afterwards must not start a new watch. */
  private closed = false;
  private needRelist = true;
  private loop: Promise<void> | undefined;
  private syncWaiters: Array<() => void> = [];
  private unavailableSince: number | undefined;
  private interrupted = false;
  private stopWake: (() => void) | undefined;
  /** The fields of the stream entry at lastRv, as we applied (or, after a list, found) it. */
  private lastEntry: string | undefined;
  /** Times the watch connection became ready, and the count our history was last checked at. */
  private connectionsReady = 0;
  private checkedAt = 0;
  /** Counters a component can expose. */
  readonly stats = { events: 0, relists: 0, reconnects: 0 };
  private readonly relistListeners = new Set<RelistListener>();

  constructor(
    private readonly store: ObjectStore,
    private readonly opts: WatchOptions,
  ) {
    this.log = (opts.log ?? silentLogger).child('informer');
    this.blockMs = opts.blockMs ?? 5000;
    this.batch = opts.batch ?? 1000;
  }

  informer<T extends KObject = KObject>(kind: Kind): Informer<T> {
    let cache = this.caches.get(kind);
    if (!cache) {
      cache = new InformerCache(kind);
      this.caches.set(kind, cache);
      // A kind added after the watch started needs its own list: relist everything (rare).
      if (this.running) this.requestRelist();
    }
    this.start();
    return cache as unknown as Informer<T>;
  }

  waitForSync(): Promise<void> {
    this.start();
    if ([...this.caches.values()].every((c) => c.hasSynced())) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /**
   * Tells `listener` when the caches are replaced by a list (the first one, and every relist
   * after history was lost): `start` before the caches change (the handler calls that follow
   * are a difference, not the events that happened), `done` with the list's resourceVersion.
   * The apiserver's watch cache uses it to end watches it can no longer serve gap-free.
   */
  onRelist(listener: RelistListener): () => void {
    this.relistListeners.add(listener);
    return () => this.relistListeners.delete(listener);
  }

  /** The resourceVersion the caches reflect. */
  get resourceVersion(): number {
    return this.lastRv;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.running = false;
    this.stopWake?.();
    // Not disconnect(): a read pending while the store is away would never settle.
    if (this.conn) abandonConnection(this.conn);
    await this.loop?.catch(() => {});
    this.conn = undefined;
  }

  private start(): void {
    if (this.running || this.closed) return;
    this.running = true;
    this.loop = this.run();
  }

  private requestRelist(): void {
    this.needRelist = true;
    // Interrupt a pending blocking read so the relist happens now.
    if (this.conn) {
      this.interrupted = true;
      abandonConnection(this.conn);
      this.conn = undefined;
    }
  }

  private async run(): Promise<void> {
    let backoff = 50;
    while (this.running) {
      try {
        if (!this.conn) {
          this.conn = connectRedis(this.opts.redisUrl, { purpose: 'watch', maxRetriesPerRequest: 1 });
          // ioredis reconnects (and resends a pending read) by itself: count it, see readOnce.
          this.conn.on('ready', () => this.connectionsReady++);
        }
        if (this.needRelist) await this.relist();
        await this.readOnce();
        if (this.unavailableSince !== undefined) {
          this.log.info('state store reachable again; watch resumed', { resourceVersion: this.lastRv, awayMs: Date.now() - this.unavailableSince });
          this.unavailableSince = undefined;
        }
        backoff = 50;
      } catch (err) {
        if (!this.running) break;
        if (this.interrupted) {
          this.interrupted = false;
          continue;
        }
        if (this.unavailableSince === undefined) {
          this.unavailableSince = Date.now();
          this.log.warn('state store unavailable; serving the last known state', { error: err as Error, resourceVersion: this.lastRv });
        }
        this.stats.reconnects++;
        if (this.conn) abandonConnection(this.conn);
        this.conn = undefined;
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, 1000);
      }
    }
  }

  private async relist(): Promise<void> {
    this.needRelist = false;
    const kinds = [...this.caches.keys()];
    const { resourceVersion, byKind } = await this.store.listKinds(kinds);
    for (const l of this.relistListeners) l.start?.();
    for (const kind of kinds) this.caches.get(kind)!.replace(byKind.get(kind) ?? []);
    if (this.lastRv !== 0 && resourceVersion !== this.lastRv) this.log.info('relisted', { from: this.lastRv, to: resourceVersion, kinds });
    this.stats.relists++;
    this.lastRv = resourceVersion;
    for (const l of this.relistListeners) l.done?.(resourceVersion);
    this.lastEntry = await this.entryAt(resourceVersion);
    this.checkedAt = this.connectionsReady;
    if (this.needRelist) return;
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiters) w();
  }

  private async readOnce(): Promise<void> {
    const conn = this.conn!;
    let watchdog: NodeJS.Timeout | undefined;
    const read = conn.xread('COUNT', this.batch, 'BLOCK', this.blockMs, 'STREAMS', this.store.keys.events, `${this.lastRv}-0`) as Promise<StreamReply>;
    const timeout = new Promise<never>((_, reject) => {
      watchdog = setTimeout(() => reject(new Error('watch read outlived its block time; reconnecting')), this.blockMs + 5000);
    });
    let reply: StreamReply;
    try {
      reply = await Promise.race([read, timeout]);
    } finally {
      clearTimeout(watchdog);
    }
    // A (re)connection since the last check: is the history we applied still the server's?
    if (this.checkedAt !== this.connectionsReady) {
      const seenAt = this.connectionsReady;
      const entry = await this.entryAt(this.lastRv);
      if (entry !== this.lastEntry) {
        this.log.warn('state store history changed under the watch (failover or restart lost writes); relisting', { resourceVersion: this.lastRv });
        this.needRelist = true;
        return;
      }
      this.checkedAt = seenAt;
    }
    if (!reply) {
      // Idle: make sure Redis did not come back with less history than we saw.
      const current = await this.store.currentResourceVersion();
      if (current < this.lastRv) {
        this.log.warn('state store resourceVersion went backwards; relisting', { seen: this.lastRv, current });
        this.needRelist = true;
      }
      return;
    }
    const entries = reply[0]?.[1] ?? [];
    for (const [id, fields] of entries) {
      const rv = Number(id.split('-')[0]);
      if (rv !== this.lastRv + 1) {
        this.log.warn('watch history was trimmed past our version; relisting', { seen: this.lastRv, next: rv });
        this.needRelist = true;
        return;
      }
      this.dispatch(fields);
      this.lastRv = rv;
      this.lastEntry = fields.join('\n');
    }
  }

  /** The stream entry at a version, its fields joined (undefined for none: version 0 or trimmed). */
  private async entryAt(rv: number): Promise<string | undefined> {
    if (rv === 0 || !this.conn) return undefined;
    const [entry] = (await this.conn.xrange(this.store.keys.events, `${rv}-0`, `${rv}-0`)) as Array<[string, string[]]>;
    return entry?.[1].join('\n');
  }

  private dispatch(fields: string[]): void {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
    const cache = this.caches.get(f.kind as Kind);
    if (!cache || !f.object) return;
    this.stats.events++;
    cache.apply(f.type as WatchEventType, JSON.parse(f.object) as KObject);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.stopWake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
