/**
 * Cron schedules as robfig/cron v3 (the CronJob controller's parser) reads and runs them: the
 * times a schedule fires, its error messages, and that no input crashes the parser.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { nextAfter, parseSchedule, scheduleError } from '../../../dataplane/base/model/cron/schedule.js';
import { formatRFC3339, loadZone, UTC } from '../../../dataplane/base/model/cron/time-zone.js';

/** The next `n` firing times after `from`, as RFC 3339 in the zone. */
function fires(spec: string, from: string, n = 3, zoneName = 'UTC'): string[] {
  const zone = loadZone(zoneName)!;
  const s = parseSchedule(spec);
  const out: string[] = [];
  let t = Date.parse(from);
  for (let i = 0; i < n; i++) {
    const next = nextAfter(s, t, zone);
    if (next === undefined) break;
    out.push(formatRFC3339(next, zone));
    t = next;
  }
  return out;
}

describe('cron next time (robfig/cron Next)', () => {
  it.each([
    ['*/5 * * * *', '2024-03-30T22:17:13Z', ['2024-03-30T22:20:00Z', '2024-03-30T22:25:00Z', '2024-03-30T22:30:00Z']],
    ['* * * * *', '2024-03-30T22:17:00Z', ['2024-03-30T22:18:00Z', '2024-03-30T22:19:00Z', '2024-03-30T22:20:00Z']],
    ['@hourly', '2024-12-31T23:30:00Z', ['2025-01-01T00:00:00Z', '2025-01-01T01:00:00Z', '2025-01-01T02:00:00Z']],
    ['@daily', '2024-02-28T12:00:00Z', ['2024-02-29T00:00:00Z', '2024-03-01T00:00:00Z', '2024-03-02T00:00:00Z']],
    ['@weekly', '2024-05-01T00:00:00Z', ['2024-05-05T00:00:00Z', '2024-05-12T00:00:00Z', '2024-05-19T00:00:00Z']],
    ['@monthly', '2024-01-31T10:00:00Z', ['2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z', '2024-04-01T00:00:00Z']],
    ['@yearly', '2024-06-01T00:00:00Z', ['2025-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z']],
    ['30 6-16/4 * * 1-5', '2024-05-03T15:00:00Z', ['2024-05-06T06:30:00Z', '2024-05-06T10:30:00Z', '2024-05-06T14:30:00Z']],
    ['0 9 * * MON-fri', '2024-05-03T10:00:00Z', ['2024-05-06T09:00:00Z', '2024-05-07T09:00:00Z', '2024-05-08T09:00:00Z']],
    ['0 0 1 jan,jul *', '2024-02-01T00:00:00Z', ['2024-07-01T00:00:00Z', '2025-01-01T00:00:00Z', '2025-07-01T00:00:00Z']],
    ['15 10 ? * *', '2024-05-03T10:15:00Z', ['2024-05-04T10:15:00Z', '2024-05-05T10:15:00Z', '2024-05-06T10:15:00Z']],
    ['0 0 29 2 *', '2024-03-01T00:00:00Z', ['2028-02-29T00:00:00Z']],
    ['@every 90s', '2024-05-03T10:15:00.700Z', ['2024-05-03T10:16:30Z', '2024-05-03T10:18:00Z', '2024-05-03T10:19:30Z']],
  ])('%s after %s', (spec, from, want) => {
    expect(fires(spec, from, want.length)).toEqual(want);
  });

  it('fires on either the day of month or the weekday when both are restricted (cron OR rule)', () => {
    // The 13th, or any Friday: 2024-09-13 is a Friday.
    expect(fires('0 0 13 * 5', '2024-09-01T00:00:00Z', 4)).toEqual(['2024-09-06T00:00:00Z', '2024-09-13T00:00:00Z', '2024-09-20T00:00:00Z', '2024-09-27T00:00:00Z']);
    // A star on one side makes it AND: Fridays only.
    expect(fires('0 0 * * 5', '2024-09-01T00:00:00Z', 2)).toEqual(['2024-09-06T00:00:00Z', '2024-09-13T00:00:00Z']);
    // A stepped star is no star (robfig drops the star bit for */2).
    expect(fires('0 0 */2 * 5', '2024-09-01T00:00:00Z', 3)).toEqual(['2024-09-03T00:00:00Z', '2024-09-05T00:00:00Z', '2024-09-06T00:00:00Z']);
  });

  it('never fires for a day that does not exist', () => {
    expect(nextAfter(parseSchedule('0 0 30 2 *'), Date.parse('2024-01-01T00:00:00Z'), UTC)).toBeUndefined();
  });

  it('runs in a time zone: wall-clock hours, across daylight-saving changes', () => {
    expect(fires('0 9 * * *', '2024-03-29T12:00:00Z', 3, 'Europe/Berlin')).toEqual(['2024-03-30T09:00:00+01:00', '2024-03-31T09:00:00+02:00', '2024-04-01T09:00:00+02:00']);
    // 02:30 does not exist on 2024-03-31 in Berlin: robfig/cron's hour-by-hour walk skips that day.
    expect(fires('30 2 * * *', '2024-03-30T12:00:00Z', 2, 'Europe/Berlin')).toEqual(['2024-04-01T02:30:00+02:00', '2024-04-02T02:30:00+02:00']);
    expect(fires('0 0 * * *', '2024-11-02T12:00:00Z', 2, 'America/New_York')).toEqual(['2024-11-03T00:00:00-04:00', '2024-11-04T00:00:00-05:00']);
    // TZ= in the schedule wins over the zone it is run in.
    expect(fires('TZ=Asia/Tokyo 0 9 * * *', '2024-04-30T12:00:00Z', 1, 'UTC')).toEqual(['2024-05-01T00:00:00Z']);
  });
});

describe('cron parse errors (robfig/cron wording, shown in the apiserver message)', () => {
  it.each([
    ['', 'empty spec string'],
    ['foo', 'expected exactly 5 fields, found 1: [foo]'],
    ['* * * *', 'expected exactly 5 fields, found 4: [* * * *]'],
    ['* * * * * *', 'expected exactly 5 fields, found 6: [* * * * * *]'],
    ['* * * * 7', 'end of range (7) above maximum (6): 7'],
    ['61 * * * *', 'end of range (61) above maximum (59): 61'],
    ['* * 0 * *', 'beginning of range (0) below minimum (1): 0'],
    ['5-1 * * * *', 'beginning of range (5) beyond end of range (1): 5-1'],
    ['1-2-3 * * * *', 'too many hyphens: 1-2-3'],
    ['*/1/2 * * * *', 'too many slashes: */1/2'],
    ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['a * * * *', 'failed to parse int from a: strconv.Atoi: parsing "a": invalid syntax'],
    ['@fortnightly', 'unrecognized descriptor: @fortnightly'],
    ['@every 5d', 'failed to parse duration @every 5d: time: unknown unit "d" in duration "5d"'],
    ['@every 5', 'failed to parse duration @every 5: time: missing unit in duration "5"'],
    ['TZ=Nowhere/Else * * * * *', 'provided bad location Nowhere/Else: unknown time zone Nowhere/Else'],
  ])('%j', (spec, message) => {
    expect(scheduleError(spec)).toBe(message);
  });

  it('accepts what Kubernetes accepts', () => {
    for (const s of ['*/1 * * * *', '0 0 * * 0', '0 0 * * SUN', '0,15,30,45 * * * *', '5/15 * * * *', '@midnight', '@annually', '@every 1h30m', 'CRON_TZ=UTC 0 * * * *']) expect(scheduleError(s)).toBeUndefined();
  });

  it('never throws anything but a parse error, and a parsed schedule always moves forward', () => {
    const part = fc.constantFrom('*', '?', '0', '5', '59', '1-5', '*/7', '3/2', 'mon', 'JAN', '-', '/', 'x', ',', '60', '');
    fc.assert(
      fc.property(fc.array(part, { maxLength: 7 }), fc.integer({ min: 0, max: 4_000_000_000_000 }), (parts, at) => {
        const spec = parts.join(' ');
        const err = scheduleError(spec);
        if (err !== undefined) return;
        const next = nextAfter(parseSchedule(spec), at, UTC);
        if (next !== undefined) expect(next).toBeGreaterThan(at);
      }),
      { numRuns: 300 },
    );
  });
});
