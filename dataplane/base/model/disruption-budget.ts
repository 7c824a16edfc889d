/**
 * What the disruption controller and the eviction subresource both read of a
 * PodDisruptionBudget (k8s.io/component-helpers/apps/poddisruptionbudget): which pods it covers
 * and its `DisruptionAllowed` condition, which follows `disruptionsAllowed`.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import { withCondition } from './conditions.js';
import { matchesLabelSelector } from './selector.js';

export const DISRUPTION_ALLOWED = 'DisruptionAllowed';
export const SUFFICIENT_PODS = 'SufficientPods';
export const INSUFFICIENT_PODS = 'InsufficientPods';
export const SYNC_FAILED = 'SyncFailed';

/** A budget covers the pods of its namespace its selector matches (policy/v1: `{}` matches all, none matches none). */
export function budgetCoversPod(pdb: PodDisruptionBudget, pod: Pod): boolean {
  return (pdb.metadata?.namespace ?? 'default') === (pod.metadata?.namespace ?? 'default') && matchesLabelSelector(pdb.spec?.selector, pod.metadata?.labels);
}

/** UpdateDisruptionAllowedCondition: True/SufficientPods while a disruption is allowed, else False/InsufficientPods. */
export function withDisruptionAllowedCondition(status: PodDisruptionBudgetStatus, now: string): PodDisruptionBudgetStatus {
  const allowed = status.disruptionsAllowed > 0;
  const condition = {
    type: DISRUPTION_ALLOWED,
    status: allowed ? 'True' : 'False',
    reason: allowed ? SUFFICIENT_PODS : INSUFFICIENT_PODS,
    message: '',
    observedGeneration: status.observedGeneration ?? 0,
    lastTransitionTime: now,
  };
  return { ...status, conditions: withCondition(status.conditions, condition, now) };
}

/** ConditionsAreUpToDate: the condition exists, the status is of this generation, and it agrees with disruptionsAllowed. */
export function disruptionConditionUpToDate(pdb: PodDisruptionBudget): boolean {
  const status = pdb.status;
  const c = status?.conditions?.find((x) => x.type === DISRUPTION_ALLOWED);
  if (!status || !c || (status.observedGeneration ?? 0) !== (pdb.metadata?.generation ?? 0)) return false;
  return status.disruptionsAllowed > 0 ? c.status === 'True' && c.reason === SUFFICIENT_PODS : c.status === 'False' && c.reason === INSUFFICIENT_PODS;
}
