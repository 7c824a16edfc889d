/**
 * What a component's close() must leave behind: nothing. Two checks that need no quiet moment
 * in the process (the test runner's own timers come and go at any time, so a count of every
 * Timeout before and after is a race):
 *  - timers: the ones code sets through the global setTimeout / setInterval / setImmediate while
 *    tracked, each followed until it fires or is cleared (vitest keeps its own references to the
 *    timer functions, so its timers are not counted);
 *  - sockets: the process's TCP and UDP handles, which only the test and the code under test open.
 */

const SOCKET = /^(TCP|UDP|TLS)/;

/** The process's socket handles (servers, connections, UDP), sorted. */
export function socketHandles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((r) => SOCKET.test(r))
    .sort();
}

/**
 * Resolves once the event loop has been through its close phase: every handle whose close was
 * asked for before has left the process's list. libuv runs close callbacks at the end of the
 * loop iteration the close was asked in, so two check phases (setImmediate) later they have
 * run. (dgram emits 'close' earlier, on nextTick, so a UDP socket's 'close' is not that moment.)
 */
export async function closesDone(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
}

/**
 * Turns the event loop (setting no timer) until `settled()` holds or 5 s went by: for what
 * closes in reaction to a close (a peer reading the FIN, then closing its own socket).
 */
export async function loopUntil(settled: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!settled() && Date.now() < deadline) await new Promise((r) => setImmediate(r));
}

/** Resolves once `socketHandles()` equals `expected`, or after 5 s of loop turns; returns the last list. */
export async function socketsSettled(expected: readonly string[]): Promise<string[]> {
  await loopUntil(() => JSON.stringify(socketHandles()) === JSON.stringify(expected));
  return socketHandles();
}

export interface TimerTracker {
  /** Timers set while tracked that have neither fired nor been cleared: "kind at file:line". */
  pending(): string[];
  /** Puts the global timer functions back (pending() still answers). */
  stop(): void;
}

type Handle = NodeJS.Timeout | NodeJS.Immediate;
type SetFn = (callback: (...args: unknown[]) => void, ...rest: unknown[]) => Handle;
type ClearFn = (handle: unknown) => void;
const SETTERS = ['setTimeout', 'setInterval', 'setImmediate'] as const;
const CLEARERS = ['clearTimeout', 'clearInterval', 'clearImmediate'] as const;

export function trackTimers(): TimerTracker {
  const live = new Map<Handle, string>();
  const g = globalThis as unknown as Record<(typeof SETTERS)[number], SetFn> & Record<(typeof CLEARERS)[number], ClearFn>;
  const savedSet = Object.fromEntries(SETTERS.map((k) => [k, g[k]])) as Record<(typeof SETTERS)[number], SetFn>;
  const savedClear = Object.fromEntries(CLEARERS.map((k) => [k, g[k]])) as Record<(typeof CLEARERS)[number], ClearFn>;
  const where = (): string =>
    (new Error().stack ?? '')
      .split('\n')
      .slice(3)
      .find((l) => !l.includes('leak-check.ts') && !l.includes('base/clock.ts') && !l.includes('node:'))
      ?.trim()
      .replace(/^at /, '') ?? 'unknown';
  for (const kind of SETTERS) {
    const once = kind !== 'setInterval';
    const wrapper: SetFn = (callback, ...rest) => {
      const wrapped = once
        ? function (this: unknown, ...a: unknown[]) {
            live.delete(handle);
            return callback.apply(this, a);
          }
        : callback;
      const handle = savedSet[kind].call(globalThis, wrapped, ...rest);
      live.set(handle, `${kind} at ${where()}`);
      return handle;
    };
    // util.promisify(setTimeout) and friends keep working while tracked (the timer is not followed then).
    for (const sym of Object.getOwnPropertySymbols(savedSet[kind])) Object.assign(wrapper, { [sym]: (savedSet[kind] as unknown as Record<symbol, unknown>)[sym] });
    g[kind] = wrapper;
  }
  for (const kind of CLEARERS) {
    g[kind] = (handle) => {
      live.delete(handle as Handle);
      savedClear[kind].call(globalThis, handle);
    };
  }
  return {
    pending: () => [...live.values()],
    stop: () => Object.assign(g, savedSet, savedClear),
  };
}
