/**
 * A container with a `command` runs as a real local process: command + args after `$(VAR)`
 * expansion, no shell, the resolved container environment on top of the node's own (minus
 * KNET_* settings, so the cluster's credentials do not leak into workloads), stdout and stderr
 * appended to the container's log file.
 *
 * Signals follow container semantics: SIGTERM goes to the main process only (it is PID 1 of
 * its container), SIGKILL and the main process's exit take down its whole process group (the
 * runtime kills the cgroup), so a `sh -c` wrapper cannot leave orphans listening on the pod IP.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import type { ContainerContext, ContainerExit, ContainerProcess, StopSignal } from './container-process.js';

/** The node's environment a process container starts from. */
export function baseProcessEnv(source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) if (v !== undefined && !k.startsWith('KNET_')) out[k] = v;
  return out;
}

/** Resolves once the process is running (or failed to start: `startError` is then set). */
export function startProcessContainer(ctx: ContainerContext, baseEnv: Record<string, string> = baseProcessEnv()): Promise<ContainerProcess> {
  const argv = [...ctx.command, ...ctx.args];
  const env = { ...baseEnv, ...Object.fromEntries(ctx.env) };
  const cwd = ctx.container.workingDir && existsSync(ctx.container.workingDir) ? ctx.container.workingDir : undefined;
  let resolveExit!: (e: ContainerExit) => void;
  const exited = new Promise<ContainerExit>((r) => (resolveExit = r));
  let done = false;
  const finish = (e: ContainerExit) => {
    if (done) return;
    done = true;
    resolveExit(e);
  };

  const child = spawn(argv[0]!, argv.slice(1), { env, cwd, shell: false, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (c: Buffer) => ctx.log.write(c));
  child.stderr?.on('data', (c: Buffer) => ctx.log.write(c));

  const killGroup = (sig: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // The group is already gone.
    }
  };

  let startError: string | undefined;
  child.on('error', (err: NodeJS.ErrnoException) => {
    // The runtime could not start the process: the kubelet reports StartError with exit code 128.
    startError =
      err.code === 'ENOENT'
        ? `exec: "${argv[0]}": executable file not found in $PATH`
        : err.code === 'EACCES'
          ? `exec: "${argv[0]}": permission denied`
          : `exec: "${argv[0]}": ${err.message}`;
    ctx.log.write(`${startError}\n`);
    finish({ exitCode: 128, startError });
  });
  child.on('exit', (code, signal) => {
    killGroup('SIGKILL');
    const n = signal ? (constants.signals[signal] ?? 0) : 0;
    const result: ContainerExit = signal ? { exitCode: 128 + n, signal: n } : { exitCode: code ?? 0 };
    // Report once the output is flushed ('close'); a daemon that escaped the group and holds the
    // pipes open must not keep the container "running", hence the short fallback.
    const fallback = setTimeout(() => finish(result), 200);
    child.once('close', () => {
      clearTimeout(fallback);
      finish(result);
    });
  });

  const proc: ContainerProcess = {
    exited,
    get startError() {
      return startError;
    },
    signal(sig: StopSignal) {
      if (done || child.pid === undefined) return;
      if (sig === 'SIGKILL') killGroup('SIGKILL');
      else child.kill('SIGTERM');
    },
  };
  return new Promise((resolve) => {
    child.once('spawn', () => resolve(proc));
    void exited.then(() => resolve(proc));
  });
}
