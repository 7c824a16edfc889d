/**
 * The rate-limited work queue every controller loop runs on, as client-go's workqueue:
 *  - keyed: a key queued twice is reconciled once (coalescing a burst of events);
 *  - a key is never reconciled by two workers at once; a key added while it is being
 *    reconciled is queued again once that reconcile ends, so no event is lost;
 *  - a failed reconcile is retried with per-key exponential backoff (reset on success);
 *  - a reconcile can ask to run again after a delay (a minReadySeconds or grace timer);
 *  - optionally a key runs at most once per `minIntervalMs`: the first change is handled at
 *    once, changes arriving during the interval are batched into one run at its end (under
 *    a burst of pod updates an Endpoints object is rewritten a few times, not once per pod).
 * Additions are processed on the next macrotask, so all events of one watch batch land
 * before the first reconcile reads the caches.
 */
import { realClock, type Clock, type ClockTimer } from './clock.js';
import type { Logger } from './log.js';

export interface ReconcileResult {
  /** Run this key again after this many ms even if nothing changes. */
  requeueAfterMs?: number;
}

export type Reconciler = (key: string) => Promise<ReconcileResult | void>;

export interface WorkQueueOptions {
  log: Logger;
  /** Keys reconciled in parallel (different keys only). */
  concurrency?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** At most one reconcile of a key per this many ms (0 = no limit). */
  minIntervalMs?: number;
  /** Time for delayed adds, back-off and minIntervalMs (real time; tests pass a fake clock). */
  clock?: Clock;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: ClockTimer }>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly lastStart = new Map<string, number>();
  private pumpScheduled: NodeJS.Immediate | undefined;
  private running = true;
  private readonly concurrency: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly clock: Clock;

  constructor(
    readonly name: string,
    private readonly reconcile: Reconciler,
    private readonly opts: WorkQueueOptions,
  ) {
    this.concurrency = opts.concurrency ?? 1;
    this.baseBackoffMs = opts.baseBackoffMs ?? 50;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.clock = opts.clock ?? realClock;
  }

  add(key: string): void {
    if (!this.running || this.queued.has(key)) return;
    const minInterval = this.opts.minIntervalMs ?? 0;
    if (minInterval > 0 && !this.processing.has(key)) {
      const last = this.lastStart.get(key);
      if (last !== undefined) {
        const wait = last + minInterval - this.clock.now();
        if (wait > 0) return this.addAfter(key, wait);
        this.lastStart.delete(key);
      }
    }
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.schedulePump();
  }

  /** Adds the key after a delay; an earlier pending delay for the key wins. */
  addAfter(key: string, ms: number): void {
    if (!this.running) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.clock.clearTimeout(pending.timer);
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, { at, timer });
  }

  /** Number of keys waiting or being reconciled (for tests and metrics). */
  get depth(): number {
    return this.queue.length + this.processing.size;
  }

  async close(): Promise<void> {
    this.running = false;
    if (this.pumpScheduled) clearImmediate(this.pumpScheduled);
    for (const { timer } of this.timers.values()) this.clock.clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    this.dirty.clear();
    this.lastStart.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = setImmediate(() => {
      this.pumpScheduled = undefined;
      this.pump();
    });
  }

  private pump(): void {
    while (this.running && this.processing.size < this.concurrency && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      if (this.opts.minIntervalMs) this.rememberStart(key);
      const p = this.run(key);
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }
  }

  private rememberStart(key: string): void {
    const now = this.clock.now();
    this.lastStart.set(key, now);
    if (this.lastStart.size > 10_000) {
      for (const [k, t] of this.lastStart) if (now - t > (this.opts.minIntervalMs ?? 0)) this.lastStart.delete(k);
    }
  }

  private async run(key: string): Promise<void> {
    try {
      const result = await this.reconcile(key);
      this.failures.delete(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = Math.min(this.baseBackoffMs * 2 ** Math.min(n - 1, 20), this.maxBackoffMs);
      this.opts.log.warn('reconcile failed; will retry', { queue: this.name, key, attempt: n, retryInMs: delay, error: err as Error });
      this.addAfter(key, delay);
    } finally {
      this.processing.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      this.schedulePump();
    }
  }
}
