/**
 * Wall-clock time in an IANA time zone, as Go's time package gives it to robfig/cron: the
 * fields of an instant in the zone, and `date()` — Go's time.Date — from fields to an instant
 * (fields out of range normalise: month 13 is January of the next year; a wall time that a
 * daylight-saving change skips or repeats resolves as Go resolves it). Built on Intl, which
 * carries the tz database; "UTC" takes a fast path.
 */

export interface WallClock {
  year: number;
  /** 1…12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday */
  weekday: number;
}

export interface Zone {
  readonly name: string;
  fields(ms: number): WallClock;
  /** time.Date(year, month, day, hour, minute, second, 0, zone) in ms since the epoch. */
  date(year: number, month: number, day: number, hour: number, minute: number, second: number): number;
}

const utcFields = (ms: number): WallClock => {
  const d = new Date(ms);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), weekday: d.getUTCDay() };
};

export const UTC: Zone = {
  name: 'UTC',
  fields: utcFields,
  date: (y, mo, d, h, mi, s) => Date.UTC(y, mo - 1, d, h, mi, s),
};

const zones = new Map<string, Zone>();

/** The zone named by an IANA name ("Europe/Berlin"), or undefined when the tz database has none. */
export function loadZone(name: string): Zone | undefined {
  if (name === '' || name === 'UTC') return UTC;
  const cached = zones.get(name);
  if (cached) return cached;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
      era: 'short',
    });
  } catch {
    return undefined;
  }
  const zone = ianaZone(name, format);
  zones.set(name, zone);
  return zone;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function ianaZone(name: string, format: Intl.DateTimeFormat): Zone {
  const fields = (ms: number): WallClock => {
    const parts: Record<string, string> = {};
    for (const p of format.formatToParts(ms)) parts[p.type] = p.value;
    const year = parts.era === 'BC' ? 1 - Number(parts.year) : Number(parts.year);
    return { year, month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour), minute: Number(parts.minute), second: Number(parts.second), weekday: WEEKDAYS[parts.weekday ?? 'Sun'] ?? 0 };
  };
  /** Seconds the zone is ahead of UTC at this instant. */
  const offsetAt = (ms: number): number => {
    const f = fields(ms);
    const wall = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
    return Math.round((wall - Math.floor(ms / 1000) * 1000) / 1000);
  };
  return {
    name,
    fields,
    date(y, mo, d, h, mi, s) {
      // Go's time.Date: the offset at the wall time read as UTC, corrected once if the instant
      // it gives lies in another offset period (a DST change between the two).
      const local = Date.UTC(y, mo - 1, d, h, mi, s);
      let offset = offsetAt(local);
      const guess = local - offset * 1000;
      const there = offsetAt(guess);
      if (there !== offset) offset = there;
      return local - offset * 1000;
    },
  };
}

/** The zone the controller runs in (kube-controller-manager's time.Local): the process's own. */
export function localZone(): Zone {
  const name = process.env.TZ || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  return loadZone(name) ?? UTC;
}

/** Go's time.RFC3339 of an instant in a zone: `2024-05-01T10:00:00+02:00`, or `…Z` at offset 0. */
export function formatRFC3339(ms: number, zone: Zone): string {
  const f = zone.fields(ms);
  const wall = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
  const offsetMin = Math.round((wall - Math.floor(ms / 1000) * 1000) / 60000);
  const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');
  const date = `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)}T${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}`;
  if (offsetMin === 0) return `${date}Z`;
  return `${date}${offsetMin < 0 ? '-' : '+'}${pad(Math.trunc(offsetMin / 60))}:${pad(offsetMin % 60)}`;
}
