/**
 * One pass of the Job controller over a Job and its pods, as a pure function
 * (pkg/controller/job/job_controller.go syncJob, manageJob, trackJobStatusAndRemoveFinalizers
 * and enactJobFinished, with 1.32's default feature gates): what to create and delete, which
 * finalizers to remove, and the status to write.
 *
 * Counting, as upstream: a finished pod still carrying the tracking finalizer goes into
 * `status.uncountedTerminatedPods` (an Indexed Job's succeeded pods into `completedIndexes`);
 * once that status is written its finalizer is removed, and a later pass moves it into the
 * `succeeded`/`failed` counters. A pod being deleted counts as failed (podReplacementPolicy
 * TerminatingOrFailed) and is replaced at once. The Job ends in two steps: SuccessCriteriaMet
 * (or FailureTarget) first, Complete (or Failed) once nothing is left uncounted or terminating.
 */
import type { Job, JobCondition, JobSpec, JobStatus } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isPodReady, isPodTerminal } from './pod-conditions.js';
import { backoffRemainingMs, nextBackoffRecord, type BackoffRecord } from './job-backoff.js';
import { completionIndexOf, firstPendingIndexes, formatIndexes, parseIndexes } from './job-indexes.js';
import { activePodsForRemoval, finishedAt, hasTrackingFinalizer, isPodFailed } from './job-pods.js';
import { metaTime } from '../base/model/meta-time.js';
import { finishCondition, hasCondition, newCondition } from './job-finish.js';
import { matchPodFailurePolicy } from './job-failure-policy.js';
import { calculateFailedIndexes, hasBackoffLimitPerIndex, indexFailureAnnotations, indexesPastBackoff, podsWithDelayedDeletion } from './job-failed-indexes.js';

/** upstream MaxPodCreateDeletePerSync */
export const MAX_POD_CREATE_DELETE_PER_SYNC = 500;

export type JobEvent = { type: 'Normal' | 'Warning'; reason: string; message: string };

export interface JobSyncInput {
  job: Job;
  /** Pods the Job controls, in any state. */
  pods: Pod[];
  now: number;
  /** Pods that vanished while still uncounted (seen deleted with the finalizer on): uid → how they ended. */
  lost?: ReadonlyMap<string, 'Succeeded' | 'Failed'>;
  backoff: BackoffRecord;
  backoffBaseMs?: number;
}

export interface JobSyncPlan {
  status: JobStatus;
  /** Pods to create: one entry per pod, its completion index for an Indexed Job. */
  create: Array<number | undefined>;
  delete: Pod[];
  /** backoffLimitPerIndex: the failure-count annotations of the pod created for an index. */
  createAnnotations?: Record<number, Record<string, string>>;
  /** Pods whose tracking finalizer goes, once `status` is written. */
  releaseFinalizers: Pod[];
  events: JobEvent[];
  backoff: BackoffRecord;
  requeueAfterMs?: number;
}

export function isJobFinished(job: Job): boolean {
  return !!(hasCondition(job.status?.conditions, 'Complete') || hasCondition(job.status?.conditions, 'Failed'));
}

/** ensureJobConditionStatus: replaced when status, reason or message differ; a False one is never added. */
function ensureCondition(list: JobCondition[], c: JobCondition): { list: JobCondition[]; changed: boolean } {
  const i = list.findIndex((x) => x.type === c.type);
  if (i >= 0) {
    const cur = list[i]!;
    if (cur.status === c.status && cur.reason === c.reason && cur.message === c.message) return { list, changed: false };
    return { list: list.map((x, j) => (j === i ? c : x)), changed: true };
  }
  return c.status === 'False' ? { list, changed: false } : { list: [...list, c], changed: true };
}

/** What one pass knows and builds up, shared by its steps below. */
interface JobPass {
  input: JobSyncInput;
  job: Job;
  spec: JobSpec;
  pods: Pod[];
  now: number;
  indexed: boolean;
  completions: number | undefined;
  plan: JobSyncPlan;
  status: JobStatus;
  /** Finished pods recorded in status.uncountedTerminatedPods (their finalizer not yet gone). */
  uncounted: { succeeded: Set<string>; failed: Set<string> };
  succeededIndexes: Set<number>;
  succeeded: number;
  active: Pod[];
  terminating: number;
  suspended: boolean;
  /** backoffLimitPerIndex: the failed indexes, and per index to retry the failed pod whose count its replacement copies. */
  failedIndexes: Set<number> | undefined;
  delayed: Map<number, Pod>;
  /** nonIgnoredFailedPodsCount: failures an Ignore rule matched do not count toward backoffLimit. */
  countsAsFailed: (p: Pod) => boolean;
}

export function planJobSync(input: JobSyncInput): JobSyncPlan {
  const { job, pods, now } = input;
  const spec = job.spec!;
  const plan: JobSyncPlan = { status: structuredClone(job.status ?? {}), create: [], delete: [], releaseFinalizers: [], events: [], backoff: input.backoff };
  if (isJobFinished(job)) {
    // Whatever still carries the finalizer is let go; nothing else changes.
    plan.releaseFinalizers = pods.filter(hasTrackingFinalizer);
    return plan;
  }
  const status = plan.status;
  const countsAsFailed = (p: Pod) => matchPodFailurePolicy(spec.podFailurePolicy, p).countFailed;
  const counts = countPods(input, status, countsAsFailed);
  plan.backoff = nextBackoffRecord(input.backoff, counts.newlySucceeded.map(finishedAt), counts.newlyFailed.map(finishedAt), now);

  const suspended = spec.suspend === true;
  if (!status.startTime && !suspended) status.startTime = metaTime(now);
  const active = pods.filter((p) => !isPodTerminal(p) && !p.metadata?.deletionTimestamp);
  const failedIndexes = hasBackoffLimitPerIndex(job) ? calculateFailedIndexes(job, pods) : undefined;
  const pass: JobPass = {
    input, job, spec, pods, now, plan, status, suspended, active, failedIndexes, countsAsFailed,
    indexed: spec.completionMode === 'Indexed',
    completions: spec.completions,
    uncounted: counts.uncounted,
    succeededIndexes: counts.succeededIndexes,
    succeeded: counts.succeeded,
    terminating: pods.filter((p) => p.metadata?.deletionTimestamp && !isPodTerminal(p)).length,
    delayed: failedIndexes ? podsWithDelayedDeletion(job, pods, active, counts.succeededIndexes, failedIndexes) : new Map<number, Pod>(),
  };
  if (failedIndexes) plan.backoff = { ...plan.backoff, indexFailuresSeenAt: Object.fromEntries([...pass.delayed.values()].map((p) => [p.metadata!.uid!, input.backoff.indexFailuresSeenAt?.[p.metadata!.uid!] ?? now])) };

  // Has the Job reached an end? (an interim condition recorded earlier decides it)
  const end = finishCondition({ job, pods, now, failed: counts.failed, suspended, startTime: status.startTime, succeededIndexes: pass.succeededIndexes, ...(failedIndexes ? { failedIndexes } : {}) });
  if (end.deadlineInMs !== undefined) plan.requeueAfterMs = end.deadlineInMs;
  let conditions = [...(status.conditions ?? [])];
  let finished = end.finished;
  if (finished && finished.type !== 'Complete') {
    // Failing: every active pod goes, and counts as failed.
    plan.delete = pass.active;
    pass.terminating += pass.active.length;
    pass.active = [];
  } else if (!finished) {
    manageJob(pass);
    const done = pass.active.length === 0 && (pass.completions === undefined ? pass.succeeded > 0 : pass.succeeded >= pass.completions);
    if (done) finished = newCondition('SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
    else conditions = suspendOrResume(pass, conditions);
  }
  recordEndedPods(pass, finished);
  conditions = enactFinished(pass, finished, conditions);
  writeCounts(pass, conditions);
  return plan;
}

/**
 * The pods' ends so far: uncounted pods whose finalizer is gone (or that are gone) move into the
 * counters, and the newly finished ones (still tracked, not yet recorded) are found.
 */
function countPods(input: JobSyncInput, status: JobStatus, countsAsFailed: (p: Pod) => boolean) {
  const { job, pods } = input;
  const indexed = job.spec?.completionMode === 'Indexed';
  const completions = job.spec?.completions;
  const uncounted = { succeeded: new Set(status.uncountedTerminatedPods?.succeeded ?? []), failed: new Set(status.uncountedTerminatedPods?.failed ?? []) };
  const tracked = new Set(pods.filter(hasTrackingFinalizer).map((p) => p.metadata!.uid!));
  const wasUncounted = new Set([...uncounted.succeeded, ...uncounted.failed]);
  for (const [set, counter] of [[uncounted.succeeded, 'succeeded'], [uncounted.failed, 'failed']] as const) {
    for (const uid of set) {
      if (tracked.has(uid)) continue;
      set.delete(uid);
      status[counter] = (status[counter] ?? 0) + 1;
    }
  }
  const podUids = new Set(pods.map((p) => p.metadata?.uid));
  for (const [uid, how] of input.lost ?? []) {
    if (podUids.has(uid) || wasUncounted.has(uid)) continue;
    if (how === 'Succeeded' && !indexed) status.succeeded = (status.succeeded ?? 0) + 1;
    else if (how === 'Failed') status.failed = (status.failed ?? 0) + 1;
  }

  const newlySucceeded: Pod[] = [];
  const newlyFailed: Pod[] = [];
  for (const p of pods) {
    const uid = p.metadata!.uid!;
    if (!hasTrackingFinalizer(p) || uncounted.succeeded.has(uid) || uncounted.failed.has(uid)) continue;
    if (p.status?.phase === 'Succeeded') newlySucceeded.push(p);
    else if (isPodFailed(p, job)) newlyFailed.push(p);
  }
  const succeededIndexes = indexed ? parseIndexes(status.completedIndexes, completions ?? 0) : new Set<number>();
  if (indexed) for (const p of newlySucceeded) {
    const ix = completionIndexOf(p);
    if (ix !== undefined && ix < (completions ?? 0)) succeededIndexes.add(ix);
  }
  const succeeded = indexed ? succeededIndexes.size : (status.succeeded ?? 0) + uncounted.succeeded.size + newlySucceeded.length;
  const failed = (status.failed ?? 0) + uncounted.failed.size + newlyFailed.filter(countsAsFailed).length;
  return { uncounted, newlySucceeded, newlyFailed, succeededIndexes, succeeded, failed };
}

/** The Suspended condition as spec.suspend says, with its event; resuming restarts the deadline's clock. */
function suspendOrResume(pass: JobPass, conditions: JobCondition[]): JobCondition[] {
  const { plan, now } = pass;
  if (pass.suspended) {
    const r = ensureCondition(conditions, newCondition('Suspended', 'True', 'JobSuspended', 'Job suspended', now));
    if (r.changed) plan.events.push({ type: 'Normal', reason: 'Suspended', message: 'Job suspended' });
    return r.list;
  }
  const r = ensureCondition(conditions, newCondition('Suspended', 'False', 'JobResumed', 'Job resumed', now));
  if (r.changed) {
    plan.events.push({ type: 'Normal', reason: 'Resumed', message: 'Job resumed' });
    // The deadline counts what the Job spent active: it starts again on resume.
    pass.status.startTime = metaTime(now);
  }
  return r.list;
}

/**
 * Records what ended; the finalizers go once this status is written. A failing Job's pods all
 * count as failed unless they succeeded (upstream: "every non-terminated pod is considered failed").
 */
function recordEndedPods(pass: JobPass, finished: JobCondition | undefined): void {
  const { job, plan, uncounted, indexed, completions } = pass;
  const failingAll = finished !== undefined && (finished.type === 'FailureTarget' || finished.type === 'Failed');
  for (const p of pass.pods) {
    if (!hasTrackingFinalizer(p)) continue;
    const uid = p.metadata!.uid!;
    if (uncounted.succeeded.has(uid) || uncounted.failed.has(uid)) {
      plan.releaseFinalizers.push(p);
      continue;
    }
    const ended = p.status?.phase === 'Succeeded' ? 'Succeeded' : isPodFailed(p, job) || failingAll ? 'Failed' : undefined;
    if (!ended && !finished) continue;
    const ix = completionIndexOf(p);
    // canRemoveFinalizer: an index's failed pod waits for its replacement (backoffLimitPerIndex).
    if (!finished && !job.metadata?.deletionTimestamp && ended === 'Failed' && ix !== undefined && pass.delayed.get(ix) === p) continue;
    if (ended === 'Succeeded' && !indexed) uncounted.succeeded.add(uid);
    if (ended === 'Failed' && (!indexed || (ix !== undefined && ix < (completions ?? 0))) && pass.countsAsFailed(p)) uncounted.failed.add(uid);
    plan.releaseFinalizers.push(p);
  }
}

/**
 * The interim condition (SuccessCriteriaMet, FailureTarget) is recorded; the final one (Complete,
 * Failed) only with nothing uncounted and nothing still terminating (enactJobFinished).
 */
function enactFinished(pass: JobPass, finished: JobCondition | undefined, conditions: JobCondition[]): JobCondition[] {
  const { plan, now, uncounted, status } = pass;
  let final = finished;
  if (finished?.type === 'FailureTarget') {
    if (!hasCondition(conditions, 'FailureTarget')) conditions = [...conditions, finished];
    final = newCondition('Failed', 'True', finished.reason!, finished.message!, now);
  } else if (finished?.type === 'SuccessCriteriaMet') {
    if (!hasCondition(conditions, 'SuccessCriteriaMet')) conditions = [...conditions, finished];
    final = newCondition('Complete', 'True', finished.reason!, finished.message!, now);
  }
  if (!final || uncounted.succeeded.size + uncounted.failed.size > 0 || pass.terminating > 0) return conditions;
  const suspendedCond = conditions.findIndex((c) => c.type === 'Suspended' && c.status === 'True');
  if (suspendedCond >= 0) conditions[suspendedCond] = newCondition('Suspended', 'False', 'JobFinished', 'Job finished', now);
  conditions = ensureCondition(conditions, final).list;
  if (final.type === 'Complete') {
    status.completionTime = final.lastTransitionTime;
    plan.events.push({ type: 'Normal', reason: 'Completed', message: 'Job completed' });
  } else {
    plan.events.push({ type: 'Warning', reason: final.reason!, message: final.message! });
  }
  plan.requeueAfterMs = undefined;
  return conditions;
}

/** The status's counters, indexes and conditions as the apiserver writes them (zero counts omitted). */
function writeCounts(pass: JobPass, conditions: JobCondition[]): void {
  const { status, uncounted } = pass;
  if (pass.indexed) {
    status.completedIndexes = formatIndexes(pass.succeededIndexes);
    status.succeeded = pass.succeededIndexes.size;
  }
  if (pass.failedIndexes) status.failedIndexes = formatIndexes(pass.failedIndexes);
  status.uncountedTerminatedPods = {
    ...(uncounted.succeeded.size ? { succeeded: [...uncounted.succeeded] } : {}),
    ...(uncounted.failed.size ? { failed: [...uncounted.failed] } : {}),
  };
  status.active = pass.active.length;
  status.ready = pass.active.filter(isPodReady).length;
  status.terminating = pass.terminating;
  if (conditions.length) status.conditions = conditions;
  else delete status.conditions;
  for (const k of ['active', 'succeeded', 'failed'] as const) if (!status[k]) delete status[k];
  if (!status.completedIndexes) delete status.completedIndexes;
}

/** manageJob: delete extra pods, or create missing ones once the back-off allows. */
function manageJob(pass: JobPass): void {
  const { job, spec, plan, now, completions, succeeded, succeededIndexes, failedIndexes } = pass;
  if (pass.suspended) {
    plan.delete = activePodsForRemoval(job, pass.active, pass.active.length, succeededIndexes);
    pass.terminating += plan.delete.length;
    pass.active = pass.active.filter((p) => !plan.delete.includes(p));
    return;
  }
  const parallelism = spec.parallelism ?? 1;
  const wantActive = completions === undefined ? (succeeded > 0 ? pass.active.length : parallelism) : Math.max(0, Math.min(parallelism, completions - succeeded));
  const remove = activePodsForRemoval(job, pass.active, Math.max(0, pass.active.length - wantActive), succeededIndexes).slice(0, MAX_POD_CREATE_DELETE_PER_SYNC);
  if (remove.length) {
    // Deleting and creating in one pass could fight each other: deletion first.
    plan.delete = remove;
    pass.terminating += remove.length;
    pass.active = pass.active.filter((p) => !remove.includes(p));
    return;
  }
  const onlyFailed = spec.podReplacementPolicy === 'Failed' || !!spec.podFailurePolicy;
  let diff = Math.min(wantActive - (onlyFailed ? pass.terminating : 0) - pass.active.length, MAX_POD_CREATE_DELETE_PER_SYNC);
  if (diff <= 0) return;
  // With backoffLimitPerIndex each index backs off on its own, not the Job as a whole.
  const wait = failedIndexes ? 0 : backoffRemainingMs(plan.backoff, now, pass.input.backoffBaseMs);
  if (wait > 0) {
    plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? wait, wait);
    return;
  }
  if (pass.indexed) {
    // Indexes held by a running pod (and, when only failed pods are replaced, by a terminating one).
    const holders = pass.pods.filter((p) => !isPodTerminal(p) && (!p.metadata?.deletionTimestamp || onlyFailed));
    const held = new Set(holders.map(completionIndexOf).filter((i): i is number => i !== undefined));
    const done = failedIndexes ? new Set([...succeededIndexes, ...failedIndexes]) : succeededIndexes;
    plan.create = firstPendingIndexes(completions ?? 0, done, held, diff);
    if (failedIndexes) createPerIndex(pass, plan.create as number[]);
    diff = plan.create.length;
  } else {
    plan.create = Array.from({ length: diff }, () => undefined);
  }
  // Pods about to be created count as active (the pass does not declare the Job done meanwhile).
  pass.active = [...pass.active, ...Array.from({ length: diff }, () => ({}) as Pod)];
}

/** getPodCreationInfoForIndependentIndexes: only indexes past their back-off, each with its failure count. */
function createPerIndex(pass: JobPass, indexes: number[]): void {
  const { plan, job, delayed } = pass;
  const seenAt = new Map(Object.entries(plan.backoff.indexFailuresSeenAt ?? {}));
  const ready = indexesPastBackoff(indexes, delayed, seenAt, pass.now, pass.input.backoffBaseMs);
  if (ready.waitMs > 0) plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? ready.waitMs, ready.waitMs);
  plan.create = ready.now;
  plan.createAnnotations = Object.fromEntries(ready.now.map((ix) => [ix, indexFailureAnnotations(job, delayed.get(ix))]));
}
