/**
 * The CronJob controller's pure pass (cronjob-sync.ts) and its schedule arithmetic
 * (cronjob-schedule.ts): when a Job is due, its name and annotation, the concurrency policies,
 * startingDeadlineSeconds, suspend, history limits and the active list.
 */
import { describe, expect, it } from 'vitest';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import { planCronJobSync, type CronJobSyncInput } from '../../../dataplane/controllers/cronjob-sync.js';
import { jobNameFor, mostRecentScheduleTime, nextScheduleDelay } from '../../../dataplane/controllers/cronjob-schedule.js';
import { parseSchedule } from '../../../dataplane/base/model/cron/schedule.js';
import { UTC } from '../../../dataplane/base/model/cron/time-zone.js';

const T = (s: string) => Date.parse(s);

function cronJob(spec: Partial<NonNullable<CronJob['spec']>> = {}, status?: CronJob['status']): CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'tick', namespace: 'default', uid: 'cj-uid', creationTimestamp: '2024-05-01T10:00:30Z' },
    spec: {
      schedule: '*/1 * * * *',
      concurrencyPolicy: 'Allow',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: { metadata: { labels: { app: 'tick' } }, spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

function job(name: string, o: { outcome?: 'Complete' | 'Failed'; start?: string; done?: string } = {}): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: 'cj-uid', controller: true }] },
    spec: { template: {} },
    status: {
      ...(o.start ? { startTime: o.start } : {}),
      ...(o.outcome ? { conditions: [{ type: o.outcome, status: 'True' }] } : {}),
      ...(o.done ? { completionTime: o.done } : {}),
    },
  };
}
const ref = (name: string) => ({ kind: 'Job', namespace: 'default', name, uid: `uid-${name}`, apiVersion: 'batch/v1' });
const sync = (cj: CronJob, jobs: Job[], now: string, more: Partial<CronJobSyncInput> = {}) => planCronJobSync({ cj, jobs, now: T(now), localZone: UTC, ...more });

describe('when a CronJob runs', () => {
  it('sleeps until the first schedule time after creation (+100 ms), then makes the Job for it', () => {
    const cj = cronJob();
    const early = sync(cj, [], '2024-05-01T10:00:40Z');
    expect(early.create).toBeUndefined();
    expect(early.requeueAfterMs).toBe(20_100);
    const due = sync(cj, [], '2024-05-01T10:01:00.100Z');
    const minutes = T('2024-05-01T10:01:00Z') / 60_000;
    expect(due.create?.job.metadata).toMatchObject({
      name: `tick-${minutes}`,
      labels: { app: 'tick' },
      annotations: { 'batch.kubernetes.io/cronjob-scheduled-timestamp': '2024-05-01T10:01:00Z' },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: 'cj-uid', controller: true, blockOwnerDeletion: true }],
    });
    // The Job is defaulted as the apiserver would (its selector comes with its uid, at create).
    expect(due.create?.job.spec).toMatchObject({ backoffLimit: 6, completions: 1, parallelism: 1 });
    expect(due.status.lastScheduleTime).toBe('2024-05-01T10:01:00Z');
    expect(due.requeueAfterMs).toBe(60_000);
  });

  it('runs only the most recent missed time, warns after 100 misses, and skips a time already run', () => {
    const cj = cronJob({}, { lastScheduleTime: '2024-05-01T10:01:00Z' });
    expect(sync(cj, [], '2024-05-01T10:05:30Z').create?.scheduledTime).toBe(T('2024-05-01T10:05:00Z'));
    const late = sync(cj, [], '2024-05-01T13:00:30Z');
    expect(late.events).toContainEqual({ type: 'Warning', reason: 'TooManyMissedTimes', message: 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew' });
    expect(late.create?.scheduledTime).toBe(T('2024-05-01T13:00:00Z'));
    expect(sync(cj, [], '2024-05-01T10:01:30Z').create).toBeUndefined();
  });

  it('startingDeadlineSeconds: a time missed by more is skipped, and the next one awaited', () => {
    const cj = cronJob({ schedule: '0 * * * *', startingDeadlineSeconds: 10 }, { lastScheduleTime: '2024-05-01T10:00:00Z' });
    const plan = sync(cj, [], '2024-05-01T11:00:30Z');
    expect(plan.create).toBeUndefined();
    expect(plan.events).toEqual([]);
    expect(plan.requeueAfterMs).toBe(T('2024-05-01T12:00:00.1Z') - T('2024-05-01T11:00:30Z'));
    expect(sync(cj, [], '2024-05-01T11:00:05Z').create?.scheduledTime).toBe(T('2024-05-01T11:00:00Z'));
  });

  it('suspend stops new runs; an unknown time zone is reported', () => {
    expect(sync(cronJob({ suspend: true }), [], '2024-05-01T10:05:00Z').create).toBeUndefined();
    const bad = sync(cronJob({ timeZone: 'Mars/Olympus' }), [], '2024-05-01T10:05:00Z');
    expect(bad.events).toEqual([{ type: 'Warning', reason: 'UnknownTimeZone', message: 'invalid timeZone: "Mars/Olympus": unknown time zone Mars/Olympus' }]);
  });

  it('runs in its timeZone, and stamps the Job with the time there', () => {
    const cj = cronJob({ schedule: '0 9 * * *', timeZone: 'Asia/Tokyo' }, { lastScheduleTime: '2024-04-30T00:00:00Z' });
    const plan = sync(cj, [], '2024-05-01T00:00:05Z');
    expect(plan.create?.job.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe('2024-05-01T09:00:00+09:00');
  });
});

describe('concurrency policies', () => {
  const running = cronJob({ concurrencyPolicy: 'Forbid' }, { lastScheduleTime: '2024-05-01T10:01:00Z', active: [ref('tick-1')] });
  const jobs = [job('tick-1', { start: '2024-05-01T10:01:00Z' })];

  it('Forbid waits while a Job runs', () => {
    const plan = sync(running, jobs, '2024-05-01T10:02:00.5Z');
    expect(plan.create).toBeUndefined();
    expect(plan.events).toEqual([{ type: 'Normal', reason: 'JobAlreadyActive', message: 'Not starting job because prior execution is running and concurrency policy is Forbid' }]);
  });

  it('Replace deletes the running Job first; Allow runs them side by side', () => {
    const replace = sync({ ...running, spec: { ...running.spec!, concurrencyPolicy: 'Replace' } }, jobs, '2024-05-01T10:02:00.5Z');
    expect(replace.deleteJobs.map((j) => j.metadata!.name)).toEqual(['tick-1']);
    expect(replace.create).toBeDefined();
    expect(replace.status.active).toBeUndefined();
    const allow = sync({ ...running, spec: { ...running.spec!, concurrencyPolicy: 'Allow' } }, jobs, '2024-05-01T10:02:00.5Z');
    expect(allow.deleteJobs).toEqual([]);
    expect(allow.status.active).toEqual([ref('tick-1')]);
  });
});

describe('the active list and the history', () => {
  it('drops finished Jobs from the active list, records the last success, and warns about strangers', () => {
    const cj = cronJob({}, { lastScheduleTime: '2024-05-01T10:02:00Z', active: [ref('tick-1'), ref('tick-2')] });
    const plan = sync(cj, [job('tick-1', { outcome: 'Complete', start: '2024-05-01T10:01:00Z', done: '2024-05-01T10:01:09Z' }), job('tick-2'), job('manual')], '2024-05-01T10:02:30Z');
    expect(plan.status.active).toEqual([ref('tick-2')]);
    expect(plan.status.lastSuccessfulTime).toBe('2024-05-01T10:01:09Z');
    expect(plan.events).toEqual([
      { type: 'Normal', reason: 'SawCompletedJob', message: 'Saw completed job: tick-1, condition: Complete' },
      { type: 'Warning', reason: 'UnexpectedJob', message: 'Saw a job that the controller did not create or forgot: manual' },
    ]);
  });

  it('keeps successfulJobsHistoryLimit and failedJobsHistoryLimit finished Jobs, deleting the oldest', () => {
    const cj = cronJob({ successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 0 }, { lastScheduleTime: '2024-05-01T10:05:00Z' });
    const ok = (n: number) => job(`ok-${n}`, { outcome: 'Complete', start: `2024-05-01T10:0${n}:00Z` });
    const plan = sync(cj, [ok(3), ok(1), ok(2), job('bad', { outcome: 'Failed', start: '2024-05-01T10:04:00Z' })], '2024-05-01T10:05:30Z');
    expect(plan.deleteJobs.map((j) => j.metadata!.name)).toEqual(['ok-1', 'bad']);
    expect(plan.events.filter((e) => e.reason === 'SuccessfulDelete').map((e) => e.message)).toEqual(['Deleted job ok-1', 'Deleted job bad']);
  });

  it('forgets an active Job that is gone', () => {
    const cj = cronJob({}, { lastScheduleTime: '2024-05-01T10:02:00Z', active: [ref('tick-2')] });
    const plan = sync(cj, [], '2024-05-01T10:02:30Z', { gone: new Set(['uid-tick-2']) });
    expect(plan.status.active).toBeUndefined();
    expect(plan.events).toEqual([{ type: 'Normal', reason: 'MissingJob', message: 'Active job went missing: tick-2' }]);
  });
});

describe('schedule arithmetic', () => {
  it('mostRecentScheduleTime and the next wake-up, as upstream', () => {
    const s = parseSchedule('*/5 * * * *');
    const cj = cronJob({ schedule: '*/5 * * * *' }, { lastScheduleTime: '2024-05-01T10:00:00Z' });
    expect(mostRecentScheduleTime(cj, T('2024-05-01T10:03:00Z'), s, UTC, true)).toEqual({ earliest: T('2024-05-01T10:00:00Z'), missed: 'none' });
    expect(mostRecentScheduleTime(cj, T('2024-05-01T10:07:00Z'), s, UTC, true)).toEqual({ earliest: T('2024-05-01T10:00:00Z'), mostRecent: T('2024-05-01T10:05:00Z'), missed: 'none' });
    expect(mostRecentScheduleTime(cj, T('2024-05-01T10:21:00Z'), s, UTC, true)).toMatchObject({ mostRecent: T('2024-05-01T10:20:00Z'), missed: 'few' });
    expect(nextScheduleDelay(cj, T('2024-05-01T10:03:00Z'), s, UTC)).toBe(120_100);
    expect(mostRecentScheduleTime(cronJob({}), 0, parseSchedule('0 0 30 2 *'), UTC, true).error).toBe('time difference between two schedules is less than 1 second');
    expect(jobNameFor(cj, T('2024-05-01T10:05:00Z'))).toBe('tick-28575965');
  });
});
