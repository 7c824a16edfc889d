/**
 * When a CronJob runs (pkg/controller/cronjob/utils.go, 1.32): the most recent schedule time
 * it has not yet run for, the count of missed ones (more than 100 earns a warning), and how
 * long to sleep until the next one (+100 ms against clock skew, as upstream).
 */
import type { CronJob } from 'kubernetes-types/batch/v1.js';
import { nextAfter, type CronSchedule } from '../base/model/cron/schedule.js';
import type { Zone } from '../base/model/cron/time-zone.js';

export type Missed = 'none' | 'few' | 'many';

export interface MostRecent {
  /** The last schedule time, or the CronJob's creation (raised to now − startingDeadlineSeconds when asked). */
  earliest: number;
  /** The most recent schedule time at or before now after `earliest`, if any. */
  mostRecent?: number;
  missed: Missed;
  error?: string;
}

/** Upstream's nextScheduleDelta: wake a little after the schedule time. */
export const NEXT_SCHEDULE_DELTA_MS = 100;

export function mostRecentScheduleTime(cj: CronJob, now: number, schedule: CronSchedule, zone: Zone, includeStartingDeadline: boolean): MostRecent {
  let earliest = Date.parse(cj.status?.lastScheduleTime ?? cj.metadata?.creationTimestamp ?? '') || now;
  const deadline = cj.spec?.startingDeadlineSeconds;
  if (includeStartingDeadline && deadline !== undefined) earliest = Math.max(earliest, now - deadline * 1000);
  const t1 = nextAfter(schedule, earliest, zone);
  const t2 = t1 === undefined ? undefined : nextAfter(schedule, t1, zone);
  if (t1 !== undefined && now < t1) return { earliest, missed: 'none' };
  if (t1 !== undefined && t2 !== undefined && now < t2) return { earliest, mostRecent: t1, missed: 'none' };
  // A schedule that never fires ("0 0 30 2 *") leaves no interval to step by.
  const between = t1 !== undefined && t2 !== undefined ? Math.round((t2 - t1) / 1000) : 0;
  if (between < 1) return { earliest, missed: 'none', error: 'time difference between two schedules is less than 1 second' };
  // Jump close to now by whole intervals, then walk the schedule (irregular ones included).
  const missedCount = Math.floor((now - t1!) / 1000 / between) + 1;
  let t: number | undefined = t1! + (missedCount - 2) * between * 1000;
  let mostRecent: number | undefined;
  for (t = nextAfter(schedule, t, zone); t !== undefined && t <= now; t = nextAfter(schedule, t, zone)) mostRecent = t;
  const missed: Missed = missedCount > 100 ? 'many' : missedCount > 0 ? 'few' : 'none';
  return { earliest, ...(mostRecent !== undefined ? { mostRecent } : {}), missed };
}

/** nextScheduleTimeDuration: ms from now until the controller should look again. */
export function nextScheduleDelay(cj: CronJob, now: number, schedule: CronSchedule, zone: Zone): number | undefined {
  const r = mostRecentScheduleTime(cj, now, schedule, zone, false);
  const from = r.error ? now : (r.mostRecent ?? (r.missed === 'none' ? r.earliest : now));
  const next = nextAfter(schedule, from, zone);
  return next === undefined ? undefined : next + NEXT_SCHEDULE_DELTA_MS - now;
}

/** `<cronjob>-<minutes since the epoch>`: one name per schedule time, so a time never runs twice. */
export function jobNameFor(cj: CronJob, scheduledTime: number): string {
  return `${cj.metadata?.name}-${Math.floor(scheduledTime / 60_000)}`;
}

/** Go's time.RFC1123Z in UTC: "Mon, 02 Jan 2006 15:04:05 +0000". */
export function formatRFC1123Z(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}
