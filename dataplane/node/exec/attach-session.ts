/**
 * An attach session, in the shape the endpoint streams (ExecSession): the container's output
 * from now on as stdout (stdout and stderr are one log), the client's stdin into the main
 * process's stdin (never ended by the client: only `stdinOnce` closes it), resizes to its
 * terminal. It ends when the container's main process does — the kubelet then reports Success
 * whatever the exit code (kubectl run reads that from the pod's status) — or when the client
 * goes (`kill` detaches; the container keeps running).
 */
import { PassThrough, type Readable } from 'node:stream';
import type { AttachTarget } from '../runtime/container-attach.js';
import type { ExecSession } from './exec-in-pod.js';

export function attachSession(target: AttachTarget, stdin: Readable | undefined): ExecSession {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stderr.end();
  let resolveExit!: (code: number) => void;
  const exit = new Promise<number>((r) => (resolveExit = r));
  const unsubscribe = target.onOutput((chunk) => stdout.write(chunk));
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    unsubscribe();
    stdout.end();
    resolveExit(0);
  };
  void target.exited.then(end);
  if (stdin) {
    stdin.on('data', (c: Buffer) => {
      if (target.stdin && !target.stdin.writableEnded) target.stdin.write(c);
    });
    stdin.once('end', () => target.stdinDone());
  }
  return {
    stdout,
    stderr,
    exit,
    resize: (size) => target.resize(size),
    kill: end,
  };
}
