/**
 * One command run to its end in an emulated container's shell, its output collected: what an
 * exec probe does in a toolbox image (`cat /tmp/healthy` must see the file the container's
 * own shell wrote, in its virtual filesystem), and what an exec lifecycle hook runs. A timeout
 * kills it, as the kubelet's does; so does `signal` (a hook's container is gone).
 */
import { PassThrough } from 'node:stream';
import type { Container } from 'kubernetes-types/core/v1.js';
import type { PodSandbox } from './pod-sandbox.js';
import { runShellProgram } from './shell-program.js';

export interface ShellCommandResult {
  exitCode: number;
  output: string;
  timedOut: boolean;
}

export async function runShellCommand(sandbox: PodSandbox, container: Container, env: ReadonlyMap<string, string>, argv: string[], timeoutMs: number, signal?: AbortSignal): Promise<ShellCommandResult> {
  const ctx = await sandbox.shellContext(container, env);
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const kill = new AbortController();
  // Node's longest timer: a longer one would fire at once.
  const timer = setTimeout(() => kill.abort(), Math.min(2 ** 31 - 1, Math.max(1, timeoutMs)));
  const cancel = () => kill.abort();
  if (signal?.aborted) cancel();
  else signal?.addEventListener('abort', cancel, { once: true });
  try {
    const exitCode = await runShellProgram(ctx, argv, { stdout: out, stderr: out, tty: false, signal: kill.signal });
    return { exitCode, output: Buffer.concat(chunks).toString('utf8'), timedOut: kill.signal.aborted && !signal?.aborted };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', cancel);
  }
}
