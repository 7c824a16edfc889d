/**
 * The container shim: a small process between the node agent and a program, as
 * containerd-shim sits between containerd and a container. It starts the program, writes its
 * stdout and stderr into the run's CRI log file (cri-log-writer.ts), passes its own stdin on to
 * the program's (spec `stdin: true`: what `kubectl attach -i` sends through the agent), and tells
 * the agent, on its own stdout, one JSON line per event:
 *   {"started":{"pid":N}}                        the program runs (its pid, for the records);
 *   {"startError":"exec: \"x\": …"}              it could not be started (the kubelet's StartError);
 *   {"exited":{"exitCode":N,"signal":S?}}        it exited, its group is gone, its output is written.
 *
 * Why a process of its own: a program outlives a node agent killed with SIGKILL (the agent's
 * next run takes it back, container-records.ts), so its output cannot go through a pipe to the
 * agent — the pipe would die with it and the program's next write fail with EPIPE. The shim
 * does not die with the agent: it runs in a session of its own, ignores the signals a terminal
 * sends, and ignores a closed stdout. Writing CRI lines (a time and a stream per line) needs
 * someone to read the program's pipes; a file the program writes itself cannot say which
 * stream or when.
 *
 * The program runs in a session and process group of its own (not the shim's), so that the
 * agent can SIGKILL the container's whole group without killing the shim before it has written
 * the last of the output. When the program's main process exits, the shim kills the rest of
 * its group (the runtime kills a container's cgroup), waits until it is gone, reads the pipes
 * to their end (at most 2 s more: a daemon that left the group may hold them) and then reports.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { constants } from 'node:os';
import { CriLogWriter } from './cri-log-writer.js';
import { waitGroupGone } from './process-identity.js';

export interface ShimConfig {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  logFile: string;
  /** `stdin: true`: the program reads what follows the configuration on the shim's stdin (`kubectl attach -i`). */
  stdin?: boolean;
}

export type ShimMessage = { started: { pid: number } } | { startError: string } | { exited: { exitCode: number; signal?: number } };

/** How long the pipes may stay open after the program's group is gone. */
const DRAIN_MS = 2000;

/** `input`: what the agent writes after the configuration (with `stdin: true`, the program's stdin). */
export function runContainerShim(config: ShimConfig, report: (m: ShimMessage) => void, input?: { head: Buffer; rest: Readable }): Promise<void> {
  const log = new CriLogWriter(config.logFile);
  const argv = config.argv;
  return new Promise((resolve) => {
    // detached: setsid(), a session and process group of the program's own.
    const child = spawn(argv[0]!, argv.slice(1), { env: config.env, cwd: config.cwd, shell: false, detached: true, stdio: [config.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (child.stdin && input) {
      // A program that stops reading (or exits) must not end the shim.
      child.stdin.on('error', () => {});
      if (input.head.length) child.stdin.write(input.head);
      input.rest.pipe(child.stdin);
    }
    let settled = false;
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      const message = startErrorMessage(argv[0]!, err);
      log.write('stderr', `${message}\n`);
      void log.close().then(() => {
        report({ startError: message });
        resolve();
      });
    });
    child.once('spawn', () => report({ started: { pid: child.pid! } }));
    const outputEnded = Promise.all([
      new Promise((r) => child.stdout!.once('close', r)),
      new Promise((r) => child.stderr!.once('close', r)),
    ]);
    child.stdout!.on('data', (d: Buffer) => log.write('stdout', d));
    child.stderr!.on('data', (d: Buffer) => log.write('stderr', d));
    child.on('exit', (code, signal) => {
      if (settled) return;
      settled = true;
      const pid = child.pid!;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Nothing else was left in the group.
      }
      const n = signal ? (constants.signals[signal] ?? 0) : 0;
      const exit = signal ? { exitCode: 128 + n, signal: n } : { exitCode: code ?? 0 };
      void (async () => {
        await waitGroupGone(pid);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([outputEnded, new Promise((r) => (timer = setTimeout(r, DRAIN_MS)))]);
        clearTimeout(timer);
        child.stdout!.destroy();
        child.stderr!.destroy();
        await log.close();
        report({ exited: exit });
        resolve();
      })();
    });
  });
}

/** The runtime's words when a program cannot be started (the kubelet reports them with StartError, exit code 128). */
export function startErrorMessage(command: string, err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOENT') return `exec: "${command}": executable file not found in $PATH`;
  if (err.code === 'EACCES') return `exec: "${command}": permission denied`;
  return `exec: "${command}": ${err.message}`;
}
