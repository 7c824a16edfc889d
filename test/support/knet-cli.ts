/**
 * The built knet CLI (cliEntry: `npm run build` makes it) run as a user runs it, in a process of
 * its own: its exit code, stdout and stderr. It never rejects on a non-zero exit; the result says
 * how it ended (-1: killed, e.g. by the timeout).
 */
import { spawn } from 'node:child_process';
import type { KnetCluster } from '../../dataplane/index.js';
import { cliEntry } from '../../dataplane/cluster/cluster.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Sent on stdin, then its end; without it stdin is /dev/null. */
  input?: string | Uint8Array;
  /** Killed after this long (its code is then -1). */
  timeoutMs?: number;
}

export function runKnet(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliEntry(), ...args], { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {}); // it may exit before reading everything
      child.stdin!.end(opts.input);
    }
  });
}

/** `knet exec ARGS…` against `cluster` (by its Redis, as `knet exec --redis` reaches the node directly). */
export function knetExec(cluster: KnetCluster, args: string[], input?: string): Promise<CliResult> {
  return runKnet(['--redis', cluster.ref.redisUrl, '--cluster', cluster.name, 'exec', ...args], { input });
}
