/**
 * One shell (`sh`) of an emulated container, built on just-bash. just-bash's exec() runs a
 * whole script and returns its output at the end, with a fresh shell state each call. A
 * container's shell must instead show output as it happens (a looping client pod's log, an
 * interactive session) and keep its state between the lines a user types. So a script is run
 * piece by piece, each piece one exec():
 *   - every top-level statement is a piece, its output flushed when it ends;
 *   - a top-level `while`/`until` loop runs its condition and each statement of its body as
 *     pieces, iteration after iteration (`break` and `continue` keep working: each body
 *     statement runs inside a one-pass wrapper loop that reports which way it left), so
 *     `while true; do wget -qO- web; sleep 1; done` logs each response when it arrives;
 *     a `for` loop expands its words once, then runs its body the same way;
 *   - between pieces the state is carried over (shell-state.ts): cwd, variables and exports,
 *     `set -o` options, functions, positional parameters and `$?`.
 * What is not streamed: the output of one statement that is not such a loop (a pipeline, an
 * `if`, a `$(…)`, a loop with redirections) comes when that statement ends — except for the
 * network commands that stream on their own when they are the whole statement (ping, nc; see
 * `liveOutput`). With stdin given (exec -i), the script runs as one piece so that every
 * command reads the same input stream.
 *
 * just-bash says `bash: …`; this shell is `sh` (busybox ash): messages read `sh: …`, and a
 * missing command `sh: foo: not found` (exit 127).
 */
import type { Command, IFileSystem, ScriptNode, StatementNode } from 'just-bash';
import type { JustBash } from './just-bash-loader.js';
import { initialState, prelude, shellQuote, stateFrom, type CapturedShell, type ShellState } from './shell-state.js';

export interface ShellIO {
  /** Text, or bytes from a command run byte for byte (`runCommand`). */
  stdout(chunk: string | Buffer): void;
  stderr(chunk: string): void;
}

export interface ShellSessionOptions {
  lib: JustBash;
  fs: IFileSystem;
  /** The container's environment: the shell starts with it exported. */
  env: Record<string, string>;
  cwd: string;
  io: ShellIO;
  /** Aborted when the shell is killed (SIGKILL, the end of a session): it stops at the next statement. */
  signal: AbortSignal;
  /** Commands of the image (network tools, env, sleep…), made for this session. */
  commands: (session: ShellSession) => Command[];
  positional?: string[];
  /** The session has a terminal (exec -t): programs writing to it behave as on a tty. */
  tty?: boolean;
}

export interface RunResult {
  /** The shell exited (`exit`, `set -e`): no more input is read. */
  exited: boolean;
  status: number;
}

interface Captured {
  flow: 'next' | 'break' | 'continue';
  status: number;
  shell: CapturedShell;
}

type Flow = { kind: 'next' | 'break' | 'continue'; status: number } | { kind: 'exit'; status: number; interrupted?: boolean };

const STATUS = '__knet_status';
const SAVE = '__knet_save';
const WORDS = '__knet_words';
const BYTES = '__knet_bytes';

export class ShellSession {
  private state: ShellState;
  private baseline!: CapturedShell;
  private captured: Captured | undefined;
  private words: string[] = [];
  private live: string | undefined;
  /** The kill signal, or with it the interrupt (^C) of the command line running now. */
  private current: AbortSignal;
  private readonly bash: InstanceType<JustBash['Bash']>;
  /** The image's commands knet provides (network tools, env…), as opposed to just-bash's. */
  readonly ownCommands: ReadonlySet<string>;

  private constructor(private readonly opts: ShellSessionOptions) {
    this.state = initialState(opts.cwd, opts.positional);
    this.current = opts.signal;
    const lib = opts.lib;
    const control: Command[] = [
      lib.defineCommand(STATUS, async (args) => ({ stdout: '', stderr: '', exitCode: Number(args[0] ?? 0) })),
      lib.defineCommand(SAVE, async (args, ctx) => {
        const status = Number(args[1] ?? 0);
        // The wrapper's closing `break` save only counts when the statement saved nothing itself.
        if (!(args[0] === 'break' && this.captured)) {
          this.captured = { flow: args[0] as Captured['flow'], status, shell: { cwd: ctx.cwd, vars: Object.fromEntries(ctx.env), exported: { ...ctx.exportedEnv } } };
        }
        return { stdout: '', stderr: '', exitCode: status };
      }),
      lib.defineCommand(WORDS, async (args) => {
        this.words = args;
        return { stdout: '', stderr: '', exitCode: 0 };
      }),
      // The end of a pipe carries the bytes a command wrote, as it wrote them (exec's result is text).
      lib.defineCommand(BYTES, async (_args, ctx) => {
        const bytes = Buffer.from(lib.latin1FromBytes(ctx.stdin), 'latin1');
        if (bytes.length) this.opts.io.stdout(bytes);
        return { stdout: '', stderr: '', exitCode: 0 };
      }),
    ];
    const own = opts.commands(this);
    this.ownCommands = new Set(own.map((c) => c.name));
    this.bash = new lib.Bash({
      fs: opts.fs,
      env: opts.env,
      cwd: opts.cwd,
      customCommands: [...control, ...own],
      // A container's shell runs until it is stopped; each piece is bounded by the defaults otherwise.
      executionLimits: { maxExecutionTimeMs: Infinity },
    });
  }

  static async create(opts: ShellSessionOptions): Promise<ShellSession> {
    const s = new ShellSession(opts);
    await s.bash.exec(`${SAVE} next 0`);
    s.baseline = s.captured!.shell;
    s.captured = undefined;
    return s;
  }

  /** Aborted when the running command line is interrupted or the shell killed: long commands stop on it. */
  get signal(): AbortSignal {
    return this.current;
  }

  get cwd(): string {
    return this.state.cwd;
  }

  get env(): Record<string, string> {
    return this.opts.env;
  }

  get fs(): IFileSystem {
    return this.opts.fs;
  }

  /**
   * For a command that can stream (ping, nc): a writer straight to the session's stdout when
   * that command is the whole statement (no pipe, redirection or `$(…)` could need its output
   * as a value). Taken once per statement.
   */
  liveOutput(command: string): ((chunk: string) => void) | undefined {
    if (this.live !== command) return undefined;
    this.live = undefined;
    return (chunk) => this.opts.io.stdout(chunk);
  }

  /** Whether `command`'s stdout is the session's terminal (a tty session, the command the whole statement). */
  isTerminal(command: string): boolean {
    return !!this.opts.tty && this.live === command;
  }

  /** Whether `text` is a command line still open (a quote, a `do` without `done`…): a prompt asks for more. */
  needsMoreInput(text: string): boolean {
    try {
      this.opts.lib.parse(text);
      return false;
    } catch (err) {
      const msg = (err as Error).message;
      if (/EOF|end of file/i.test(msg)) return true;
      // The parser reports a construct cut short at the end of the input as an error at its last position.
      const at = /at (\d+):(\d+)/.exec(msg);
      if (!at) return false;
      const lines = text.split('\n');
      return Number(at[1]) >= lines.length && Number(at[2]) > lines[lines.length - 1]!.length;
    }
  }

  /** Runs a script (a `sh -c` argument, or what a user typed); `interrupt` stops just this run (^C). */
  async run(script: string, stdin?: Buffer, interrupt?: AbortSignal): Promise<RunResult> {
    this.current = interrupt ? AbortSignal.any([this.opts.signal, interrupt]) : this.opts.signal;
    try {
      return await this.runScript(script, stdin);
    } finally {
      this.current = this.opts.signal;
    }
  }

  /**
   * Runs one command (argv, no shell syntax) with its output passed on byte for byte — what a
   * binary stream needs (`kubectl cp`'s `tar cf -`): just-bash's exec() returns output as
   * text, so the command writes into a pipe whose far end hands over the bytes.
   */
  async runCommand(argv: string[], stdin?: Buffer): Promise<RunResult> {
    return this.runScript(`set -o pipefail; ${argv.map(shellQuote).join(' ')} | ${BYTES}`, stdin ?? Buffer.alloc(0));
  }

  private async runScript(script: string, stdin?: Buffer): Promise<RunResult> {
    let ast: ScriptNode;
    try {
      ast = this.opts.lib.parse(script);
    } catch (err) {
      this.opts.io.stderr(`sh: syntax error: ${(err as Error).message.replace(/^Parse error at \d+:\d+: /, '')}\n`);
      this.state.status = 2;
      return { exited: false, status: 2 };
    }
    const flow = stdin !== undefined ? await this.runPiece(ast.statements, false, stdin) : await this.runStatements(ast.statements, false);
    return { exited: flow.kind === 'exit' && !flow.interrupted, status: flow.status };
  }

  /** Killed: the shell ends (137). Interrupted (^C): the command line ends with 130, the shell goes on. */
  private interrupted(): Flow {
    if (this.opts.signal.aborted) return { kind: 'exit', status: 137 };
    this.state.status = 130;
    return { kind: 'exit', status: 130, interrupted: true };
  }

  private async runStatements(statements: StatementNode[], inLoop: boolean): Promise<Flow> {
    let last: Flow = { kind: 'next', status: this.state.status };
    for (const stmt of statements) {
      if (this.current.aborted) return this.interrupted();
      const loop = loopOf(stmt);
      if (loop?.type === 'While' || loop?.type === 'Until') last = await this.runWhile(loop.type === 'Until', loop.condition, loop.body);
      else if (loop?.type === 'For') last = await this.runFor(loop.variable, loop.words, loop.body);
      else last = await this.runPiece([stmt], inLoop);
      if (last.kind !== 'next') return last;
    }
    return last;
  }

  private async runWhile(until: boolean, condition: StatementNode[], body: StatementNode[]): Promise<Flow> {
    let status = 0;
    for (;;) {
      const c = await this.runStatements(condition, false);
      if (c.kind === 'exit') return c;
      if ((c.status === 0) === until) break;
      const f = await this.runStatements(body, true);
      if (f.kind === 'exit') return f;
      status = f.status;
      if (f.kind === 'break') break;
      // Let timers and sockets run between iterations even when the body never waits.
      await new Promise((r) => setImmediate(r));
    }
    this.state.status = status;
    return { kind: 'next', status };
  }

  private async runFor(variable: string, words: unknown[] | null, body: StatementNode[]): Promise<Flow> {
    let items = this.state.positional;
    if (words) {
      const expand = this.opts.lib.serialize({ type: 'Script', statements: [simpleStatement(WORDS, words)] } as ScriptNode);
      const r = await this.runPiece([], false, undefined, expand);
      if (r.kind === 'exit') return r;
      items = this.words;
    }
    let status = 0;
    for (const item of items) {
      this.state.vars.set(variable, item);
      const f = await this.runStatements(body, true);
      if (f.kind === 'exit') return f;
      status = f.status;
      if (f.kind === 'break') break;
      await new Promise((r) => setImmediate(r));
    }
    this.state.status = status;
    return { kind: 'next', status };
  }

  /** One exec(): the prelude, the statements, and the capture of the state they leave. */
  private async runPiece(statements: StatementNode[], inLoop: boolean, stdin?: Buffer, source?: string): Promise<Flow> {
    const lib = this.opts.lib;
    const body = source ?? lib.serialize({ type: 'Script', statements } as ScriptNode);
    for (const s of statements) {
      const fn = s.pipelines[0]?.commands[0];
      if (s.pipelines.length === 1 && fn?.type === 'FunctionDef') this.state.functions.set(fn.name, lib.serialize({ type: 'Script', statements: [s] } as ScriptNode));
    }
    // `$?` again for the body (the wrapper's own commands reset it), unless errexit would end the shell on it.
    const status = this.state.options.has('errexit') && this.state.status !== 0 ? '' : `${STATUS} ${this.state.status}\n`;
    const script = inLoop
      ? // One pass of a loop around the statement: `continue` comes back round and says so, `break` leaves without saving.
        `${prelude(this.state, STATUS)}__knet_i=0\nwhile :; do\nif [ "$__knet_i" = 1 ]; then ${SAVE} continue 0; break; fi\n__knet_i=1\n${status}${body}\n${SAVE} next $?\nbreak\ndone\n${SAVE} break 0\n`
      : `${prelude(this.state, STATUS)}${body}\n${SAVE} next $?\n`;
    this.captured = undefined;
    this.live = liveCommand(statements);
    // stdin as bytes: text commands decode it as UTF-8, byte commands (tar, cat) take it as it is.
    const input = stdin !== undefined ? { stdin: stdin.toString('latin1'), stdinKind: 'bytes' as const } : {};
    const result = await this.bash.exec(script, { cwd: this.state.cwd, signal: this.current, rawScript: true, ...input });
    this.live = undefined;
    if (result.stdout) this.opts.io.stdout(result.stdout);
    // A killed or interrupted command says nothing about it (just-bash reports the abort).
    const stderr = this.current.aborted ? result.stderr.replace(/^bash: execution aborted\n?/gm, '') : result.stderr;
    if (stderr) this.opts.io.stderr(asBusyboxMessages(stderr));
    const saved = this.captured as Captured | undefined;
    if (this.current.aborted) return this.interrupted();
    if (!saved) return { kind: 'exit', status: result.exitCode };
    this.state = stateFrom(saved.shell, this.baseline, this.state, saved.status);
    return { kind: saved.flow, status: saved.status };
  }
}

/** A statement that is exactly one loop (no pipe, `&&`, redirection, `!` or `&` around it). */
function loopOf(stmt: StatementNode) {
  if (stmt.background || stmt.pipelines.length !== 1) return undefined;
  const p = stmt.pipelines[0]!;
  if (p.negated || p.commands.length !== 1) return undefined;
  const c = p.commands[0]!;
  if ((c.type === 'While' || c.type === 'Until' || c.type === 'For') && c.redirections.length === 0) return c;
  return undefined;
}

/** The command a single plain statement runs, when its output may go straight to the session. */
function liveCommand(statements: StatementNode[]): string | undefined {
  if (statements.length !== 1) return undefined;
  const s = statements[0]!;
  if (s.background || s.pipelines.length !== 1 || s.pipelines[0]!.commands.length !== 1) return undefined;
  const c = s.pipelines[0]!.commands[0]!;
  if (c.type !== 'SimpleCommand' || c.redirections.length > 0 || !c.name) return undefined;
  if (JSON.stringify(c).includes('"CommandSubstitution"') || JSON.stringify(c).includes('"ProcessSubstitution"')) return undefined;
  const parts = c.name.parts;
  return parts.length === 1 && parts[0]!.type === 'Literal' ? parts[0]!.value : undefined;
}

function simpleStatement(name: string, args: unknown[]): StatementNode {
  return {
    type: 'Statement',
    pipelines: [{ type: 'Pipeline', negated: false, commands: [{ type: 'SimpleCommand', assignments: [], name: { type: 'Word', parts: [{ type: 'Literal', value: name }] }, args, redirections: [] }] }],
    operators: [],
    background: false,
  } as unknown as StatementNode;
}

/** just-bash speaks as bash; the toolbox images' shell is busybox ash. */
export function asBusyboxMessages(stderr: string): string {
  return stderr.replace(/^bash: (.+): command not found$/gm, 'sh: $1: not found').replace(/^bash: /gm, 'sh: ');
}

export { shellQuote };
