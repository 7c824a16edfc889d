/**
 * Recognising the agnhost test image and reading its command line the way its cobra/pflag
 * front end does, so `args: [netexec, --http-port=8080]` and
 * `command: [/agnhost, netexec, --http-port, "8080"]` mean the same thing.
 */
import type { Container } from 'kubernetes-types/core/v1.js';

const AGNHOST = /^(?:[^/]+\/)*(?:e2e-test-images|kubernetes-e2e-test-images)\/agnhost(?::[^@]*)?(?:@.*)?$/;

export function isAgnhostImage(image: string | undefined): boolean {
  return !!image && AGNHOST.test(image);
}

/** The agnhost argv after the binary: [subcommand, ...flags]. */
export function agnhostArgv(container: Pick<Container, 'command' | 'args'>, command?: string[], args?: string[]): string[] {
  const cmd = command ?? container.command ?? [];
  const argv = [...cmd, ...(args ?? container.args ?? [])];
  if (argv.length > 0 && /(^|\/)agnhost$/.test(argv[0]!)) argv.shift();
  return argv;
}

export type FlagSpec = Record<string, 'int' | 'bool' | 'string'>;
export type FlagValues = Record<string, number | boolean | string>;

/** pflag parsing of long flags: `--name=value`, `--name value`, bare `--bool`. Throws cobra's error text. */
export function parseFlags(argv: readonly string[], spec: FlagSpec, defaults: FlagValues): FlagValues {
  const out: FlagValues = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(arg.startsWith('-') ? `unknown shorthand flag: '${arg[1]}' in ${arg}` : `unknown command "${arg}"`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const type = spec[name];
    if (!type) throw new Error(`unknown flag: --${name}`);
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (type === 'bool') value = 'true';
    else {
      if (i + 1 >= argv.length) throw new Error(`flag needs an argument: --${name}`);
      value = argv[++i]!;
    }
    if (type === 'int') {
      if (!/^[+-]?\d+$/.test(value)) throw new Error(`invalid argument "${value}" for "--${name}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
      out[name] = Number(value);
    } else if (type === 'bool') {
      if (!/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(value)) throw new Error(`invalid argument "${value}" for "--${name}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
      out[name] = /^(1|t|T|TRUE|true|True)$/.test(value);
    } else out[name] = value;
  }
  return out;
}

/** Go's time.ParseDuration, in milliseconds ("1m30s", "500ms", "0"). */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const m = /^([-+]?)((?:\d*\.?\d+(?:ns|us|µs|ms|s|m|h))+)$/.exec(text);
  if (!m) return undefined;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d*\.?\d+)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * unit[part[2]!]!;
  return m[1] === '-' ? -total : total;
}
