/**
 * execInPod: runs a command in a running container of a pod on this node, as the kubelet's
 * exec does, with streams — the interface the API server's `pods/exec` route and `knet exec`
 * reach through this node's exec endpoint (exec-server.ts):
 *
 *   const s = execInPod(handle, 'client', ['sh'], { stdin, tty: true, size: { cols: 80, rows: 24 } });
 *   s.stdout.pipe(…); s.stderr.pipe(…); s.resize(120, 40); const code = await s.exit;
 *
 * An emulated image (agnhost, the identity responder, the echoserver, the toolbox images)
 * runs the command in the pod's simulated shell (../shell/shell-program.ts: its files, its
 * environment, connections from the pod IP); a program's container runs it as a real local
 * process with the container's environment and working directory (exec-process.ts), on a
 * pseudo-terminal with `tty`. With a terminal, stderr is the terminal too (one stream), as
 * Kubernetes does it.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { PodHandle } from '../runtime/container-runner.js';
import { runShellProgram } from '../shell/shell-program.js';
import { execProcess } from './exec-process.js';

export interface TerminalSize {
  cols: number;
  rows: number;
}

export interface ExecOptions {
  stdin?: Readable;
  tty?: boolean;
  size?: TerminalSize;
}

export interface ExecSession {
  stdout: Readable;
  stderr: Readable;
  /** The command's exit status (128 + signal when killed). */
  exit: Promise<number>;
  resize(size: TerminalSize): void;
  /** Ends the command (the client went away). */
  kill(): void;
}

export class ExecError extends Error {
  constructor(
    message: string,
    /** The HTTP status the endpoint answers with. */
    readonly status: number,
  ) {
    super(message);
  }
}

export function execInPod(pod: PodHandle, container: string, argv: string[], opts: ExecOptions = {}): ExecSession {
  if (argv.length === 0) throw new ExecError('you must specify at least one command for the container', 400);
  const target = pod.execTarget(container);
  if ('error' in target) throw new ExecError(target.error, 400);
  if (target.kind === 'process') return execProcess(target, argv, opts);
  const sandbox = pod.sandbox;
  if (!sandbox) throw new ExecError(`container ${container} has no sandbox to exec in`, 500);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const kill = new AbortController();
  const size = { ...(opts.size ?? { cols: 80, rows: 24 }) };
  Object.assign(stdout, { columns: size.cols, rows: size.rows });
  const exit = (async () => {
    const ctx = await sandbox.shellContext(target.container, target.env);
    try {
      return await runShellProgram(ctx, argv, { stdin: opts.stdin, stdout, stderr, tty: !!opts.tty, signal: kill.signal });
    } finally {
      stdout.end();
      stderr.end();
    }
  })().catch((err: unknown) => {
    stderr.end(`knet: ${(err as Error).message}\n`);
    stdout.end();
    return 126;
  });
  return {
    stdout,
    stderr,
    exit,
    resize(next) {
      Object.assign(stdout, { columns: next.cols, rows: next.rows });
      stdout.emit('resize');
    },
    kill: () => kill.abort(),
  };
}
