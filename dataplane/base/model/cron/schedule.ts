/**
 * Cron schedules as the CronJob controller reads them: robfig/cron v3's ParseStandard (five
 * fields — minute, hour, day of month, month, day of week — with `*`, `?`, lists, ranges,
 * steps, month and weekday names; the descriptors @yearly, @annually, @monthly, @weekly, @daily,
 * @midnight, @hourly and `@every <duration>`; an optional `TZ=`/`CRON_TZ=` prefix) and its
 * Next(), step for step, so a schedule fires at the minutes Kubernetes would fire it — including
 * cron's rule that a day matches when either the day of month or the day of week does, when
 * both are restricted. Errors carry robfig's wording (the apiserver puts it in the validation
 * message).
 */
import { formatGoDurationError, parseGoDuration } from './go-duration.js';
import { loadZone, type WallClock, type Zone } from './time-zone.js';

interface Field {
  /** bits[v]: the value v is allowed. */
  bits: boolean[];
  /** Written as `*` or `?` (robfig's starBit): decides the day-of-month/day-of-week rule. */
  star: boolean;
}

export type CronSchedule =
  | { kind: 'spec'; minute: Field; hour: Field; dom: Field; month: Field; dow: Field; zone?: Zone }
  | { kind: 'every'; delayMs: number };

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTHS: Bounds = { min: 1, max: 12, names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 } };
const DOWS: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };
const FIELDS: Bounds[] = [{ min: 0, max: 59 }, { min: 0, max: 23 }, { min: 1, max: 31 }, MONTHS, DOWS];

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export class CronParseError extends Error {}

/** Go's strconv.Atoi on a cron number, with robfig's messages. */
function mustParseInt(expr: string): number {
  if (!/^[+-]?\d+$/.test(expr)) throw new CronParseError(`failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: invalid syntax`);
  const n = Number(expr);
  if (n < 0) throw new CronParseError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function parseIntOrName(expr: string, r: Bounds): number {
  const named = r.names?.[expr.toLowerCase()];
  return named !== undefined ? named : mustParseInt(expr);
}

/** One comma-separated part: `*`, `?`, `N`, `N-M`, each with an optional `/step`. */
function addRange(expr: string, r: Bounds, field: Field): void {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0]!.split('-');
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = r.min;
    end = r.max;
    star = true;
  } else {
    start = parseIntOrName(lowAndHigh[0]!, r);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1]!, r);
    else throw new CronParseError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = mustParseInt(rangeAndStep[1]!);
    // "N/step" means "N-max/step".
    if (lowAndHigh.length === 1) end = r.max;
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) {
    throw new CronParseError(`too many slashes: ${expr}`);
  }
  if (start < r.min) throw new CronParseError(`beginning of range (${start}) below minimum (${r.min}): ${expr}`);
  if (end > r.max) throw new CronParseError(`end of range (${end}) above maximum (${r.max}): ${expr}`);
  if (start > end) throw new CronParseError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronParseError(`step of range should be a positive number: ${expr}`);
  for (let v = start; v <= end; v += step) field.bits[v] = true;
  if (star) field.star = true;
}

function parseField(text: string, r: Bounds): Field {
  const field: Field = { bits: new Array<boolean>(r.max + 1).fill(false), star: false };
  for (const part of text.split(',')) addRange(part, r, field);
  return field;
}

/** robfig/cron's ParseStandard. Throws CronParseError with robfig's message. */
export function parseSchedule(input: string): CronSchedule {
  let spec = input;
  if (spec.length === 0) throw new CronParseError('empty spec string');
  let zone: Zone | undefined;
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const space = spec.indexOf(' ');
    const eq = spec.indexOf('=');
    const name = space < 0 ? spec.slice(eq + 1) : spec.slice(eq + 1, space);
    zone = loadZone(name);
    if (!zone) throw new CronParseError(`provided bad location ${name}: unknown time zone ${name}`);
    spec = space < 0 ? '' : spec.slice(space).trim();
  }
  if (spec.startsWith('@')) {
    if (spec.startsWith('@every ')) {
      const text = spec.slice('@every '.length);
      const ns = parseGoDuration(text);
      if (typeof ns === 'string') throw new CronParseError(`failed to parse duration ${spec}: ${formatGoDurationError(ns, text)}`);
      // robfig's Every: at least a second, whole seconds.
      const seconds = Math.max(1, Math.floor(ns / 1e9));
      return { kind: 'every', delayMs: seconds * 1000 };
    }
    const expanded = DESCRIPTORS[spec];
    if (!expanded) throw new CronParseError(`unrecognized descriptor: ${spec}`);
    spec = expanded;
  }
  const fields = spec.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) throw new CronParseError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  const [minute, hour, dom, month, dow] = fields.map((f, i) => parseField(f, FIELDS[i]!)) as [Field, Field, Field, Field, Field];
  return { kind: 'spec', minute, hour, dom, month, dow, ...(zone ? { zone } : {}) };
}

/** The parse error's message, or undefined for a valid schedule. */
export function scheduleError(spec: string): string | undefined {
  try {
    parseSchedule(spec);
    return undefined;
  } catch (err) {
    if (err instanceof CronParseError) return err.message;
    throw err;
  }
}

function dayMatches(s: Extract<CronSchedule, { kind: 'spec' }>, f: WallClock): boolean {
  const domMatch = s.dom.bits[f.day] === true;
  const dowMatch = s.dow.bits[f.weekday] === true;
  if (s.dom.star || s.dow.star) return domMatch && dowMatch;
  return domMatch || dowMatch;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * The first time after `ms` the schedule fires (robfig's Schedule.Next), in ms; undefined when
 * none falls within five years (a schedule such as `0 0 30 2 *`). A schedule without its own
 * zone runs in `zone`.
 */
export function nextAfter(schedule: CronSchedule, ms: number, zone: Zone): number | undefined {
  if (schedule.kind === 'every') return Math.floor(ms / SECOND) * SECOND + schedule.delayMs;
  const s = schedule;
  const z = s.zone ?? zone;
  // The earliest candidate: the coming second.
  let t = Math.floor(ms / SECOND) * SECOND + SECOND;
  let added = false;
  let f = z.fields(t);
  const yearLimit = f.year + 5;
  wrap: for (;;) {
    f = z.fields(t);
    if (f.year > yearLimit) return undefined;
    while (!s.month.bits[f.month]) {
      if (!added) {
        added = true;
        t = z.date(f.year, f.month, 1, 0, 0, 0);
        f = z.fields(t);
      }
      t = z.date(f.year, f.month + 1, f.day, f.hour, f.minute, f.second);
      f = z.fields(t);
      if (f.month === 1) continue wrap;
    }
    while (!dayMatches(s, f)) {
      if (!added) {
        added = true;
        t = z.date(f.year, f.month, f.day, 0, 0, 0);
        f = z.fields(t);
      }
      t = z.date(f.year, f.month, f.day + 1, f.hour, f.minute, f.second);
      f = z.fields(t);
      // Midnight that a DST change skips: back to the day's start.
      if (f.hour !== 0) {
        t += (f.hour > 12 ? 24 - f.hour : -f.hour) * HOUR;
        f = z.fields(t);
      }
      if (f.day === 1) continue wrap;
    }
    while (!s.hour.bits[f.hour]) {
      if (!added) {
        added = true;
        t = z.date(f.year, f.month, f.day, f.hour, 0, 0);
      }
      t += HOUR;
      f = z.fields(t);
      if (f.hour === 0) continue wrap;
    }
    while (!s.minute.bits[f.minute]) {
      if (!added) {
        added = true;
        t = Math.floor(t / MINUTE) * MINUTE;
      }
      t += MINUTE;
      f = z.fields(t);
      if (f.minute === 0) continue wrap;
    }
    if (f.second !== 0) {
      // Seconds are always 0 in a standard schedule: on to the next minute, and check it all again.
      added = true;
      t += (60 - f.second) * SECOND;
      continue wrap;
    }
    return t;
  }
}
