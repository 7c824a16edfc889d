/**
 * The real kubectl (/usr/bin/kubectl, 1.32) in tests, two ways:
 *  - kubectlFor(server): against a server URL with a private cache and no kubeconfig
 *    (component tests of one handler);
 *  - kubectl(env, args) / kubectlStream(env, args) with kubectlEnv(kubeconfig): a cluster's own
 *    kubeconfig and a temp HOME (kubectl's discovery cache goes there), so the user's ~/.kube is
 *    never read or written.
 * A missing kubectl fails the test with a clear message; it is never skipped.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Kubectl {
  run(args: string[], stdin?: string): Promise<KubectlResult>;
  cleanup(): void;
}

export function kubectlFor(server: string): Kubectl {
  const dir = mkdtempSync(path.join(tmpdir(), 'knet-kubectl-'));
  const env = { ...process.env, HOME: dir, KUBECONFIG: path.join(dir, 'kubeconfig') };
  return {
    run: (args, stdin) =>
      new Promise((resolve) => {
        const child = execFile('kubectl', [...args, '--server', server, '--cache-dir', path.join(dir, 'cache')], { env, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        });
        if (stdin !== undefined) child.stdin?.end(stdin);
        else child.stdin?.end();
      }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

let checked = false;

export function kubectlBinary(): string {
  const bin = process.env.KUBECTL ?? 'kubectl';
  if (!checked) {
    try {
      execFileSync(bin, ['version', '--client'], { stdio: 'ignore' });
    } catch {
      throw new Error(`kubectl is missing (${bin}): the Kubernetes API tests run the real kubectl; install it (.ci/run does) or set KUBECTL`);
    }
    checked = true;
  }
  return bin;
}

export function kubectlEnv(kubeconfig: string): NodeJS.ProcessEnv {
  const home = mkdtempSync(path.join(tmpdir(), 'knet-kubectl-home-'));
  return { ...process.env, HOME: home, KUBECONFIG: kubeconfig, KUBECACHEDIR: path.join(home, 'cache') };
}

/** Runs kubectl to completion (stdin from `input`); never rejects: the result says how it ended. */
export function kubectl(env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<KubectlResult> {
  const bin = kubectlBinary();
  return new Promise((resolve) => {
    const child = execFile(bin, args, { env, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Starts a long-running kubectl (get -w, logs -f); `lines` collects its stdout lines. */
export function kubectlStream(env: NodeJS.ProcessEnv, args: string[]): { child: ChildProcess; lines: string[]; waitForLine(test: (line: string) => boolean, timeoutMs?: number): Promise<string> } {
  const child = spawn(kubectlBinary(), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<{ test: (l: string) => boolean; resolve: (l: string) => void }> = [];
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      for (const w of [...waiters]) {
        if (w.test(l)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    }
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    child,
    lines,
    waitForLine: (test, timeoutMs = 15_000) => {
      const seen = lines.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`kubectl ${args.join(' ')}: no matching line within ${timeoutMs} ms; got:\n${lines.join('\n')}\nstderr: ${stderr}`)), timeoutMs);
        waiters.push({
          test,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
      });
    },
  };
}

/**
 * kubectl in a pseudo-terminal (`-it`): its screen so far, a wait for the shell's prompt
 * (`/ # `, kubectl's resize on attach redraws it), keystrokes, and its exit code.
 */
export async function kubectlInTerminal(env: NodeJS.ProcessEnv, args: string[]): Promise<{ screen(): string; write(keys: string): void; exited: Promise<number> }> {
  const { spawn: ptySpawn } = (await import('@lydell/node-pty')) as typeof import('@lydell/node-pty');
  const term = ptySpawn(kubectlBinary(), args, { cols: 100, rows: 30, env: env as Record<string, string> });
  let screen = '';
  const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
  await new Promise<void>((resolve) =>
    term.onData((d) => {
      screen += d;
      if (screen.includes('/ # ')) resolve();
    }),
  );
  return { screen: () => screen, write: (keys) => term.write(keys), exited };
}
