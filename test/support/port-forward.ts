/**
 * A running port-forward, kubectl's or knet's (both print kubectl's "Forwarding from
 * 127.0.0.1:LOCAL -> REMOTE" line per port), once it is listening on every port asked for.
 */
import type { ChildProcess } from 'node:child_process';

export interface Forward {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** From the "Forwarding from 127.0.0.1:LOCAL -> REMOTE" lines. */
  ports: Array<{ local: number; remote: number }>;
}

const FORWARDING = /^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)$/gm;

/**
 * Resolves once `child` (started with stdout and stderr piped) printed a Forwarding line for each
 * of `portCount` ports; rejects if it exits first or prints none within timeoutMs. `what` names it
 * in the error, which carries its output.
 */
export function forwarding(child: ChildProcess, what: string, portCount: number, timeoutMs = 30_000): Promise<Forward> {
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const found = () => [...out.matchAll(FORWARDING)].map((m) => ({ local: Number(m[1]), remote: Number(m[2]) }));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} printed no Forwarding lines within ${timeoutMs / 1000} s:\n${out}\n${err}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (found().length !== portCount) return;
      clearTimeout(timer);
      resolve({ child, stdout: () => out, stderr: () => err, exited, ports: found() });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${out}\n${err}`));
    });
  });
}
