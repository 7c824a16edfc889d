/**
 * A container with a `command` runs as a real local process: command + args after `$(VAR)`
 * expansion, no shell, the resolved container environment on top of the node's own (minus
 * KNET_* settings and KUBECONFIG, so the cluster's credentials do not leak into workloads).
 *
 * It is started by a container shim (container-shim.ts, a small process of its own, as
 * containerd-shim): the shim reads the program's stdout and stderr into the run's CRI log file
 * and outlives a node agent killed with SIGKILL, so the program keeps running and logging until
 * the agent's next run takes it back (container-records.ts).
 *
 * The program runs in a session and process group of its own (setsid), so a signal to the
 * node agent's group (a Ctrl-C) does not reach it, and its group can be killed whole. Signals
 * follow container semantics: SIGTERM goes to the main process only (it is PID 1 of its
 * container), SIGKILL and the main process's exit take down its whole process group (the
 * runtime kills the cgroup), so a `sh -c` wrapper cannot leave orphans listening on the pod
 * IP; the exit is reported once the group is gone and its output written.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ContainerContext, ContainerExit, ContainerProcess, StopSignal } from './container-process.js';
import type { ShimConfig, ShimMessage } from './container-shim.js';
import { identify, killGroup, signalGroup, signalProcess, type ProcessIdentity } from './process-identity.js';

/**
 * The node's environment a process container starts from: without knet's settings and without
 * the user's KUBECONFIG, so neither the cluster's credentials nor the admin's reach workloads
 * (a pod's programs get a KUBECONFIG of their own service account: program-api-access.ts).
 */
export function baseProcessEnv(source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) if (v !== undefined && !k.startsWith('KNET_') && k !== 'KUBECONFIG') out[k] = v;
  return out;
}

export const SHIM_LOST = 'The container shim exited without reporting the container\'s exit';

/** Resolves once the process is running (or failed to start: `startError` is then set). */
export function startProcessContainer(ctx: ContainerContext, baseEnv: Record<string, string> = baseProcessEnv()): Promise<ContainerProcess> {
  const argv = [...ctx.command, ...ctx.args];
  const env = { ...baseEnv, ...Object.fromEntries(ctx.env) };
  const cwd = ctx.container.workingDir && existsSync(ctx.container.workingDir) ? ctx.container.workingDir : undefined;
  let resolveExit!: (e: ContainerExit) => void;
  const exited = new Promise<ContainerExit>((r) => (resolveExit = r));
  let done = false;
  let startError: string | undefined;
  let identity: ProcessIdentity | undefined;
  let pid: number | undefined;
  const finish = (e: ContainerExit) => {
    if (done) return;
    done = true;
    resolveExit(e);
  };

  let entry: string;
  try {
    entry = shimEntry();
  } catch (err) {
    startError = (err as Error).message;
    ctx.log.write(`${startError}\n`, 'stderr');
    return Promise.resolve({ exited: Promise.resolve({ exitCode: 128, startError }), startError, signal() {} });
  }
  // detached: the shim gets a session of its own, so it survives whatever ends the agent's.
  // Its environment is empty: NODE_OPTIONS and the like are the program's, not the shim's.
  const shim = spawn(process.execPath, [entry], { detached: true, stdio: ['pipe', 'pipe', 'ignore'], env: {} });
  const config: ShimConfig = { argv, env, ...(cwd ? { cwd } : {}), logFile: ctx.log.path, stdin: !!ctx.container.stdin };
  shim.stdin!.on('error', () => {});
  // The configuration is the first line; with `stdin: true` the rest of the pipe is the program's
  // stdin, what `kubectl attach -i` writes to (it ends with the agent: an adopted program's
  // stdin is at EOF, as when the kubelet that attached it is gone).
  shim.stdin!.write(`${JSON.stringify(config)}\n`);
  if (!ctx.container.stdin) shim.stdin!.end();
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  createInterface({ input: shim.stdout! }).on('line', (line) => {
    let m: ShimMessage;
    try {
      m = JSON.parse(line) as ShimMessage;
    } catch {
      return;
    }
    if ('started' in m) {
      pid = m.started.pid;
      identity = identify(pid);
      started();
    } else if ('startError' in m) {
      startError = m.startError;
      finish({ exitCode: 128, startError });
    } else if ('exited' in m) {
      finish(m.exited.signal ? { exitCode: m.exited.exitCode, signal: m.exited.signal } : { exitCode: m.exited.exitCode });
    }
  });
  shim.on('error', (err) => {
    startError = `the container shim could not be started: ${err.message}`;
    finish({ exitCode: 128, startError });
  });
  shim.on('exit', () => {
    if (done) return;
    // The shim died before reporting (killed from outside): the program must not run on unwatched.
    void (identity ? killGroup(identity) : Promise.resolve(true)).then(() => finish({ exitCode: 137, statusUnknown: SHIM_LOST }));
  });

  const proc: ContainerProcess = {
    exited,
    get startError() {
      return startError;
    },
    get identity() {
      return identity;
    },
    stdin: ctx.container.stdin ? shim.stdin! : undefined,
    signal(sig: StopSignal) {
      if (done) return;
      if (identity) {
        if (sig === 'SIGKILL') signalGroup(identity, 'SIGKILL');
        else signalProcess(identity, 'SIGTERM');
        return;
      }
      if (pid !== undefined) {
        try {
          process.kill(sig === 'SIGKILL' ? -pid : pid, sig);
        } catch {
          // Gone already.
        }
      } else if (sig === 'SIGKILL' && shim.pid !== undefined) {
        // Not started yet: the shim goes, and with it the start.
        try {
          process.kill(-shim.pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    },
  };
  return Promise.race([running, exited]).then(() => proc);
}

/**
 * The shim's program: the bundle's dist/knet/container-shim.js (scripts/bundle.mjs), else tsc's
 * output. Found from the bundle itself, from dist/dataplane and from the TypeScript sources.
 */
export function shimEntry(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.join(here, 'container-shim.js'), // inside the bundle (the knet/ directory)
    path.join(here, '..', 'container-shim.js'), // inside the bundle (knet/chunks/)
    path.join(here, 'container-shim-main.js'), // dist/dataplane/node/runtime
    path.resolve(here, '..', '..', '..', 'dist', 'knet', 'container-shim.js'), // dataplane/node/runtime (sources, tests)
    path.resolve(here, '..', '..', '..', 'dist', 'dataplane', 'node', 'runtime', 'container-shim-main.js'),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (found) return found;
  throw new Error(`cannot find the container shim (${candidates.at(-1)}); run \`npm run build\``);
}
