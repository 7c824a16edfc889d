/**
 * Go's time.ParseDuration, for cron's `@every <duration>`: a sequence of decimal numbers with
 * units (ns, us, µs, ms, s, m, h), optionally signed: "1h30m", "1.5s", "-2m". Returns
 * nanoseconds, or the reason it is not a duration.
 */
const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

export type DurationError = 'invalid' | 'missing-unit' | `unknown-unit:${string}`;

export function parseGoDuration(text: string): number | DurationError {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return 'invalid';
  let total = 0;
  while (s !== '') {
    const num = /^(\d*)(\.(\d*))?/.exec(s)!;
    if (num[0] === '' || num[0] === '.') return 'invalid';
    s = s.slice(num[0].length);
    const unit = /^[^\d.]*/.exec(s)![0];
    if (unit === '') return 'missing-unit';
    const scale = UNITS[unit];
    if (scale === undefined) return `unknown-unit:${unit}`;
    s = s.slice(unit.length);
    total += Number(num[0].startsWith('.') ? `0${num[0]}` : num[0]) * scale;
  }
  return sign * total;
}

/** Go's error text: `time: invalid duration "x"`, `time: missing unit in duration "5"`, `time: unknown unit "d" in duration "5d"`. */
export function formatGoDurationError(err: DurationError, text: string): string {
  const quoted = JSON.stringify(text);
  if (err === 'invalid') return `time: invalid duration ${quoted}`;
  if (err === 'missing-unit') return `time: missing unit in duration ${quoted}`;
  return `time: unknown unit ${JSON.stringify(err.slice('unknown-unit:'.length))} in duration ${quoted}`;
}
