/**
 * Whether a Job has reached its end, as syncJob decides it (1.32, delayed terminal conditions):
 * an interim condition recorded earlier (SuccessCriteriaMet, FailureTarget) stands; else a pod
 * matching a FailJob rule of the podFailurePolicy, the backoff limit, the active deadline; and,
 * for an Indexed Job, its failed indexes (backoffLimitPerIndex) and its successPolicy.
 */
import type { Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { failJobMessage } from './job-failure-policy.js';
import { matchSuccessPolicy } from './job-success-policy.js';
import { isPodFailed } from './job-pods.js';
import { metaTime } from '../base/model/meta-time.js';

export function newCondition(type: string, status: string, reason: string, message: string, now: number): JobCondition {
  const t = metaTime(now);
  return { type, status, lastProbeTime: t, lastTransitionTime: t, reason, message };
}

export const hasCondition = (conditions: JobCondition[] | undefined, type: string) => conditions?.find((c) => c.type === type && c.status === 'True');

/** With restartPolicy OnFailure, failures show as container restarts of running pods. */
function pastBackoffLimitOnFailure(job: Job, pods: Pod[]): boolean {
  if (job.spec?.template.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    if (p.status?.phase !== 'Running' && p.status?.phase !== 'Pending') continue;
    for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += c.restartCount ?? 0;
  }
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

export interface FinishInput {
  job: Job;
  pods: Pod[];
  now: number;
  /** Failures counted toward backoffLimit (those an Ignore rule matched left out). */
  failed: number;
  suspended: boolean;
  /** status.startTime as this pass writes it. */
  startTime?: string;
  /** An Indexed Job's succeeded indexes, and its failed ones under backoffLimitPerIndex. */
  succeededIndexes: ReadonlySet<number>;
  failedIndexes?: ReadonlySet<number>;
}

/** The condition the Job ends with (Complete/Failed when an interim one stands), and when to look at the deadline again. */
export function finishCondition(input: FinishInput): { finished?: JobCondition; deadlineInMs?: number } {
  const { job, pods, now } = input;
  const spec = job.spec!;
  const status = job.status ?? {};
  const successMet = hasCondition(status.conditions, 'SuccessCriteriaMet');
  if (successMet) return { finished: newCondition('Complete', 'True', successMet.reason ?? '', successMet.message ?? '', now) };
  const failureTarget = hasCondition(status.conditions, 'FailureTarget');
  if (failureTarget) return { finished: newCondition('Failed', 'True', failureTarget.reason ?? '', failureTarget.message ?? '', now) };
  const policyMessage = failJobMessage(job, pods.filter((p) => isPodFailed(p, job)));
  if (policyMessage !== undefined) return { finished: newCondition('FailureTarget', 'True', 'PodFailurePolicy', policyMessage, now) };
  if (input.failed > (spec.backoffLimit ?? 6) || pastBackoffLimitOnFailure(job, pods)) {
    return { finished: newCondition('FailureTarget', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', now) };
  }
  let deadlineInMs: number | undefined;
  if (spec.activeDeadlineSeconds !== undefined && input.startTime && !input.suspended) {
    const left = Date.parse(input.startTime) + spec.activeDeadlineSeconds * 1000 - now;
    if (left <= 0) return { finished: newCondition('FailureTarget', 'True', 'DeadlineExceeded', 'Job was active longer than specified deadline', now) };
    deadlineInMs = left;
  }
  if (spec.completionMode !== 'Indexed') return { deadlineInMs };
  const failedIx = input.failedIndexes;
  if (failedIx && spec.maxFailedIndexes !== undefined && failedIx.size > spec.maxFailedIndexes) {
    return { finished: newCondition('FailureTarget', 'True', 'MaxFailedIndexesExceeded', 'Job has exceeded the specified maximal number of failed indexes', now), deadlineInMs };
  }
  if (failedIx && failedIx.size > 0 && failedIx.size + input.succeededIndexes.size >= (spec.completions ?? 0)) {
    return { finished: newCondition('FailureTarget', 'True', 'FailedIndexes', 'Job has failed indexes', now), deadlineInMs };
  }
  const met = matchSuccessPolicy(spec.successPolicy, spec.completions ?? 0, input.succeededIndexes);
  if (met !== undefined) return { finished: newCondition('SuccessCriteriaMet', 'True', 'SuccessPolicy', met, now), deadlineInMs };
  return { deadlineInMs };
}
