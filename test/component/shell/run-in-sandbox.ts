/** Runs argv in a container's simulated shell (as exec does) and collects what it wrote. */
import { PassThrough, Readable } from 'node:stream';
import type { Container } from 'kubernetes-types/core/v1.js';
import type { PodSandbox } from '../../../dataplane/node/shell/pod-sandbox.js';
import { runShellProgram } from '../../../dataplane/node/shell/shell-program.js';

export async function runInSandbox(box: PodSandbox, container: Container, env: Map<string, string>, argv: string[], stdin?: string | Buffer): Promise<{ stdout: Buffer; stderr: string; status: number }> {
  const ctx = await box.shellContext(container, env);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const status = await runShellProgram(ctx, argv, { stdin: stdin === undefined ? undefined : Readable.from([Buffer.from(stdin)]), stdout, stderr, tty: false, signal: new AbortController().signal });
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString(), status };
}
