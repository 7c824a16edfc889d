/**
 * What a shell remembers between commands — working directory, variables (and which are
 * exported), options set with `set -o`, functions, positional parameters, `$?` — kept outside
 * just-bash, whose every exec() starts from its constructor's state. After each piece of a
 * script the session captures the state (from a trailing command that sees the shell's
 * variables and cwd); before the next piece a prelude puts it back. Pure.
 */

export interface ShellState {
  cwd: string;
  /** Every shell variable that differs from the shell's starting state. */
  vars: Map<string, string>;
  /** Names among the starting environment that were unset since. */
  unset: Set<string>;
  /** Names exported (by `export`) beyond the starting environment. */
  exported: Set<string>;
  /** `set -o` options on (errexit, nounset, pipefail, xtrace, noglob…) beyond the starting ones. */
  options: Set<string>;
  /** Function definitions by name, as source text. */
  functions: Map<string, string>;
  positional: string[];
  status: number;
}

/** Variables the shell computes itself: never replayed. */
const DYNAMIC = new Set(['PWD', 'OLDPWD', '?', '_', 'RANDOM', 'SECONDS', 'LINENO', 'BASHPID', 'PPID', 'UID', 'EUID', 'SHLVL', 'SHELLOPTS', 'BASHOPTS', 'OPTIND', 'PIPESTATUS', 'FUNCNAME', 'BASH_SOURCE', 'BASH_LINENO', 'EPOCHSECONDS', 'EPOCHREALTIME', 'HISTCMD', 'IFS', 'OSTYPE', 'MACHTYPE', 'HOSTTYPE', 'BASH_VERSION', 'BASH_VERSINFO']);

export function initialState(cwd: string, positional: string[] = []): ShellState {
  return { cwd, vars: new Map(), unset: new Set(), exported: new Set(), options: new Set(), functions: new Map(), positional, status: 0 };
}

/** A shell word that stands for `value` exactly. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Restores `state` in a fresh exec and sets `$?`. `statusCommand` returns its argument as exit code. */
export function prelude(state: ShellState, statusCommand: string): string {
  const lines: string[] = [];
  for (const name of state.unset) lines.push(`unset ${name}`);
  for (const [name, value] of state.vars) lines.push(`${state.exported.has(name) ? 'export ' : ''}${name}=${shellQuote(value)}`);
  for (const name of state.exported) if (!state.vars.has(name)) lines.push(`export ${name}`);
  for (const fn of state.functions.values()) lines.push(fn);
  if (state.positional.length) lines.push(`set -- ${state.positional.map(shellQuote).join(' ')}`);
  lines.push(`${statusCommand} ${state.status}`);
  // Options last: with errexit on, a non-zero status command would end the shell. (`set` makes
  // `$?` 0, which loses a non-zero status only after a failure errexit exempted, e.g. `false && x`.)
  for (const o of state.options) lines.push(`set -o ${o}`);
  return lines.join('\n') + '\n';
}

export interface CapturedShell {
  cwd: string;
  /** Every shell variable (ctx.env of a command). */
  vars: Record<string, string>;
  /** The exported ones (ctx.exportedEnv). */
  exported: Record<string, string>;
}

/** The state a capture shows, relative to the shell's starting variables (`baseline`). */
export function stateFrom(captured: CapturedShell, baseline: CapturedShell, previous: ShellState, status: number): ShellState {
  const vars = new Map<string, string>();
  const exported = new Set<string>();
  const unset = new Set<string>();
  for (const [name, value] of Object.entries(captured.vars)) {
    if (DYNAMIC.has(name) || name.startsWith('__knet_')) continue;
    if (baseline.vars[name] !== value) vars.set(name, value);
    if (name in captured.exported && !(name in baseline.exported)) exported.add(name);
  }
  for (const name of Object.keys(baseline.vars)) if (!DYNAMIC.has(name) && !(name in captured.vars)) unset.add(name);
  const options = new Set<string>();
  const baseOpts = new Set((baseline.vars.SHELLOPTS ?? '').split(':'));
  for (const o of (captured.vars.SHELLOPTS ?? '').split(':')) if (o && !baseOpts.has(o)) options.add(o);
  return { ...previous, cwd: captured.cwd, vars, exported, unset, options, status };
}
