/**
 * Wake-ups on the workload clock: a key is queued again when `clock` reaches a time (a CronJob's
 * next schedule, a Job's activeDeadlineSeconds, its back-off, its TTL). Kept apart from the work
 * queue's own timers, which stay on real time for error back-off: with a test's fake clock a
 * schedule fires when the test moves time on, while a failed write is still retried on its own.
 */
import type { Clock, ClockTimer } from '../base/clock.js';

export class ClockRequeue {
  private readonly timers = new Map<string, { at: number; timer: ClockTimer }>();

  constructor(
    private readonly clock: Clock,
    private readonly wake: (key: string) => void,
  ) {}

  /** Wakes `key` after `ms` on the clock; an earlier pending wake-up for the key wins. */
  after(key: string, ms: number): void {
    const at = this.clock.now() + Math.max(0, ms);
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.clock.clearTimeout(pending.timer);
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(key);
      this.wake(key);
    }, Math.max(0, ms));
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  cancel(key: string): void {
    const pending = this.timers.get(key);
    if (pending) this.clock.clearTimeout(pending.timer);
    this.timers.delete(key);
  }

  close(): void {
    for (const { timer } of this.timers.values()) this.clock.clearTimeout(timer);
    this.timers.clear();
  }
}
