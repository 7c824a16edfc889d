/**
 * A Deployment's revisions, as its ReplicaSets' annotations record them
 * (k8s.io/kubernetes/pkg/controller/deployment/util/deployment_util.go): the newest ReplicaSet
 * carries the highest `deployment.kubernetes.io/revision`; rolling back to an older template
 * makes its ReplicaSet the newest again, its earlier numbers kept in `…/revision-history`. The
 * Deployment's own annotations (`kubernetes.io/change-cause` among them) are copied onto its
 * newest ReplicaSet, which is what `kubectl rollout history` shows and `rollout undo` copies back.
 */
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { ANNOTATION_LAST_APPLIED } from '../base/model/well-known.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';

/** Upstream's maxRevHistoryLengthInChars: the history annotation drops its oldest numbers beyond it. */
const MAX_REVISION_HISTORY_CHARS = 2000;

/** annotationsToSkip: the controller's own and kubectl's, never copied between Deployment and ReplicaSet. */
const NOT_COPIED = new Set([
  ANNOTATION_LAST_APPLIED,
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  'deployment.kubernetes.io/error-selector-overlapping-with',
  'deployment.kubernetes.io/selector-updated-at',
]);

export function revisionOf(rs: ReplicaSet): number {
  return Number(rs.metadata?.annotations?.[REVISION] ?? 0) || 0;
}

/** The revision a new template gets: one above every other ReplicaSet's (MaxRevision + 1). */
export function nextRevision(others: ReplicaSet[]): number {
  return Math.max(0, ...others.map(revisionOf)) + 1;
}

/** The Deployment's annotations a ReplicaSet of it carries. */
export function copiedAnnotations(d: Deployment): Record<string, string> {
  return Object.fromEntries(Object.entries(d.metadata?.annotations ?? {}).filter(([k]) => !NOT_COPIED.has(k)));
}

/**
 * SetNewReplicaSetAnnotations for an existing newest ReplicaSet: the Deployment's annotations
 * copied on (added or overwritten, never removed), the revision raised to `revision` when it is
 * lower — a rollback — with the number it had appended to the history. Returns the new
 * annotations, or undefined when nothing changes.
 */
export function newReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, revision: number): Record<string, string> | undefined {
  const before = rs.metadata?.annotations ?? {};
  const next: Record<string, string> = { ...before };
  let changed = false;
  for (const [k, v] of Object.entries(copiedAnnotations(d))) {
    if (next[k] === v) continue;
    next[k] = v;
    changed = true;
  }
  const had = before[REVISION];
  const old = had === undefined || had === '' ? 0 : Number(had);
  if (!Number.isInteger(old)) return changed ? next : undefined;
  if (old < revision) {
    next[REVISION] = String(revision);
    changed = true;
    if (had !== undefined) next[REVISION_HISTORY] = appendHistory(before[REVISION_HISTORY] ?? '', had);
  }
  return changed ? next : undefined;
}

/** "1,3" + "5" → "1,3,5", the oldest numbers dropped to stay within the length limit. */
function appendHistory(history: string, revision: string): string {
  if (history === '') return revision;
  const revisions = history.split(',');
  let total = history.length + revision.length + 1;
  let start = 0;
  while (total > MAX_REVISION_HISTORY_CHARS && start < revisions.length) total -= revisions[start++]!.length + 1;
  return total <= MAX_REVISION_HISTORY_CHARS ? [...revisions.slice(start), revision].join(',') : history;
}
