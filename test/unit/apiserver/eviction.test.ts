/**
 * The eviction subresource's decisions (pkg/registry/core/pod/storage/eviction.go, 1.32):
 * which pods go without a budget's say, which budget an eviction decrements, and
 * checkAndDecrement's refusals.
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import { checkAndDecrement, planEviction } from '../../../dataplane/apiserver/eviction.js';
import { ApiError } from '../../../dataplane/apiserver/status.js';

const NOW = '2026-01-01T00:00:00Z';

function pod(o: { phase?: string; ready?: boolean; deleting?: boolean; labels?: Record<string, string> } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', labels: o.labels ?? { app: 'web' }, ...(o.deleting ? { deletionTimestamp: NOW } : {}) },
    status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

function budget(name: string, status: Partial<PodDisruptionBudgetStatus> = {}, o: { generation?: number; policy?: string; selector?: Record<string, string> } = {}): PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: 'default', generation: o.generation ?? 1 },
    spec: { minAvailable: 1, selector: { matchLabels: o.selector ?? { app: 'web' } }, ...(o.policy ? { unhealthyPodEvictionPolicy: o.policy } : {}) },
    status: { currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, disruptionsAllowed: 1, observedGeneration: 1, ...status },
  };
}

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('planEviction', () => {
  it('deletes pods that are finished, being deleted or Pending without consulting budgets (Pending against its resourceVersion)', () => {
    const blocked = [budget('web', { disruptionsAllowed: 0 })];
    expect(planEviction(pod({ phase: 'Succeeded' }), blocked)).toEqual({ action: 'delete', againstResourceVersion: false });
    expect(planEviction(pod({ phase: 'Failed' }), blocked)).toEqual({ action: 'delete', againstResourceVersion: false });
    expect(planEviction(pod({ deleting: true }), blocked)).toEqual({ action: 'delete', againstResourceVersion: false });
    expect(planEviction(pod({ phase: 'Pending' }), blocked)).toEqual({ action: 'delete', againstResourceVersion: true });
  });

  it('a Running pod no budget covers is deleted; one budget is decremented; two are refused (500)', () => {
    expect(planEviction(pod(), [budget('other', {}, { selector: { app: 'db' } })])).toEqual({ action: 'delete', againstResourceVersion: false });
    expect(planEviction(pod(), [budget('web')])).toEqual({ action: 'decrement', budget: 'web' });
    expect(planEviction(pod(), [budget('a'), budget('b')])).toEqual({ action: 'refuse', message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' });
  });

  it('an unready pod: IfHealthyBudget (default) lets it go while the budget is healthy; AlwaysAllow always; else the budget decides', () => {
    const unready = pod({ ready: false });
    expect(planEviction(unready, [budget('web', { currentHealthy: 1, desiredHealthy: 1, disruptionsAllowed: 0 })])).toEqual({ action: 'delete', againstResourceVersion: true, budget: 'web' });
    expect(planEviction(unready, [budget('web', { currentHealthy: 0, desiredHealthy: 1, disruptionsAllowed: 0 })])).toEqual({ action: 'decrement', budget: 'web' });
    expect(planEviction(unready, [budget('web', { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0 })])).toEqual({ action: 'decrement', budget: 'web' });
    expect(planEviction(unready, [budget('web', { currentHealthy: 0, desiredHealthy: 1 }, { policy: 'AlwaysAllow' })])).toEqual({ action: 'delete', againstResourceVersion: true, budget: 'web' });
    expect(planEviction(unready, [budget('web', { currentHealthy: 0, desiredHealthy: 1 }, { policy: 'IfHealthyBudget' })])).toEqual({ action: 'decrement', budget: 'web' });
  });
});

describe('checkAndDecrement', () => {
  it('takes one disruption and records the pod in disruptedPods; the condition turns InsufficientPods at 0', () => {
    const next = checkAndDecrement(budget('web', { disruptionsAllowed: 1, disruptedPods: { q: NOW } }), 'p', NOW);
    expect(next.status).toMatchObject({ disruptionsAllowed: 0, disruptedPods: { q: NOW, p: NOW } });
    expect(next.status?.conditions).toEqual([{ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: 1, lastTransitionTime: NOW }]);
    expect(checkAndDecrement(budget('web', { disruptionsAllowed: 3 }), 'p', NOW).status).toMatchObject({ disruptionsAllowed: 2, disruptedPods: { p: NOW } });
    expect(checkAndDecrement(budget('web', { disruptionsAllowed: 3 }), 'p', NOW).status?.conditions).toBeUndefined();
  });

  it('refuses with 429 when no disruption is allowed, with the budget as the cause', () => {
    const e = refusal(() => checkAndDecrement(budget('web', { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2 }), 'p', NOW));
    expect(e.status).toMatchObject({ code: 429, reason: 'TooManyRequests', message: "Cannot evict pod as it would violate the pod's disruption budget." });
    expect(e.status.details?.causes).toEqual([{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 2 currently' }]);
  });

  it('refuses with 429 and Retry-After 10 while the status is of an older generation; 403 when negative', () => {
    const e = refusal(() => checkAndDecrement(budget('web', { observedGeneration: 1 }, { generation: 2 }), 'p', NOW));
    expect(e.status).toMatchObject({ code: 429, details: { retryAfterSeconds: 10, causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web is still being processed by the server.' }] } });
    expect(e.headers).toEqual({ 'Retry-After': '10' });
    expect(refusal(() => checkAndDecrement(budget('web', { disruptionsAllowed: -1 }), 'p', NOW)).status).toMatchObject({ code: 403, reason: 'Forbidden' });
  });
});
