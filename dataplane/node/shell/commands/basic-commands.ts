/**
 * The toolbox commands that replace just-bash's own where a container must differ from an
 * agent's sandbox:
 *   env, printenv   exactly the exported environment: the container's (what the kubelet gives
 *                   it) plus what the session exported — not just-bash's shell variables;
 *   hostname        the pod's hostname (`-f`: the FQDN /etc/hosts gives it, `-i`: its IP);
 *   sleep           busybox's: `infinity`, suffixes s m h d, fractions; ends when the shell is killed;
 *   ls              accepts `-L` (volume files here are plain files, so following links changes nothing).
 */
import type { Command } from 'just-bash';
import type { JustBash } from '../just-bash-loader.js';
import type { ShellSession } from '../shell-session.js';

export interface PodIdentity {
  hostname: string;
  fqdn?: string;
  podIP: string;
}

/** just-bash exports PWD and OLDPWD itself; a container's environment has neither. */
function environmentOf(exported: Record<string, string> | undefined): Record<string, string> {
  const env = { ...(exported ?? {}) };
  delete env.PWD;
  delete env.OLDPWD;
  return env;
}

const ok = (stdout: string) => ({ stdout, stderr: '', exitCode: 0 });
const fail = (stderr: string, exitCode = 1) => ({ stdout: '', stderr, exitCode });

export function basicCommands(lib: JustBash, session: ShellSession, pod: PodIdentity): Command[] {
  return [
    lib.defineCommand('env', async (args, ctx) => {
      const env = environmentOf(ctx.exportedEnv);
      let i = 0;
      for (; i < args.length; i++) {
        const a = args[i]!;
        if (a === '-i' || a === '-') for (const k of Object.keys(env)) delete env[k];
        else if (a === '-u') delete env[args[++i] ?? ''];
        else if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(a)) env[a.slice(0, a.indexOf('='))] = a.slice(a.indexOf('=') + 1);
        else break;
      }
      if (i < args.length) {
        if (!ctx.exec) return fail('env: cannot run commands here\n', 126);
        const argv = args.slice(i).map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
        return ctx.exec(argv, { cwd: ctx.cwd, env, replaceEnv: true, stdin: lib.latin1FromBytes(ctx.stdin) });
      }
      return ok(Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''));
    }),
    lib.defineCommand('printenv', async (args, ctx) => {
      const env = environmentOf(ctx.exportedEnv);
      if (args.length === 0) return ok(Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''));
      let out = '';
      let missing = 0;
      for (const name of args) {
        if (name in env) out += `${env[name]}\n`;
        else missing++;
      }
      return { stdout: out, stderr: '', exitCode: missing ? 1 : 0 };
    }),
    lib.defineCommand('hostname', async (args) => {
      if (args.includes('-f') || args.includes('--fqdn')) return ok(`${pod.fqdn ?? pod.hostname}\n`);
      if (args.includes('-i') || args.includes('--ip-address')) return ok(`${pod.podIP}\n`);
      if (args.includes('-s') || args.includes('--short')) return ok(`${pod.hostname.split('.')[0]}\n`);
      if (args.length > 0 && !args[0]!.startsWith('-')) return fail('hostname: sethostname: Operation not permitted\n');
      return ok(`${pod.hostname}\n`);
    }),
    lib.defineCommand('sleep', async (args) => {
      if (args.length === 0) return fail('sleep: missing operand\n');
      let ms = 0;
      for (const a of args) {
        const d = parseSleep(a);
        if (d === undefined) return fail(`sleep: invalid number '${a}'\n`);
        ms += d;
      }
      await abortableSleep(ms, session.signal);
      return ok('');
    }),
    lib.defineCommand('ls', async (args, ctx) => {
      const kept = args.map((a) => (/^-[A-Za-z0-9]+$/.test(a) && a.includes('L') ? a.replace(/L/g, '') : a)).filter((a) => a !== '-');
      return ctx.origCommand ? ctx.origCommand(kept) : fail('ls: not available\n', 127);
    }),
  ];
}

/** busybox sleep's argument: a number with an optional s/m/h/d suffix, or `inf`/`infinity`. Milliseconds. */
export function parseSleep(arg: string): number | undefined {
  if (/^inf(inity)?$/i.test(arg)) return Infinity;
  const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(arg);
  if (!m) return undefined;
  const unit = { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** Waits `ms` (Infinity: until aborted); resolves early when the shell is killed. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    // setTimeout caps at 2^31-1 ms; longer sleeps re-arm.
    const arm = (left: number) => {
      if (left === Infinity) timer = setTimeout(() => arm(Infinity), 2 ** 31 - 1);
      else timer = setTimeout(() => (left > 2 ** 31 - 1 ? arm(left - (2 ** 31 - 1)) : done()), Math.min(left, 2 ** 31 - 1));
    };
    signal.addEventListener('abort', done);
    arm(ms);
  });
}
