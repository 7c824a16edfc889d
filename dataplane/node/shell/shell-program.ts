/**
 * Runs an argv in an emulated container's shell — a toolbox container's command, or what
 * `kubectl exec` asks for:
 *   sh|ash|bash -c SCRIPT [NAME ARGS…]   the script (positional parameters from ARGS);
 *   sh FILE                              a script file from the container's filesystem;
 *   sh (no -c)                           a shell reading commands from stdin: with a terminal
 *                                        (exec -it) an interactive prompt (`/ # `, line
 *                                        editing, history, ^C, ^D, `exit`), without one the
 *                                        lines run as they arrive, no prompt;
 *   anything else                        that one command, arguments passed as they are.
 * Exit status as a shell's: the last command's, `exit N`'s, 127 for a command not found.
 *
 * stdin: a command (not an interactive shell) gets the whole of stdin once it has ended,
 * since just-bash takes stdin as one string; so `exec -i pod -- cat` answers at EOF.
 */
import readline from 'node:readline';
import { Readable, type Writable } from 'node:stream';
import type { ContainerShellContext } from './pod-shell.js';
import { openShell } from './pod-shell.js';
import { shellQuote, type ShellSession } from './shell-session.js';
import { busyboxTarArgv } from './commands/tar-names.js';

export interface ShellProgramIO {
  stdin?: Readable;
  stdout: Writable;
  stderr: Writable;
  tty: boolean;
  /** Aborted to kill the program (SIGKILL, the client went away). */
  signal: AbortSignal;
}

const SHELLS = /^(\/bin\/|\/usr\/bin\/)?(sh|ash|bash)$/;

export async function runShellProgram(ctx: ContainerShellContext, argv: string[], io: ShellProgramIO): Promise<number> {
  const toTerminal = (s: string) => (io.tty ? s.replace(/\r?\n/g, '\r\n') : s);
  const out = {
    stdout: (s: string | Buffer) => io.stdout.write(typeof s === 'string' ? toTerminal(s) : s),
    stderr: (s: string) => (io.tty ? io.stdout : io.stderr).write(toTerminal(s)),
  };
  if (argv.length === 0) argv = ['sh'];
  if (SHELLS.test(argv[0]!)) {
    const rest = argv.slice(1).filter((a) => a !== '-i' && a !== '-l' && a !== '-s');
    if (rest[0] === '-c') {
      if (rest.length < 2) {
        out.stderr('sh: -c requires an argument\n');
        return 2;
      }
      const session = await openShell(ctx, out, io.signal, { tty: io.tty, positional: rest.slice(3) });
      const stdin = io.stdin ? await readAll(io.stdin) : undefined;
      return (await session.run(rest[1]!, stdin)).status;
    }
    if (rest.length > 0 && !rest[0]!.startsWith('-')) {
      const session = await openShell(ctx, out, io.signal, { tty: io.tty, positional: rest.slice(1) });
      let script: string;
      try {
        script = await ctx.fs.readFile(rest[0]!.startsWith('/') ? rest[0]! : `${ctx.workingDir.replace(/\/$/, '')}/${rest[0]}`);
      } catch {
        out.stderr(`sh: can't open '${rest[0]}': No such file or directory\n`);
        return 2;
      }
      return (await session.run(script)).status;
    }
    const session = await openShell(ctx, out, io.signal, { tty: io.tty });
    return repl(session, io, out);
  }
  const session = await openShell(ctx, out, io.signal, { tty: io.tty });
  const stdin = io.stdin ? await readAll(io.stdin) : undefined;
  // A file tool's output byte for byte (kubectl cp's tar); knet's own commands (curl, nc…) as
  // before: they stream, and know whether they write to a terminal.
  if (!io.tty && !session.ownCommands.has(argv[0]!)) {
    const tar = busyboxTarArgv(argv);
    if (tar.note) out.stderr(tar.note);
    return (await session.runCommand(tar.argv, stdin)).status;
  }
  return (await session.run(argv.map(shellQuote).join(' '), stdin)).status;
}

/** A shell reading its commands from stdin, line by line; interactive with a terminal. */
async function repl(session: ShellSession, io: ShellProgramIO, out: { stdout(s: string): void; stderr(s: string): void }): Promise<number> {
  const input = io.stdin ?? Readable.from([]);
  const rl = readline.createInterface({ input, output: io.tty ? io.stdout : undefined, terminal: io.tty, historySize: 500, prompt: '' });
  const ps1 = () => {
    const home = session.env.HOME ?? '/root';
    const cwd = session.cwd === home ? '~' : session.cwd.startsWith(home + '/') ? `~${session.cwd.slice(home.length)}` : session.cwd;
    return `${cwd} # `;
  };
  let status = 0;
  let running: AbortController | undefined;
  let pending = '';
  let exited = false;
  rl.on('SIGINT', () => {
    if (running) running.abort();
    else {
      pending = '';
      out.stdout('^C\n');
      rl.setPrompt(ps1());
      rl.prompt();
    }
  });
  const stopOnKill = () => rl.close();
  io.signal.addEventListener('abort', stopOnKill, { once: true });
  if (io.tty) {
    rl.setPrompt(ps1());
    rl.prompt();
  }
  try {
    for await (const line of rl) {
      pending += (pending ? '\n' : '') + line;
      if (incomplete(session, pending)) {
        if (io.tty) {
          rl.setPrompt('> ');
          rl.prompt();
        }
        continue;
      }
      const script = pending;
      pending = '';
      if (script.trim()) {
        running = new AbortController();
        const r = await session.run(script, undefined, running.signal);
        running = undefined;
        status = r.status;
        if (r.exited || io.signal.aborted) {
          exited = true;
          break;
        }
      }
      if (io.tty) {
        rl.setPrompt(ps1());
        rl.prompt();
      }
    }
  } finally {
    io.signal.removeEventListener('abort', stopOnKill);
    rl.close();
  }
  // ^D at the prompt: busybox ash leaves a new line behind.
  if (io.tty && !exited && !io.signal.aborted) out.stdout('\n');
  return status;
}

/** Input that needs more lines (an open quote, `do` without `done`, a trailing `\`). */
function incomplete(session: ShellSession, text: string): boolean {
  if (/\\$/.test(text)) return true;
  return session.needsMoreInput(text);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks);
}
