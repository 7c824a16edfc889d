/**
 * One pass of the CronJob controller over a CronJob and its Jobs, as a pure function
 * (pkg/controller/cronjob/cronjob_controllerv2.go sync, syncCronJob, cleanupFinishedJobs, 1.32):
 * the history limits, the active list, and whether a Job is due now — with the schedule in the
 * CronJob's time zone, startingDeadlineSeconds, suspend and the concurrency policy — plus the
 * events upstream records and when to look again.
 */
import type { CronJob, CronJobStatus, Job } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import { parseSchedule, CronParseError, type CronSchedule } from '../base/model/cron/schedule.js';
import { formatRFC3339, loadZone, UTC, type Zone } from '../base/model/cron/time-zone.js';
import { applyDefaults } from '../base/model/defaults/index.js';
import { ANNOTATION_CRONJOB_SCHEDULED_TIMESTAMP } from '../base/model/well-known.js';
import { metaTime } from '../base/model/meta-time.js';
import { newControllerRef } from './owner-references.js';
import { formatRFC1123Z, jobNameFor, mostRecentScheduleTime, nextScheduleDelay } from './cronjob-schedule.js';
import type { JobEvent } from './job-sync.js';

export interface CronJobSyncInput {
  cj: CronJob;
  /** Jobs the CronJob controls. */
  jobs: Job[];
  now: number;
  /** The controller's own zone (kube-controller-manager's local time), for CronJobs without timeZone. */
  localZone: Zone;
  /** uids in status.active whose Job is confirmed gone (a live read, not just the cache). */
  gone?: ReadonlySet<string>;
}

export interface CronJobSyncPlan {
  status: CronJobStatus;
  /** Jobs to delete (history limits, concurrencyPolicy Replace), with their pods. */
  deleteJobs: Job[];
  /** The Job to create for `scheduledTime`; the caller adds it to the active list once created. */
  create?: { job: Job; scheduledTime: number };
  events: JobEvent[];
  requeueAfterMs?: number;
}

const finishedAs = (j: Job): 'Complete' | 'Failed' | undefined =>
  (j.status?.conditions ?? []).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.type as 'Complete' | 'Failed' | undefined;

/** byJobStartTime: started ones first, oldest first; never-started last; ties by name. */
function byStartTime(a: Job, b: Job): number {
  const sa = a.status?.startTime;
  const sb = b.status?.startTime;
  if (!sa && sb) return 1;
  if (sa && !sb) return -1;
  if (sa === sb || Date.parse(sa!) === Date.parse(sb!)) return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
  return Date.parse(sa!) - Date.parse(sb!);
}

export function jobRef(j: Job): ObjectReference {
  return { kind: 'Job', namespace: j.metadata?.namespace, name: j.metadata?.name, uid: j.metadata?.uid, apiVersion: 'batch/v1', resourceVersion: j.metadata?.resourceVersion };
}

/** getJobFromTemplate2: the Job for one schedule time, defaulted as the apiserver would. */
export function jobFromTemplate(cj: CronJob, scheduledTime: number, annotationZone: Zone): Job {
  const t = cj.spec!.jobTemplate;
  const job: Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cj, scheduledTime),
      namespace: cj.metadata?.namespace,
      labels: { ...t.metadata?.labels },
      annotations: { ...t.metadata?.annotations, [ANNOTATION_CRONJOB_SCHEDULED_TIMESTAMP]: formatRFC3339(scheduledTime, annotationZone) },
      ownerReferences: [newControllerRef({ ...cj, apiVersion: 'batch/v1', kind: 'CronJob' })],
    },
    spec: structuredClone(t.spec!),
  };
  if (Object.keys(job.metadata!.labels!).length === 0) delete job.metadata!.labels;
  return applyDefaults(job);
}

export function planCronJobSync(input: CronJobSyncInput): CronJobSyncPlan {
  const { cj, now } = input;
  const status: CronJobStatus = structuredClone(cj.status ?? {});
  let active = [...(status.active ?? [])];
  const plan: CronJobSyncPlan = { status, deleteJobs: [], events: [] };
  const event = (type: JobEvent['type'], reason: string, message: string) => plan.events.push({ type, reason, message });
  const dropActive = (uid: string | undefined) => (active = active.filter((r) => r.uid !== uid));
  const done = () => {
    if (active.length) status.active = active;
    else delete status.active;
    return plan;
  };

  // cleanupFinishedJobs: the oldest finished Jobs beyond the history limits go.
  for (const [outcome, limit] of [['Complete', cj.spec?.successfulJobsHistoryLimit], ['Failed', cj.spec?.failedJobsHistoryLimit]] as const) {
    if (limit === undefined) continue;
    const finished = input.jobs.filter((j) => finishedAs(j) === outcome).sort(byStartTime);
    for (const j of finished.slice(0, Math.max(0, finished.length - limit))) {
      plan.deleteJobs.push(j);
      dropActive(j.metadata?.uid);
      event('Normal', 'SuccessfulDelete', `Deleted job ${j.metadata?.name}`);
    }
  }
  const jobs = input.jobs.filter((j) => !plan.deleteJobs.includes(j));

  for (const j of jobs) {
    const found = active.some((r) => r.uid === j.metadata?.uid);
    const outcome = finishedAs(j);
    if (!found && !outcome) event('Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata?.name}`);
    else if (found && outcome) {
      dropActive(j.metadata?.uid);
      event('Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata?.name}, condition: ${outcome}`);
    }
    const completed = j.status?.completionTime;
    if (outcome === 'Complete' && completed && (!status.lastSuccessfulTime || Date.parse(completed) > Date.parse(status.lastSuccessfulTime))) status.lastSuccessfulTime = completed;
  }
  for (const r of [...active]) {
    if (!input.gone?.has(r.uid ?? '')) continue;
    dropActive(r.uid);
    event('Normal', 'MissingJob', `Active job went missing: ${r.name}`);
  }
  if (cj.metadata?.deletionTimestamp) return done();

  let zone = input.localZone;
  const tz = cj.spec?.timeZone;
  if (tz !== undefined) {
    const z = loadZone(tz);
    if (!z) {
      event('Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(tz)}: unknown time zone ${tz}`);
      return done();
    }
    zone = z;
  }
  if (cj.spec?.suspend) return done();
  let schedule: CronSchedule;
  try {
    schedule = parseSchedule(cj.spec?.schedule ?? '');
  } catch (err) {
    if (!(err instanceof CronParseError)) throw err;
    event('Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cj.spec?.schedule ?? '')} : ${err.message}`);
    return done();
  }
  const withActive = (): CronJob => ({ ...cj, status: { ...status, active } });
  const sleep = () => {
    const ms = nextScheduleDelay(withActive(), now, schedule, zone);
    if (ms !== undefined) plan.requeueAfterMs = ms;
    return done();
  };

  const due = mostRecentScheduleTime(withActive(), now, schedule, zone, true);
  if (due.error) {
    event('Warning', 'InvalidSchedule', `invalid schedule: ${cj.spec?.schedule} : ${due.error}`);
    return done();
  }
  if (due.missed === 'many' && due.mostRecent !== undefined) event('Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
  const scheduled = due.mostRecent;
  if (scheduled === undefined) return sleep();
  const deadline = cj.spec?.startingDeadlineSeconds;
  if (deadline !== undefined && scheduled + deadline * 1000 < now) {
    event('Warning', 'MissSchedule', `Missed scheduled time to start a job: ${formatRFC1123Z(scheduled)}`);
    return sleep();
  }
  const name = jobNameFor(cj, scheduled);
  if (active.some((r) => r.name === name) || (status.lastScheduleTime && Date.parse(status.lastScheduleTime) === scheduled)) return sleep();
  const policy = cj.spec?.concurrencyPolicy ?? 'Allow';
  if (policy === 'Forbid' && active.length > 0) {
    event('Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
    return sleep();
  }
  if (policy === 'Replace') {
    for (const r of active) {
      const j = jobs.find((x) => x.metadata?.uid === r.uid);
      if (j) plan.deleteJobs.push(j);
      event('Normal', 'SuccessfulDelete', `Deleted job ${r.name}`);
    }
    active = [];
  }
  // The scheduled-timestamp annotation is in the CronJob's zone; without timeZone, UTC (LoadLocation("")).
  plan.create = { job: jobFromTemplate(cj, scheduled, tz !== undefined ? zone : UTC), scheduledTime: scheduled };
  status.lastScheduleTime = metaTime(scheduled);
  const ms = nextScheduleDelay({ ...cj, status: { ...status, active } }, now, schedule, zone);
  if (ms !== undefined) plan.requeueAfterMs = ms;
  return done();
}
