import { describe, expect, it } from 'vitest';
import { backoffRemaining, goDuration, KUBELET_BACKOFF, nextBackoff, type BackoffEntry } from '../../../dataplane/node/runtime/restart-backoff.js';

const P = KUBELET_BACKOFF;

/** Simulates a container that crashes `runMs` after each start; returns the delays before each restart. */
function delays(crashes: number, runMs: number): number[] {
  let now = 0;
  let entry: BackoffEntry | undefined;
  const out: number[] = [];
  for (let i = 0; i < crashes; i++) {
    now += runMs;
    const finishedAt = now;
    const wait = backoffRemaining(entry, finishedAt, now, P);
    out.push(wait);
    now += wait;
    entry = nextBackoff(entry, finishedAt, now, P);
  }
  return out;
}

describe('crash back-off (flowcontrol.Backoff as the kubelet uses it)', () => {
  it('first restart is immediate, then 10s doubling to the 5m cap', () => {
    expect(delays(9, 0)).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it('the wait is measured from when the container finished, not from its start', () => {
    expect(delays(3, 4_000)).toEqual([0, 10_000, 20_000]);
    const e = nextBackoff(undefined, 0, 0, P);
    expect(backoffRemaining(e, 50_000, 53_000, P)).toBe(7_000);
    expect(backoffRemaining(e, 50_000, 60_000, P)).toBe(0);
  });

  it('an entry untouched for more than 2× the cap (10 min) starts over', () => {
    const e = nextBackoff(nextBackoff(undefined, 0, 0, P), 1000, 1000, P);
    expect(e.backoffMs).toBe(20_000);
    const later = 1000 + 2 * P.maxMs + 1;
    expect(backoffRemaining(e, later, later, P)).toBe(0);
    expect(nextBackoff(e, later, later, P).backoffMs).toBe(10_000);
  });

  it('a configurable base (tests) keeps the doubling', () => {
    const p = { baseMs: 100, maxMs: 3000 };
    let e = nextBackoff(undefined, 0, 0, p);
    const seen = [e.backoffMs];
    for (let i = 0; i < 6; i++) seen.push((e = nextBackoff(e, 0, 0, p)).backoffMs);
    expect(seen).toEqual([100, 200, 400, 800, 1600, 3000, 3000]);
  });

  it.each([[100, '100ms'], [10_000, '10s'], [80_000, '1m20s'], [300_000, '5m0s'], [160_000, '2m40s']])('goDuration(%i) = %s', (ms, s) => expect(goDuration(ms)).toBe(s));
});
