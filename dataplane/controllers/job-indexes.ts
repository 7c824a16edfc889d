/**
 * Completion indexes of an Indexed Job (pkg/controller/job/indexed_job_utils.go): a pod's index
 * from its `batch.kubernetes.io/job-completion-index` annotation, and the set of succeeded
 * indexes as `status.completedIndexes` writes it — increasing, runs of three or more as `a-b`
 * ("1,3-5,7").
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ANNOTATION_JOB_COMPLETION_INDEX } from '../base/model/well-known.js';

/** The pod's completion index, or undefined when it has none (or a malformed one). */
export function completionIndexOf(pod: Pod): number | undefined {
  const v = pod.metadata?.annotations?.[ANNOTATION_JOB_COMPLETION_INDEX];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** Parses "1,3-5,7" into its indexes below `completions` (malformed parts are skipped, as upstream logs and skips them). */
export function parseIndexes(text: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  for (const part of (text ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const first = Number(m[1]);
    const last = Math.min(m[2] === undefined ? first : Number(m[2]), completions - 1);
    for (let i = first; i <= last; i++) out.add(i);
  }
  return out;
}

/** The set as completedIndexes writes it: "0-2,4,6,7". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    if (j - i >= 2) parts.push(`${sorted[i]}-${sorted[j]}`);
    else for (let k = i; k <= j; k++) parts.push(String(sorted[k]));
    i = j + 1;
  }
  return parts.join(',');
}

/** firstPendingIndexes: the lowest indexes neither succeeded nor held by a pod, at most `count`. */
export function firstPendingIndexes(completions: number, succeeded: Set<number>, held: Set<number>, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++) if (!succeeded.has(i) && !held.has(i)) out.push(i);
  return out;
}
