/**
 * Waiting on cluster state without hammering the store: a check is re-run whenever the watch
 * delivers an event of a kind it depends on (coalesced to one run per turn of the event loop,
 * never two at once), and on a slow timer for what a watch cannot see (a socket, a file).
 * Without a watch it falls back to polling.
 */
import { realClock, type Clock, type ClockTimer } from '../base/clock.js';
import type { InformerFactory } from '../base/informer/informer-types.js';
import type { Kind } from '../base/model/object.js';

export interface WaitUntilOptions {
  /** Re-check on events of `kinds` from these informers. */
  informers?: InformerFactory;
  kinds?: readonly Kind[];
  timeoutMs: number;
  /** Re-check at least this often (default 25 ms without informers, 250 ms with). */
  pollMs?: number;
  signal?: AbortSignal;
  /** Time for the re-check period and the deadline (real time; tests pass a fake clock). */
  clock?: Clock;
  /** The error to reject with at the deadline (it may read the cluster to explain itself). */
  onTimeout: () => Promise<Error> | Error;
}

/** Resolves with the first value of `check` that is not undefined/false; a throw from `check` rejects. */
export function waitUntil<T>(check: () => Promise<T | undefined | false> | T | undefined | false, opts: WaitUntilOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let running = false;
    let again = false;
    let queued: NodeJS.Immediate | undefined;
    const kinds = opts.informers ? (opts.kinds ?? []) : [];
    const unsubscribe = kinds.map((k) => opts.informers!.informer(k).on({ add: kick, update: kick, delete: kick }));
    const clock = opts.clock ?? realClock;
    const pollMs = opts.pollMs ?? (kinds.length ? 250 : 25);
    const onPoll = () => {
      kick();
      poll = clock.setTimeout(onPoll, pollMs);
    };
    let poll: ClockTimer = clock.setTimeout(onPoll, pollMs);
    const deadline = clock.setTimeout(() => {
      if (done) return;
      stop();
      void Promise.resolve()
        .then(opts.onTimeout)
        .then(reject, reject);
    }, opts.timeoutMs);
    const onAbort = () => finish(() => reject(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('aborted')));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) return onAbort();

    function stop() {
      done = true;
      clock.clearTimeout(poll);
      clock.clearTimeout(deadline);
      if (queued) clearImmediate(queued);
      for (const u of unsubscribe) u();
      opts.signal?.removeEventListener('abort', onAbort);
    }
    function finish(settle: () => void) {
      if (done) return;
      stop();
      settle();
    }
    function kick() {
      if (done || queued) return;
      queued = setImmediate(() => {
        queued = undefined;
        void run();
      });
    }
    async function run() {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          const value = await check();
          if (done) return;
          if (value !== undefined && value !== false) return finish(() => resolve(value));
        } while (again);
      } catch (err) {
        finish(() => reject(err));
      } finally {
        running = false;
      }
    }
    kick();
  });
}
