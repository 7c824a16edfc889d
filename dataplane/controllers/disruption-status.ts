/**
 * The disruption controller's decision (pkg/controller/disruption, trySync and failSafe): a
 * PodDisruptionBudget's status from the pods it covers and their controllers' scale.
 *
 * - expectedPods: with `maxUnavailable` or a percentage `minAvailable`, the sum of the covered
 *   pods' controllers' replicas (Deployment over its ReplicaSet, ReplicaSet, StatefulSet,
 *   ReplicationController); with an integer `minAvailable`, the number of covered pods.
 * - desiredHealthy: `minAvailable` (a percentage of expectedPods, rounded up), or expectedPods
 *   less `maxUnavailable` (a percentage rounded up), never below 0.
 * - currentHealthy: Ready pods neither being deleted nor just evicted (in `disruptedPods`).
 * - disruptionsAllowed: currentHealthy − desiredHealthy, 0 when that is negative or when no
 *   pods are expected (so a budget whose first pods are just appearing is safe).
 * - disruptedPods: what the eviction subresource recorded, less pods now being deleted, gone,
 *   or not deleted within DeletionTimeout (2 min) of their eviction.
 * A failure to count (a pod with no controller that has a scale) is upstream's failSafe:
 * disruptionsAllowed 0 and DisruptionAllowed False/SyncFailed with the error.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import { DISRUPTION_ALLOWED, SYNC_FAILED, disruptionConditionUpToDate, withDisruptionAllowedCondition } from '../base/model/disruption-budget.js';
import { withCondition } from '../base/model/conditions.js';
import { isPodReady } from './pod-conditions.js';
import { scaledValue } from './deployment-rollout.js';
import { sameJson } from './canonical-json.js';

/** How long an evicted pod may take to be seen deleting before the budget counts it again (DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60_000;

/** A pod's controller and its scale, as the controller's finders find them; undefined: not found. Throws when the kind has no scale. */
export type FindScale = (ref: OwnerReference, namespace: string) => { uid: string; replicas: number } | undefined;

export interface BudgetDecision {
  /** The status to write, or undefined when the current one is already right. */
  status?: PodDisruptionBudgetStatus;
  /** When a pod in disruptedPods times out (ms): the budget is to be looked at again then. */
  recheckAt?: number;
  /** Why counting failed (the SyncFailed message). */
  error?: string;
  /** Covered pods without a controller (upstream's UnmanagedPods warning). */
  unmanaged: string[];
}

export function decideBudgetStatus(pdb: PodDisruptionBudget, pods: Pod[], findScale: FindScale, now: number, nowTime: string): BudgetDecision {
  let counted: { expected: number; desired: number; unmanaged: string[] };
  try {
    counted = expectedPodCount(pdb, pods, findScale);
  } catch (err) {
    const message = (err as Error).message;
    const status = failSafe(pdb, message, nowTime);
    // Written only when it changes: an unchanged write would wake this budget again, and again.
    return { ...(sameJson(status, pdb.status) ? {} : { status }), error: message, unmanaged: [] };
  }
  const { disrupted, recheckAt } = disruptedPodMap(pdb, pods, now);
  const currentHealthy = countHealthyPods(pods, disrupted, now);
  let disruptionsAllowed = currentHealthy - counted.desired;
  if (counted.expected <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
  const cur = pdb.status;
  const generation = pdb.metadata?.generation ?? 0;
  const same =
    cur !== undefined &&
    cur.currentHealthy === currentHealthy &&
    cur.desiredHealthy === counted.desired &&
    cur.expectedPods === counted.expected &&
    cur.disruptionsAllowed === disruptionsAllowed &&
    sameJson(cur.disruptedPods ?? {}, disrupted) &&
    (cur.observedGeneration ?? 0) === generation &&
    disruptionConditionUpToDate(pdb);
  if (same) return { recheckAt, unmanaged: counted.unmanaged };
  const status = withDisruptionAllowedCondition(
    {
      currentHealthy,
      desiredHealthy: counted.desired,
      expectedPods: counted.expected,
      disruptionsAllowed,
      ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
      observedGeneration: generation,
      ...(cur?.conditions ? { conditions: cur.conditions } : {}),
    },
    nowTime,
  );
  return { status, recheckAt, unmanaged: counted.unmanaged };
}

/** getExpectedPodCount. */
export function expectedPodCount(pdb: PodDisruptionBudget, pods: Pod[], findScale: FindScale): { expected: number; desired: number; unmanaged: string[] } {
  const { minAvailable, maxUnavailable } = pdb.spec ?? {};
  if (maxUnavailable !== undefined) {
    const { expected, unmanaged } = expectedScale(pods, findScale);
    return { expected, desired: Math.max(0, expected - scaledValue(maxUnavailable, expected, true, '0')), unmanaged };
  }
  if (typeof minAvailable === 'number') return { expected: pods.length, desired: minAvailable, unmanaged: [] };
  if (typeof minAvailable === 'string') {
    const { expected, unmanaged } = expectedScale(pods, findScale);
    return { expected, desired: scaledValue(minAvailable, expected, true, '0'), unmanaged };
  }
  return { expected: 0, desired: 0, unmanaged: [] };
}

/** getExpectedScale: the sum of the distinct controllers' replicas; pods without a controller are left out (and named). */
function expectedScale(pods: Pod[], findScale: FindScale): { expected: number; unmanaged: string[] } {
  const scales = new Map<string, number>();
  const unmanaged: string[] = [];
  for (const pod of pods) {
    const ref = pod.metadata?.ownerReferences?.find((r) => r.controller);
    if (!ref) {
      unmanaged.push(pod.metadata?.name ?? '');
      continue;
    }
    if (scales.has(ref.uid)) continue;
    const found = findScale(ref, pod.metadata?.namespace ?? 'default');
    if (!found) throw new Error(`found no controllers for pod "${pod.metadata?.name}"`);
    scales.set(found.uid, found.replicas);
  }
  let expected = 0;
  for (const n of scales.values()) expected += n;
  return { expected, unmanaged };
}

/** buildDisruptedPodMap: entries of pods still there, not yet being deleted, and within DeletionTimeout. */
function disruptedPodMap(pdb: PodDisruptionBudget, pods: Pod[], now: number): { disrupted: Record<string, string>; recheckAt?: number } {
  const recorded = pdb.status?.disruptedPods ?? {};
  const disrupted: Record<string, string> = {};
  let recheckAt: number | undefined;
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    const at = recorded[name];
    if (pod.metadata?.deletionTimestamp || at === undefined) continue;
    const expectedDeletion = Date.parse(at) + DELETION_TIMEOUT_MS;
    if (expectedDeletion < now) continue; // evicted but never deleted: counted again
    disrupted[name] = at;
    if (recheckAt === undefined || expectedDeletion < recheckAt) recheckAt = expectedDeletion;
  }
  return { disrupted, recheckAt };
}

function countHealthyPods(pods: Pod[], disrupted: Record<string, string>, now: number): number {
  let healthy = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const at = disrupted[pod.metadata?.name ?? ''];
    if (at !== undefined && Date.parse(at) + DELETION_TIMEOUT_MS > now) continue;
    if (isPodReady(pod)) healthy++;
  }
  return healthy;
}

/** failSafe: whatever else is wrong, no disruption is allowed. */
function failSafe(pdb: PodDisruptionBudget, message: string, nowTime: string): PodDisruptionBudgetStatus {
  const cur: PodDisruptionBudgetStatus = pdb.status ?? { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 };
  const condition = { type: DISRUPTION_ALLOWED, status: 'False', reason: SYNC_FAILED, message, observedGeneration: cur.observedGeneration ?? 0, lastTransitionTime: nowTime };
  return { ...cur, disruptionsAllowed: 0, conditions: withCondition(cur.conditions, condition, nowTime) };
}
