/**
 * Runs each component as its own `knet <component>` process, as DESIGN.md §2 lays out, and
 * keeps it running: a crashed process is restarted with exponential back-off (1 s doubling
 * to 30 s, reset after 60 s of good health). Output goes to <cluster>/logs/<name>.log.
 * A child reports readiness over the IPC channel with {ready: true, info}.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, fchmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../base/log.js';

/**
 * V8 flags per component process. dns: semi-spaces of 32 MiB instead of V8's 16. A query
 * leaves ~600 bytes of short-lived garbage (the datagram and its sender from the native
 * receive, the scanned header, the response), and the queries that arrive during a scavenge
 * wait for it: a larger young generation scavenges half as often, for about the same pause
 * (what survives is small). In the DNS bench the difference was within the machine's noise
 * (p99 at 20k queries/s 0.48 / 1.09 ms without, 0.77 / 0.66 ms with, two runs each); it
 * costs up to ~32 MiB more RSS under load.
 */
export const COMPONENT_NODE_FLAGS: Partial<Record<string, string[]>> = {
  dns: ['--max-semi-space-size=32'],
};

export interface ChildSpec {
  name: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

export interface SupervisedChild {
  name: string;
  pid(): number | undefined;
  info(): Record<string, string | number> | undefined;
  restarts(): number;
}

interface State {
  spec: ChildSpec;
  child?: ChildProcess;
  restarts: number;
  backoffMs: number;
  startedAt: number;
  info?: Record<string, string | number>;
  timer?: NodeJS.Timeout;
  readyWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }>;
  ready: boolean;
}

export class Supervisor {
  private readonly states = new Map<string, State>();
  private stopping = false;

  constructor(
    private readonly entry: string,
    private readonly log: Logger,
  ) {}

  /** Starts a child and resolves once it reports ready (rejects if it exits first). */
  start(spec: ChildSpec): Promise<SupervisedChild> {
    const state: State = { spec, restarts: 0, backoffMs: 1000, startedAt: 0, readyWaiters: [], ready: false };
    this.states.set(spec.name, state);
    return new Promise((resolve, reject) => {
      state.readyWaiters.push({
        resolve: () =>
          resolve({
            name: spec.name,
            pid: () => state.child?.pid,
            info: () => state.info,
            restarts: () => state.restarts,
          }),
        reject,
      });
      this.spawn(state);
    });
  }

  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, s] of this.states) if (s.child?.pid) out[name] = s.child.pid;
    return out;
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.states.values()].map((s) => this.stopOne(s)));
  }

  private spawn(state: State): void {
    mkdirSync(path.dirname(state.spec.logFile), { recursive: true, mode: 0o700 });
    const fd = openSync(state.spec.logFile, 'a', 0o600);
    fchmodSync(fd, 0o600); // a log an older knet made 0644
    const child = spawn(process.execPath, [...(COMPONENT_NODE_FLAGS[state.spec.name] ?? []), this.entry, ...state.spec.args], {
      stdio: ['ignore', fd, fd, 'ipc'],
      env: { ...process.env, ...state.spec.env },
    });
    closeSync(fd);
    this.log.info('component spawned', { component: state.spec.name, pid: child.pid });
    state.child = child;
    state.startedAt = Date.now();
    state.ready = false;
    child.on('message', (msg: { ready?: boolean; info?: Record<string, string | number> }) => {
      if (msg?.ready) {
        this.log.info('component ready', { component: state.spec.name, pid: child.pid, afterMs: Date.now() - state.startedAt });
        state.ready = true;
        state.info = msg.info;
        for (const w of state.readyWaiters.splice(0)) w.resolve();
      }
    });
    child.on('exit', (code, signal) => {
      state.child = undefined;
      if (this.stopping) return;
      const early = !state.ready;
      this.log.warn('component exited', { component: state.spec.name, code, signal, log: state.spec.logFile });
      if (early && state.readyWaiters.length && state.restarts >= 2) {
        const err = new Error(`${state.spec.name} exited (code ${code}${signal ? `, ${signal}` : ''}) before it was ready; see ${state.spec.logFile}`);
        for (const w of state.readyWaiters.splice(0)) w.reject(err);
        return;
      }
      if (Date.now() - state.startedAt > 60_000) state.backoffMs = 1000;
      const delay = state.backoffMs;
      state.backoffMs = Math.min(state.backoffMs * 2, 30_000);
      state.restarts++;
      this.log.info('restarting component', { component: state.spec.name, inMs: delay, restarts: state.restarts });
      state.timer = setTimeout(() => this.spawn(state), delay);
    });
  }

  private stopOne(state: State): Promise<void> {
    clearTimeout(state.timer);
    const child = state.child;
    if (!child || child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
