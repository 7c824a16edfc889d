/** The Job columns kubectl computes from its status (1.32 printJob): STATUS, COMPLETIONS, DURATION. */
import type { Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import { humanDuration } from './age.js';

const hasJobCondition = (conditions: JobCondition[] | undefined, type: string) => (conditions ?? []).some((c) => c.type === type && c.status === 'True');

/** STATUS: the first of these conditions that holds. */
export function jobStatusText(j: Job): string {
  const c = j.status?.conditions;
  if (hasJobCondition(c, 'Complete')) return 'Complete';
  if (hasJobCondition(c, 'Failed')) return 'Failed';
  if (j.metadata?.deletionTimestamp) return 'Terminating';
  if (hasJobCondition(c, 'Suspended')) return 'Suspended';
  if (hasJobCondition(c, 'FailureTarget')) return 'FailureTarget';
  if (hasJobCondition(c, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

/** COMPLETIONS: `2/5`; without completions `0/1`, or `0/1 of 3` with parallelism above 1. */
export function jobCompletionsText(j: Job): string {
  const succeeded = j.status?.succeeded ?? 0;
  if (j.spec?.completions !== undefined) return `${succeeded}/${j.spec.completions}`;
  const parallelism = j.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** DURATION: start to completion, or start to now while it runs; empty before it starts. */
export function jobDurationText(j: Job, now = Date.now()): string {
  const start = j.status?.startTime;
  if (!start) return '';
  const end = j.status?.completionTime ? Date.parse(j.status.completionTime) : now;
  return humanDuration(end - Date.parse(start));
}
