/**
 * The disruption controller's status computation, with the cases of upstream's
 * pkg/controller/disruption/disruption_test.go (VerifyPdbStatus: allowed, currentHealthy,
 * desiredHealthy, expectedPods, disruptedPods).
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { KObject } from '../../../dataplane/base/model/object.js';
import { DELETION_TIMEOUT_MS, decideBudgetStatus, type FindScale } from '../../../dataplane/controllers/disruption-status.js';
import { budgetCoversPod, disruptionConditionUpToDate } from '../../../dataplane/base/model/disruption-budget.js';
import { T0, iso, pod } from './fixtures.js';

const NOW = T0 + 60_000;

function budget(spec: { minAvailable?: number | string; maxUnavailable?: number | string }, status?: PodDisruptionBudget['status'], generation = 1): PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'pdb', namespace: 'default', generation, resourceVersion: '5' },
    spec: { selector: { matchLabels: { foo: 'bar' } }, ...spec },
    ...(status ? { status } : {}),
  };
}

const owner = (kind: string, name: string, apiVersion = 'apps/v1'): KObject => ({ apiVersion, kind, metadata: { name, uid: `uid-${name}` } });
const ready = (name: string, o: Parameters<typeof pod>[1] = {}): Pod => pod(name, { node: 'n1', ready: true, labels: { foo: 'bar' }, ...o });

/** Controllers by uid with their replicas, as the finders would find them. */
const scales =
  (replicas: Record<string, number>): FindScale =>
  (ref) =>
    replicas[ref.uid] !== undefined ? { uid: ref.uid, replicas: replicas[ref.uid]! } : undefined;

function counts(pdb: PodDisruptionBudget, pods: Pod[], find: FindScale = scales({}), now = NOW) {
  const d = decideBudgetStatus(pdb, pods, find, now, iso(now));
  const s = d.status ?? pdb.status!;
  return [s.disruptionsAllowed, s.currentHealthy, s.desiredHealthy, s.expectedPods];
}

describe('PodDisruptionBudget status (decideBudgetStatus)', () => {
  it('TestNoSelector: an empty selector covers every pod of the namespace', () => {
    const pdb = { ...budget({ minAvailable: 3 }), spec: { minAvailable: 3, selector: {} } };
    expect(budgetCoversPod(pdb, ready('a', { labels: { any: 'thing' } }))).toBe(true);
    expect(budgetCoversPod(pdb, ready('a', { ns: 'other' }))).toBe(false);
    expect(budgetCoversPod({ ...pdb, spec: { minAvailable: 3 } }, ready('a'))).toBe(false); // no selector: none
    expect(counts(pdb, [ready('a', { labels: { any: 'thing' } })])).toEqual([0, 1, 3, 1]);
  });

  it('TestUnavailable: an integer minAvailable counts the pods themselves; an unready pod is not healthy', () => {
    const pdb = budget({ minAvailable: 3 });
    const pods = [0, 1, 2, 3].map((i) => ready(`yo-${i}`));
    for (let i = 0; i < 4; i++) expect(counts(pdb, pods.slice(0, i))).toEqual([0, i, 3, i]);
    expect(counts(pdb, pods)).toEqual([1, 4, 3, 4]);
    expect(counts(pdb, [ready('yo-0', { ready: false }), ...pods.slice(1)])).toEqual([0, 3, 3, 4]);
  });

  it('TestIntegerMaxUnavailable / TestNakedPod: pods without a controller allow no disruption', () => {
    expect(counts(budget({ maxUnavailable: 1 }), [])[0]).toBe(0);
    expect(counts(budget({ maxUnavailable: 1 }), [ready('naked')])[0]).toBe(0);
    expect(counts(budget({ minAvailable: '28%' }), [ready('naked')])[0]).toBe(0);
    const d = decideBudgetStatus(budget({ minAvailable: '28%' }), [ready('naked')], scales({}), NOW, iso(NOW));
    expect(d.unmanaged).toEqual(['naked']);
    expect(d.error).toBeUndefined(); // TestStatusForUnmanagedPod
  });

  it('TestIntegerMaxUnavailableWithScaling and TestPercentageMaxUnavailableWithScaling follow the controller scale', () => {
    const rs = owner('ReplicaSet', 'rs');
    const pods = [ready('pod', { owner: rs })];
    expect(counts(budget({ maxUnavailable: 2 }), pods, scales({ 'uid-rs': 7 }))).toEqual([0, 1, 5, 7]);
    expect(counts(budget({ maxUnavailable: 2 }), pods, scales({ 'uid-rs': 5 }))).toEqual([0, 1, 3, 5]);
    // 30% of 7 rounds up to 3 unavailable, of 3 up to 1.
    expect(counts(budget({ maxUnavailable: '30%' }), pods, scales({ 'uid-rs': 7 }))).toEqual([0, 1, 4, 7]);
    expect(counts(budget({ maxUnavailable: '30%' }), pods, scales({ 'uid-rs': 3 }))).toEqual([0, 1, 2, 3]);
  });

  it('TestReplicaSet: 20% of a ReplicaSet of 10 rounds up to 2', () => {
    const rs = owner('ReplicaSet', 'rs');
    expect(counts(budget({ minAvailable: '20%' }), [ready('pod', { owner: rs })], scales({ 'uid-rs': 10 }))).toEqual([0, 1, 2, 10]);
  });

  it('TestReplicationController / TestStatefulSetController: 34% of 3 rounds up to 2; a rogue Ready pod counts as healthy', () => {
    const rc = owner('ReplicationController', 'rc', 'v1');
    const find = scales({ 'uid-rc': 3 });
    const pods = [0, 1, 2].map((i) => ready(`foobar-${i}`, { owner: rc }));
    expect(counts(budget({ minAvailable: '34%' }), [], find)).toEqual([0, 0, 0, 0]);
    expect(counts(budget({ minAvailable: '34%' }), pods.slice(0, 1), find)).toEqual([0, 1, 2, 3]);
    expect(counts(budget({ minAvailable: '34%' }), pods.slice(0, 2), find)).toEqual([0, 2, 2, 3]);
    expect(counts(budget({ minAvailable: '34%' }), pods, find)).toEqual([1, 3, 2, 3]);
    expect(counts(budget({ minAvailable: '34%' }), [...pods, ready('rogue')], find)[0]).toBe(2);
  });

  it('TestTwoControllers: the scales of distinct controllers add up (28% of 11, then of 22)', () => {
    const rc = owner('ReplicationController', 'rc', 'v1');
    const rs = owner('ReplicaSet', 'rs');
    const find = scales({ 'uid-rc': 11, 'uid-rs': 11 });
    const rcPods = Array.from({ length: 11 }, (_, i) => ready(`quux-${i}`, { owner: rc, ready: i >= 6 }));
    expect(counts(budget({ minAvailable: '28%' }), rcPods, find)).toEqual([1, 5, 4, 11]);
    const rsPods = Array.from({ length: 11 }, (_, i) => ready(`quuux-${i}`, { owner: rs, ready: i >= 2 }));
    expect(counts(budget({ minAvailable: '28%' }), [...rcPods, ...rsPods], find)).toEqual([7, 14, 7, 22]);
  });

  it('a controller the finders cannot scale fails safe: 0 allowed, DisruptionAllowed False/SyncFailed', () => {
    const job = owner('Job', 'j', 'batch/v1');
    const find: FindScale = () => {
      throw new Error('jobs.batch does not implement the scale subresource');
    };
    const pdb = budget({ maxUnavailable: 1 }, { disruptionsAllowed: 2, currentHealthy: 3, desiredHealthy: 1, expectedPods: 3, observedGeneration: 1 });
    const d = decideBudgetStatus(pdb, [ready('a', { owner: job })], find, NOW, iso(NOW));
    expect(d.error).toBe('jobs.batch does not implement the scale subresource');
    expect(d.status).toMatchObject({ disruptionsAllowed: 0, currentHealthy: 3, observedGeneration: 1 });
    expect(d.status?.conditions).toEqual([{ type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: d.error, observedGeneration: 1, lastTransitionTime: iso(NOW) }]);
    // The same failure again writes nothing.
    expect(decideBudgetStatus({ ...pdb, status: d.status }, [ready('a', { owner: job })], find, NOW, iso(NOW)).status).toBeUndefined();
    const bare = owner('Pod', 'x', 'v1');
    expect(decideBudgetStatus(budget({ maxUnavailable: 1 }), [ready('a', { owner: bare })], scales({}), NOW, iso(NOW)).error).toBe('found no controllers for pod "a"');
  });

  it('writes observedGeneration and the condition (SufficientPods / InsufficientPods), and nothing when up to date', () => {
    const pdb = budget({ minAvailable: 1 }, undefined, 3);
    const d = decideBudgetStatus(pdb, [ready('a'), ready('b')], scales({}), NOW, iso(NOW));
    expect(d.status).toEqual({
      disruptionsAllowed: 1,
      currentHealthy: 2,
      desiredHealthy: 1,
      expectedPods: 2,
      observedGeneration: 3,
      conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 3, lastTransitionTime: iso(NOW) }],
    });
    const written = { ...pdb, status: d.status };
    expect(disruptionConditionUpToDate(written)).toBe(true);
    expect(decideBudgetStatus(written, [ready('a'), ready('b')], scales({}), NOW + 1000, iso(NOW + 1000)).status).toBeUndefined();
    const fewer = decideBudgetStatus(written, [ready('a')], scales({}), NOW + 1000, iso(NOW + 1000)).status!;
    expect(fewer.conditions).toEqual([{ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: 3, lastTransitionTime: iso(NOW + 1000) }]);
  });

  it('TestUpdateDisruptedPods: evicted pods are not healthy until DeletionTimeout; deleted, gone and timed-out entries are dropped', () => {
    const at = iso(NOW - 10_000);
    const old = iso(NOW - DELETION_TIMEOUT_MS - 1000);
    const pdb = budget({ minAvailable: 1 }, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 1, expectedPods: 4, disruptedPods: { p1: at, p2: at, p3: old, gone: at }, observedGeneration: 1 });
    const pods = [ready('p1'), ready('p2', { deleting: true }), ready('p3'), ready('p4')];
    const d = decideBudgetStatus(pdb, pods, scales({}), NOW, iso(NOW));
    expect(d.status?.disruptedPods).toEqual({ p1: at });
    expect(d.status).toMatchObject({ currentHealthy: 2, desiredHealthy: 1, expectedPods: 4, disruptionsAllowed: 1 });
    expect(d.recheckAt).toBe(Date.parse(at) + DELETION_TIMEOUT_MS);
  });
});
