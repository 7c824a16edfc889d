/**
 * The Job controller's back-off before it replaces failed pods
 * (pkg/controller/job/backoff_utils.go): 10 s after the first failure since the last success,
 * doubling per further failure, at most 6 minutes. The record lives in the controller's memory,
 * as upstream's podBackoffStore does.
 *
 * Times: the last failure is when the controller counted it (its clock), not the pod's
 * finishedAt — knet's tests may run the controller on a fake clock while the kubelet writes
 * real times; a failure's order against successes in the same pass is still taken from the pods.
 */
export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureAt?: number;
  /** backoffLimitPerIndex: when the controller first saw each index's latest failed pod (pod uid → its clock). */
  indexFailuresSeenAt?: Record<string, number>;
}

export const DEFAULT_JOB_BACKOFF_MS = 10_000;
export const MAX_JOB_BACKOFF_MS = 360_000;

/** newBackoffRecord: failures counted since the latest success among the newly finished pods. */
export function nextBackoffRecord(prev: BackoffRecord, newSucceededFinishTimes: number[], newFailedFinishTimes: number[], now: number): BackoffRecord {
  if (newFailedFinishTimes.length === 0) return newSucceededFinishTimes.length ? { failuresAfterLastSuccess: 0 } : prev;
  if (newSucceededFinishTimes.length === 0) return { failuresAfterLastSuccess: prev.failuresAfterLastSuccess + newFailedFinishTimes.length, lastFailureAt: now };
  const lastSuccess = Math.max(...newSucceededFinishTimes);
  const after = newFailedFinishTimes.filter((t) => t > lastSuccess).length;
  return after ? { failuresAfterLastSuccess: after, lastFailureAt: now } : { failuresAfterLastSuccess: 0 };
}

/** getRemainingTime: how long pod creation must still wait (0: not at all). */
export function backoffRemainingMs(rec: BackoffRecord, now: number, baseMs = DEFAULT_JOB_BACKOFF_MS, maxMs = MAX_JOB_BACKOFF_MS): number {
  if (rec.failuresAfterLastSuccess === 0 || rec.lastFailureAt === undefined) return 0;
  let delay = baseMs;
  for (let i = 1; i < rec.failuresAfterLastSuccess; i++) {
    delay *= 2;
    if (delay >= maxMs) {
      delay = maxMs;
      break;
    }
  }
  const elapsed = now - rec.lastFailureAt;
  return delay < elapsed ? 0 : delay - elapsed;
}
