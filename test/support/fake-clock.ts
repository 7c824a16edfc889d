/**
 * A clock a test moves by hand (k8s.io/utils/clock/testing's FakeClock), for the components
 * that take a `Clock` (dataplane/base/clock.ts). Its timers fire only inside advance(), in time
 * order, each seeing now() at its own due time; @sinonjs/fake-timers keeps them, without
 * touching the process's global timers (the sockets and I/O deadlines in a test stay real).
 */
import FakeTimers from '@sinonjs/fake-timers';
import type { Clock, ClockTimer } from '../../dataplane/base/clock.js';

export interface FakeClock extends Clock {
  /** Moves time on by `ms`, firing every timer that falls due, then returns. */
  advance(ms: number): void;
  /** Timers set and not yet fired or cleared. */
  pending(): number;
}

export function fakeClock(startMs = Date.now()): FakeClock {
  const c = FakeTimers.createClock(startMs);
  return {
    now: () => c.now,
    setTimeout: (callback, ms) => c.setTimeout(callback, ms) as unknown as ClockTimer,
    clearTimeout: (timer) => c.clearTimeout(timer as unknown as FakeTimers.TimerId | undefined),
    advance: (ms) => void c.tick(ms),
    pending: () => c.countTimers(),
  };
}
