/**
 * One line of a container log in the CRI format, as containerd writes it and the kubelet reads
 * it (kubelet `pkg/kubelet/kuberuntime/logs/logs.go` parseCRILog):
 *
 *   2016-10-06T00:17:09.669794202Z stdout F log content 1
 *   2016-10-06T00:17:09.669794203Z stderr P a piece of a longer line
 *
 * The timestamp is RFC 3339 with nanoseconds (trailing zeros dropped, as Go's RFC3339Nano
 * does); `F` ends a line, `P` is a piece of a line the runtime cut (longer than its buffer, or
 * no newline before the stream ended). Reading gives what the kubelet hands the client: an `F`
 * line's text with its newline, a `P` piece without one, so consecutive pieces join up.
 *
 * Times are nanoseconds since the epoch as bigints: JavaScript's Date has milliseconds only,
 * and `--since-time` / `--timestamps` round-trip the runtime's nanoseconds.
 */

export type LogStream = 'stdout' | 'stderr';

export interface LogMessage {
  /** Nanoseconds since the epoch. */
  time: bigint;
  stream: LogStream;
  partial: boolean;
  /** What the client gets: the text, with its newline for a full line. */
  content: Buffer;
}

const NS_PER_MS = 1_000_000n;

/** A CRI log line (with its newline) for a piece of output. `text` must not contain a newline. */
export function encodeLogLine(time: bigint, stream: LogStream, partial: boolean, text: Buffer): Buffer {
  const head = Buffer.from(`${formatLogTime(time, false)} ${stream} ${partial ? 'P' : 'F'} `);
  return Buffer.concat([head, text, NEWLINE]);
}

const NEWLINE = Buffer.from('\n');

/** Parses one line (its newline included or not); undefined for a line that is not CRI. */
export function parseLogLine(line: Buffer): LogMessage | undefined {
  const sp1 = line.indexOf(0x20);
  if (sp1 < 0) return undefined;
  const time = parseLogTime(line.toString('latin1', 0, sp1));
  if (time === undefined) return undefined;
  const sp2 = line.indexOf(0x20, sp1 + 1);
  if (sp2 < 0) return undefined;
  const stream = line.toString('latin1', sp1 + 1, sp2);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const sp3 = line.indexOf(0x20, sp2 + 1);
  if (sp3 < 0) return undefined;
  // Tags are ':'-separated and the first one says full or partial; later ones are for the future.
  const tag = line.toString('latin1', sp2 + 1, sp3).split(':')[0];
  const partial = tag === 'P';
  let end = line.length;
  // The newline of a partial piece is the runtime's, not the program's.
  if (partial && end > sp3 + 1 && line[end - 1] === 0x0a) end--;
  return { time, stream, partial, content: line.subarray(sp3 + 1, end) };
}

/**
 * RFC 3339 with nanoseconds, in UTC. `fixed`: always nine digits (the kubelet's
 * RFC3339NanoFixed, what `timestamps=true` prints); otherwise trailing zeros are dropped
 * (Go's RFC3339Nano, what containerd writes).
 */
export function formatLogTime(ns: bigint, fixed: boolean): string {
  const t = ns < 0n ? 0n : ns;
  const wholeSecondsMs = (t / 1_000_000_000n) * 1000n;
  const seconds = new Date(Number(wholeSecondsMs)).toISOString().slice(0, 19);
  let frac = (t % 1_000_000_000n).toString().padStart(9, '0');
  if (!fixed) frac = frac.replace(/0+$/, '');
  return `${seconds}${frac ? `.${frac}` : ''}Z`;
}

const TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Parses RFC 3339 with up to nine fraction digits, `Z` or an offset (Go's lenient RFC3339Nano). */
export function parseLogTime(text: string): bigint | undefined {
  const m = TIME.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms)) return undefined;
  let ns = BigInt(ms) * NS_PER_MS + BigInt((frac ?? '').padEnd(9, '0') || '0');
  if (sign) {
    const offsetNs = BigInt((Number(oh) * 60 + Number(om)) * 60) * 1_000_000_000n;
    ns += sign === '+' ? -offsetNs : offsetNs;
  }
  return ns;
}

// Wall-clock nanoseconds: Date.now() for the epoch, the monotonic clock for what is below a millisecond.
const anchorWall = BigInt(Date.now()) * NS_PER_MS;
const anchorMono = process.hrtime.bigint();

/** Now, in nanoseconds since the epoch (the wall clock at this process's start plus monotonic time since). */
export function nowNanos(): bigint {
  return anchorWall + (process.hrtime.bigint() - anchorMono);
}

export function millisToNanos(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * NS_PER_MS;
}
