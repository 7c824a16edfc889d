/**
 * The pods of a Job (pkg/controller/job): made from its template with the tracking finalizer
 * (`batch.kubernetes.io/job-tracking`, removed once the pod's end is counted) and, for an
 * Indexed Job, the completion index as annotation and label, `JOB_COMPLETION_INDEX` in every
 * container's environment and the hostname `<job>-<index>`; and which active pods go first
 * when there are too many.
 */
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podFromTemplate } from './pod-template.js';
import { rankForDeletion } from './replicaset.js';
import { completionIndexOf } from './job-indexes.js';
import { ANNOTATION_JOB_COMPLETION_INDEX, FINALIZER_JOB_TRACKING } from '../base/model/well-known.js';

export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';

export function hasTrackingFinalizer(pod: Pod): boolean {
  return pod.metadata?.finalizers?.includes(FINALIZER_JOB_TRACKING) === true;
}

/** The generateName base: `<job>` (pods `<job>-xxxxx`), or `<job>-<index>` for an Indexed Job's pod. */
export function podNameBase(job: Job, index?: number): string {
  const name = job.metadata?.name ?? '';
  if (index === undefined) return name;
  // podGenerateNameWithIndex: the job name is cut so `<job>-<index>-xxxxx` stays within 63 characters.
  const suffix = `-${index}`;
  return name.slice(0, Math.max(0, 57 - suffix.length)) + suffix;
}

/** A pod of the Job, for completion index `index` when the Job is Indexed. */
export function podFromJob(job: Job, index?: number, annotations?: Record<string, string>): Pod {
  const template = structuredClone(job.spec!.template);
  const meta = (template.metadata ??= {});
  meta.finalizers = [...new Set([...(meta.finalizers ?? []), FINALIZER_JOB_TRACKING])];
  if (index !== undefined) {
    meta.annotations = { ...meta.annotations, [ANNOTATION_JOB_COMPLETION_INDEX]: String(index), ...annotations };
    meta.labels = { ...meta.labels, [ANNOTATION_JOB_COMPLETION_INDEX]: String(index) };
    const spec = template.spec!;
    spec.hostname = `${job.metadata?.name}-${index}`;
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      if ((c.env ?? []).some((e) => e.name === COMPLETION_INDEX_ENV)) continue;
      c.env = [...(c.env ?? []), { name: COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: `metadata.labels['${ANNOTATION_JOB_COMPLETION_INDEX}']` } } }];
    }
  }
  return podFromTemplate({ ...job, apiVersion: 'batch/v1', kind: 'Job' }, template);
}

/**
 * activePodsForRemoval: at least `count` active pods, most removable first. For an Indexed Job,
 * pods without a valid index, pods of an index that already succeeded, and all but one pod of a
 * duplicated index go before any other.
 */
export function activePodsForRemoval(job: Job, active: Pod[], count: number, succeeded: Set<number>): Pod[] {
  const rm: Pod[] = [];
  let left = active;
  if (job.spec?.completionMode === 'Indexed') {
    const completions = job.spec.completions ?? 0;
    const byIndex = new Map<number, Pod[]>();
    left = [];
    for (const p of active) {
      const ix = completionIndexOf(p);
      if (ix === undefined || ix >= completions || succeeded.has(ix)) rm.push(p);
      else byIndex.set(ix, [...(byIndex.get(ix) ?? []), p]);
    }
    for (const pods of byIndex.values()) {
      // Keep the one least removable (the last in deletion order).
      const ranked = rankForDeletion(pods);
      rm.push(...ranked.slice(0, -1));
      left.push(ranked.at(-1)!);
    }
  }
  if (rm.length < count) rm.push(...rankForDeletion(left).slice(0, count - rm.length));
  return rm;
}

/** isPodFailed under TerminatingOrFailed: failed, or being deleted without having succeeded. */
export function isPodFailed(p: Pod, job: Job): boolean {
  if (p.status?.phase === 'Failed') return true;
  if (job.spec?.podReplacementPolicy === 'Failed' || job.spec?.podFailurePolicy) return false;
  return !!p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded';
}

/** When the pod ended: its containers' latest finishedAt (getFinishedTime), for ordering only. */
export function finishedAt(p: Pod): number {
  const times = [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])]
    .map((c) => Date.parse(c.state?.terminated?.finishedAt ?? ''))
    .filter(Number.isFinite);
  return times.length ? Math.max(...times) : Date.parse(p.metadata?.deletionTimestamp ?? p.metadata?.creationTimestamp ?? '') || 0;
}
