/**
 * exec in a program's container: the command runs as a real local process with the
 * container's environment (the node's, minus KNET_*, plus the container's) and working
 * directory, as `crictl exec` would run it in the container. With a terminal it gets a
 * pseudo-terminal from node-pty (@lydell/node-pty: prebuilt for Linux, macOS and Windows,
 * Node-API, so no compiler is needed on Node 20, 22 or 24); without, plain pipes.
 * A command that cannot be started ends with 126 and the runtime's message, as runc's
 * "exec failed" does.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { PassThrough } from 'node:stream';
import type { IPty } from '@lydell/node-pty';
import type { ExecTarget } from '../runtime/container-runner.js';
import type { ExecOptions, ExecSession } from './exec-in-pod.js';

type NodePty = typeof import('@lydell/node-pty');
let pty: NodePty | undefined;
function loadPty(): NodePty {
  // A native module: loaded on the first `exec -t` into a program only.
  return (pty ??= createRequire(import.meta.url)('@lydell/node-pty') as NodePty);
}

export function execProcess(target: ExecTarget, argv: string[], opts: ExecOptions): ExecSession {
  const env: Record<string, string> = { ...target.baseEnv, ...Object.fromEntries(target.env) };
  if (opts.tty) env.TERM ??= 'xterm';
  const cwd = target.container.workingDir && existsSync(target.container.workingDir) ? target.container.workingDir : undefined;
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const notStarted = (why: string) => {
    stderr.end(`OCI runtime exec failed: exec failed: unable to start container process: exec: "${argv[0]}": ${why}: unknown\n`);
    stdout.end();
    return 126;
  };
  if (opts.tty) {
    let term: IPty;
    try {
      term = loadPty().spawn(argv[0]!, argv.slice(1), { cols: opts.size?.cols ?? 80, rows: opts.size?.rows ?? 24, cwd, env, name: 'xterm' });
    } catch (err) {
      return { stdout, stderr, exit: Promise.resolve(notStarted((err as Error).message)), resize() {}, kill() {} };
    }
    term.onData((d) => stdout.write(d));
    opts.stdin?.on('data', (c: Buffer) => term.write(c.toString('utf8')));
    const exit = new Promise<number>((resolve) =>
      term.onExit(({ exitCode, signal }) => {
        stdout.end();
        stderr.end();
        resolve(signal ? 128 + signal : exitCode);
      }),
    );
    return { stdout, stderr, exit, resize: (s) => term.resize(s.cols, s.rows), kill: () => term.kill('SIGKILL') };
  }
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const exit = new Promise<number>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => resolve(notStarted(err.code === 'ENOENT' ? 'executable file not found in $PATH' : err.message)));
    child.once('close', (code, signal) => resolve(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 0)));
  });
  child.stdout?.pipe(stdout);
  child.stderr?.pipe(stderr);
  if (opts.stdin && child.stdin) {
    child.stdin.on('error', () => {});
    opts.stdin.pipe(child.stdin);
  }
  return { stdout, stderr, exit, resize() {}, kill: () => child.kill('SIGKILL') };
}
