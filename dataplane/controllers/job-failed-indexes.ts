/**
 * `spec.backoffLimitPerIndex` of an Indexed Job (pkg/controller/job/indexed_job_utils.go,
 * backoff_utils.go): each index may fail `backoffLimitPerIndex` times before it is failed for
 * good (`status.failedIndexes`); a FailIndex rule of the podFailurePolicy fails it at once.
 * A replacement pod carries the failures of its index so far in the
 * `batch.kubernetes.io/job-index-failure-count` annotation (and the failures the policy ignored
 * in `…/job-index-ignored-failure-count`); to copy them, the failed pod keeps its tracking
 * finalizer until its replacement exists (getPodsWithDelayedDeletionPerIndex). Each index backs
 * off on its own: 10 s doubling per failure of that index, counted from when the controller saw
 * the failure (as the Job-wide back-off in job-backoff.ts).
 */
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { completionIndexOf, parseIndexes } from './job-indexes.js';
import { finishedAt, hasTrackingFinalizer, isPodFailed } from './job-pods.js';
import { matchPodFailurePolicy } from './job-failure-policy.js';
import { backoffRemainingMs } from './job-backoff.js';
import { ANNOTATION_JOB_INDEX_FAILURE_COUNT, ANNOTATION_JOB_INDEX_IGNORED_FAILURE_COUNT } from '../base/model/well-known.js';

const MAX_INT32 = 2147483647;

export const hasBackoffLimitPerIndex = (job: Job): boolean => job.spec?.completionMode === 'Indexed' && job.spec.backoffLimitPerIndex !== undefined;

/** An annotation's count; 0 when absent, malformed, negative or past int32 (parseInt32). */
function countAnnotation(pod: Pod, key: string): number {
  const v = pod.metadata?.annotations?.[key];
  if (v === undefined || !/^-?\d+$/.test(v)) return 0;
  const n = Number(v);
  return n < 0 || n > MAX_INT32 ? 0 : n;
}

export const indexFailureCount = (pod: Pod): number => countAnnotation(pod, ANNOTATION_JOB_INDEX_FAILURE_COUNT);
const indexAbsoluteFailureCount = (pod: Pod): number => indexFailureCount(pod) + countAnnotation(pod, ANNOTATION_JOB_INDEX_IGNORED_FAILURE_COUNT);

/** The pod's index, if it is one of the Job's (below completions). */
function validIndex(job: Job, pod: Pod): number | undefined {
  const ix = completionIndexOf(pod);
  return ix !== undefined && ix < (job.spec?.completions ?? 0) ? ix : undefined;
}

/** isIndexFailed: a FailIndex rule matched, or a counted failure reached the index's limit. */
export function isIndexFailed(job: Job, pod: Pod): boolean {
  if (!isPodFailed(pod, job)) return false;
  const m = matchPodFailurePolicy(job.spec?.podFailurePolicy, pod);
  if (m.action === 'FailIndex') return true;
  return m.countFailed && indexFailureCount(pod) >= (job.spec?.backoffLimitPerIndex ?? 0);
}

/** calculateFailedIndexes: `status.failedIndexes` and the indexes failed since (pods not yet counted). */
export function calculateFailedIndexes(job: Job, pods: Pod[]): Set<number> {
  const out = parseIndexes(job.status?.failedIndexes, job.spec?.completions ?? 0);
  for (const p of pods) {
    const ix = validIndex(job, p);
    if (ix !== undefined && hasTrackingFinalizer(p) && isIndexFailed(job, p)) out.add(ix);
  }
  return out;
}

/**
 * getPodsWithDelayedDeletionPerIndex: per index still to be retried (not succeeded, not
 * failed, no active pod), its latest failed pod — kept until the replacement copies its count.
 */
export function podsWithDelayedDeletion(job: Job, pods: Pod[], active: Pod[], succeeded: ReadonlySet<number>, failed: ReadonlySet<number>): Map<number, Pod> {
  const activeIndexes = new Set(active.map(completionIndexOf));
  const out = new Map<number, Pod>();
  for (const p of pods) {
    const ix = validIndex(job, p);
    if (ix === undefined || !hasTrackingFinalizer(p) || !isPodFailed(p, job)) continue;
    if (succeeded.has(ix) || failed.has(ix) || activeIndexes.has(ix)) continue;
    const last = out.get(ix);
    if (!last || (indexAbsoluteFailureCount(last) <= indexAbsoluteFailureCount(p) && finishedAt(p) >= finishedAt(last))) out.set(ix, p);
  }
  return out;
}

/** addIndexFailureCountAnnotation: the counts a replacement of `replaced` starts with. */
export function indexFailureAnnotations(job: Job, replaced: Pod | undefined): Record<string, string> {
  let failures = 0;
  let ignored = 0;
  if (replaced) {
    failures = indexFailureCount(replaced);
    ignored = countAnnotation(replaced, ANNOTATION_JOB_INDEX_IGNORED_FAILURE_COUNT);
    if (matchPodFailurePolicy(job.spec?.podFailurePolicy, replaced).countFailed) failures++;
    else ignored++;
  }
  return { [ANNOTATION_JOB_INDEX_FAILURE_COUNT]: String(failures), ...(ignored > 0 ? { [ANNOTATION_JOB_INDEX_IGNORED_FAILURE_COUNT]: String(ignored) } : {}) };
}

/**
 * getPodCreationInfoForIndependentIndexes: of the indexes to create, those whose back-off is
 * over — or, when none is, how long until the first one is. `seenFailedAt` holds when the
 * controller first saw each delayed pod failed (pod uid → its clock).
 */
export function indexesPastBackoff(indexes: number[], delayed: ReadonlyMap<number, Pod>, seenFailedAt: ReadonlyMap<string, number>, now: number, baseMs?: number): { now: number[]; waitMs: number } {
  const ready: number[] = [];
  let waitMs = Infinity;
  for (const ix of indexes) {
    const last = delayed.get(ix);
    const left = last ? backoffRemainingMs({ failuresAfterLastSuccess: indexAbsoluteFailureCount(last) + 1, lastFailureAt: seenFailedAt.get(last.metadata?.uid ?? '') ?? now }, now, baseMs) : 0;
    if (left === 0) ready.push(ix);
    else waitMs = Math.min(waitMs, left);
  }
  return { now: ready, waitMs: ready.length || waitMs === Infinity ? 0 : waitMs };
}
