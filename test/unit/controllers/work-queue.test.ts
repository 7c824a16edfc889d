import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../dataplane/base/work-queue.js';
import { Expectations } from '../../../dataplane/controllers/expectations.js';
import { fnv32a, generateName, safeEncode, templateHash } from '../../../dataplane/controllers/names.js';
import { canonicalJson, sameJson } from '../../../dataplane/controllers/canonical-json.js';
import { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import { silentLogger } from '../../../dataplane/base/log.js';
import type { KObject } from '../../../dataplane/base/model/object.js';
import { fakeClock, type FakeClock } from '../../support/fake-clock.js';

/** One turn of the event loop: the queue pumps on setImmediate, so this lets a pump run. */
const turn = () => new Promise((r) => setImmediate(r));
/** Turns the event loop until `check` holds (a bound of 1000 turns, only for a failure). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await turn();
  if (!check()) throw new Error(`never happened: ${what}`);
}
/** Nothing waits or runs, and no delayed add is pending on the clock: nothing more can happen. */
async function drained(q: WorkQueue, clock: FakeClock): Promise<void> {
  await until(() => q.depth === 0, 'the queue drained');
  expect(clock.pending()).toBe(0);
}

describe('WorkQueue', () => {
  it('coalesces a burst of adds of one key into one reconcile', async () => {
    const clock = fakeClock();
    const seen: string[] = [];
    const q = new WorkQueue('t', async (k) => void seen.push(k), { log: silentLogger, clock });
    for (let i = 0; i < 10; i++) q.add('a');
    q.add('b');
    await drained(q, clock);
    expect(seen).toEqual(['a', 'b']);
    await q.close();
  });

  it('never reconciles one key twice at once, and reruns a key added meanwhile', async () => {
    const clock = fakeClock();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue(
      't',
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs++;
        if (runs === 1) await gate;
        active--;
      },
      { log: silentLogger, concurrency: 4, clock },
    );
    q.add('a');
    await until(() => runs === 1, 'the first reconcile');
    q.add('a');
    q.add('a');
    // A pump has had its turn: with 4 workers free, only the rule keeps a second run of 'a' out.
    await turn();
    await turn();
    expect(runs).toBe(1);
    release();
    await drained(q, clock);
    expect(runs).toBe(2);
    expect(maxActive).toBe(1);
    await q.close();
  });

  it('retries a failing key with backoff until it succeeds', async () => {
    const clock = fakeClock();
    let calls = 0;
    const q = new WorkQueue(
      't',
      async () => {
        if (++calls < 3) throw new Error('boom');
      },
      { log: silentLogger, baseBackoffMs: 1, clock },
    );
    q.add('a');
    await until(() => calls === 1 && clock.pending() === 1, 'the first failure and its retry timer');
    clock.advance(1);
    await until(() => calls === 2 && clock.pending() === 1, 'the second failure and its retry timer');
    // The back-off doubled: nothing after 1 ms, the retry after 2.
    clock.advance(1);
    await turn();
    await turn();
    expect(calls).toBe(2);
    clock.advance(1);
    await until(() => calls === 3, 'the third attempt');
    await drained(q, clock);
    expect(calls).toBe(3);
    await q.close();
  });

  it('requeues after the delay a reconcile asks for, and close cancels pending timers', async () => {
    const clock = fakeClock();
    let calls = 0;
    const q = new WorkQueue('t', async () => (++calls === 1 ? { requeueAfterMs: 10 } : undefined), { log: silentLogger, clock });
    q.add('a');
    await until(() => calls === 1 && clock.pending() === 1, 'the first reconcile and its requeue timer');
    clock.advance(10);
    await until(() => calls === 2, 'the requeued reconcile');
    expect(calls).toBe(2);
    q.addAfter('a', 60_000);
    expect(clock.pending()).toBe(1);
    await q.close();
    expect(clock.pending()).toBe(0);
    clock.advance(60_000);
    q.add('a');
    expect(q.depth).toBe(0);
    await turn();
    expect(calls).toBe(2);
  });
});

describe('WorkQueue minIntervalMs', () => {
  it('handles the first change at once and batches the rest of a burst into one more run', async () => {
    const clock = fakeClock();
    const runs: number[] = [];
    const q = new WorkQueue('t', async () => void runs.push(clock.now()), { log: silentLogger, minIntervalMs: 50, clock });
    q.add('a');
    await until(() => runs.length === 1, 'the first run');
    expect(runs).toHaveLength(1);
    for (let i = 0; i < 5; i++) {
      q.add('a');
      await turn();
    }
    expect(runs).toHaveLength(1);
    // The batched run waits for the interval's end: not at 49 ms, at 50.
    clock.advance(49);
    await turn();
    await turn();
    expect(runs).toHaveLength(1);
    clock.advance(1);
    await until(() => runs.length === 2, 'the batched run');
    expect(runs).toHaveLength(2);
    expect(runs[1]! - runs[0]!).toBeGreaterThanOrEqual(49);
    await drained(q, clock);
    await q.close();
  });
});

describe('Expectations', () => {
  const cm = (name: string, rv: string): KObject => ({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name, namespace: 'default', resourceVersion: rv } });

  it('holds a key until the cache has seen its writes and deletes', () => {
    const f = new MemoryInformerFactory();
    const e = new Expectations((k) => f.informer(k));
    e.track('ConfigMap');
    e.expectWrite('ctl', cm('a', '1'));
    expect(e.satisfied('ctl')).toBe(false);
    f.upsert(cm('a', '0')); // the memory factory stamps rv 1
    expect(e.satisfied('ctl')).toBe(true);
    e.expectDelete('ctl', 'ConfigMap', 'default', 'a');
    expect(e.satisfied('ctl')).toBe(false);
    f.remove(cm('a', '1'));
    expect(e.satisfied('ctl')).toBe(true);
    e.close();
  });

  it('counts a delete seen after the write as the write seen', () => {
    const f = new MemoryInformerFactory();
    const e = new Expectations((k) => f.informer(k));
    e.track('ConfigMap');
    f.upsert(cm('a', '0'));
    e.expectWrite('ctl', cm('a', '2'));
    f.remove(cm('a', '3'));
    expect(e.satisfied('ctl')).toBe(true);
    e.close();
  });

  it('expires so a lost event cannot wedge a controller', () => {
    const f = new MemoryInformerFactory();
    const e = new Expectations((k) => f.informer(k), 0);
    e.expectWrite('ctl', cm('never', '99'));
    expect(e.satisfied('ctl')).toBe(true);
    e.close();
  });
});

describe('names and canonical JSON', () => {
  it('FNV-1a 32 matches the reference vectors', () => {
    expect(fnv32a('')).toBe(0x811c9dc5);
    expect(fnv32a('a')).toBe(0xe40c292c);
    expect(fnv32a('foobar')).toBe(0xbf9cf968);
  });
  it('encodes as Kubernetes SafeEncodeString and hashes templates independent of key order', () => {
    expect(safeEncode('0123456789')).toBe('456789bcdf');
    expect(templateHash({ a: 1, b: { c: 2, d: 3 } })).toBe(templateHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(templateHash({ a: 1 })).not.toBe(templateHash({ a: 1 }, 1));
  });
  it('generates names of 5 safe characters within 63', () => {
    expect(generateName('web-abc')).toMatch(/^web-abc-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(generateName('x'.repeat(80)).length).toBe(63);
  });
  it('compares canonically', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: undefined }] })).toBe('{"a":[{"d":1}],"b":1}');
    expect(sameJson({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
  });
});
