/**
 * The time a component reads and the timers its behaviour hangs on — affinity and session
 * expiry, back-off, retry periods — as one injectable value, like the `clock.Clock` that
 * Kubernetes components take from k8s.io/utils/clock. Production uses `realClock`; a test
 * passes a fake one and advances it, so "the affinity record expired" is asserted right after
 * moving time on instead of after waiting it out.
 *
 * What stays on real timers: I/O deadlines (connect and read timeouts) guard against a real
 * network, which a fake clock does not move.
 */

/** A pending timer, with the Node Timeout methods components use: `refresh()` restarts it with its delay, `unref()` lets the process exit. */
export interface ClockTimer {
  refresh(): unknown;
  unref(): unknown;
}

export interface Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
  setTimeout(callback: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer | undefined): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
};
