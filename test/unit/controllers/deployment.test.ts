import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import {
  cleanupSets,
  DESIRED_REPLICAS,
  fenceposts,
  MAX_REPLICAS,
  newReplicaSet,
  newSetReplicas,
  planRollout,
  planScale,
  REVISION,
  scaledValue,
  type RSInfo,
} from '../../../dataplane/controllers/deployment-rollout.js';
import { deploymentStatus } from '../../../dataplane/controllers/deployment-status.js';
import { T0, deployment, iso } from './fixtures.js';
import { metaTime } from '../../../dataplane/base/model/meta-time.js';

const v2 = (d: Deployment): Deployment => ({
  ...d,
  metadata: { ...d.metadata, generation: 2 },
  spec: { ...d.spec!, template: { ...d.spec!.template, spec: { containers: [{ name: 'c', image: 'v2' }] } } },
});

function info(rs: ReplicaSet, available: number, o: Partial<RSInfo> = {}): RSInfo {
  return { rs, active: rs.spec?.replicas ?? 0, ready: available, available, running: rs.spec?.replicas ?? 0, ...o };
}

function withReplicas(rs: ReplicaSet, replicas: number, created = T0): ReplicaSet {
  return { ...rs, metadata: { ...rs.metadata, uid: `uid-${rs.metadata?.name}`, creationTimestamp: iso(created) }, spec: { ...rs.spec!, replicas } };
}

describe('maxSurge / maxUnavailable', () => {
  const cases: Array<[string, number | string | undefined, number | string | undefined, number, { maxSurge: number; maxUnavailable: number }]> = [
    ['defaults 25%/25% of 4', undefined, undefined, 4, { maxSurge: 1, maxUnavailable: 1 }],
    ['defaults of 10: surge rounds up, unavailable down', undefined, undefined, 10, { maxSurge: 3, maxUnavailable: 2 }],
    ['defaults of 1', undefined, undefined, 1, { maxSurge: 1, maxUnavailable: 0 }],
    ['ints', 2, 1, 5, { maxSurge: 2, maxUnavailable: 1 }],
    ['both zero → unavailable 1', 0, 0, 3, { maxSurge: 0, maxUnavailable: 1 }],
    ['0% / 0% → unavailable 1', '0%', '0%', 3, { maxSurge: 0, maxUnavailable: 1 }],
    ['50% of 3', '50%', '50%', 3, { maxSurge: 2, maxUnavailable: 1 }],
    ['unavailable capped at replicas', 0, 10, 3, { maxSurge: 0, maxUnavailable: 3 }],
  ];
  it.each(cases)('%s', (_n, maxSurge, maxUnavailable, replicas, want) => {
    const d = deployment(replicas, { type: 'RollingUpdate', rollingUpdate: { ...(maxSurge !== undefined ? { maxSurge } : {}), ...(maxUnavailable !== undefined ? { maxUnavailable } : {}) } });
    expect(fenceposts(d)).toEqual(want);
  });
  it('Recreate has neither', () => {
    expect(fenceposts(deployment(3, { type: 'Recreate' }))).toEqual({ maxSurge: 0, maxUnavailable: 0 });
  });
  it('rejects a non-percentage string', () => {
    expect(() => scaledValue('abc', 10, true, '25%')).toThrow(/not a percentage/);
  });
});

describe('new ReplicaSet', () => {
  it('is named <deploy>-<hash>, adds pod-template-hash to selector and labels, carries revision and replica annotations', () => {
    const d = deployment(4);
    const rs = newReplicaSet(d, 1, 3);
    const hash = rs.metadata!.labels!['pod-template-hash'];
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(rs.metadata!.name).toBe(`web-${hash}`);
    expect(rs.spec!.selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs.spec!.template!.metadata!.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs.metadata!.annotations).toEqual({ [REVISION]: '3', [DESIRED_REPLICAS]: '4', [MAX_REPLICAS]: '5' });
    expect(rs.metadata!.ownerReferences![0]).toMatchObject({ kind: 'Deployment', name: 'web', controller: true });
    // The hash depends only on the template (and collisionCount).
    expect(newReplicaSet({ ...d, spec: { ...d.spec!, replicas: 9 } }, 1, 1).metadata!.name).toBe(rs.metadata!.name);
    expect(newReplicaSet(v2(d), 1, 1).metadata!.name).not.toBe(rs.metadata!.name);
    expect(newReplicaSet({ ...d, status: { collisionCount: 1 } }, 1, 1).metadata!.name).not.toBe(rs.metadata!.name);
  });

  const grow: Array<[string, number, number, number, number, number]> = [
    // replicas, maxSurge, pods of all ReplicaSets now, new ReplicaSet now → new ReplicaSet target
    ['surge room', 3, 1, 3, 0, 1],
    ['no room', 3, 1, 4, 1, 1],
    ['bounded by replicas', 3, 5, 3, 1, 3],
  ];
  it.each(grow)('NewRSNewReplicas: %s', (_n, replicas, maxSurge, totalNow, newNow, want) => {
    const d = deployment(replicas, { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable: 0 } });
    const sets = [info(withReplicas(newReplicaSet(d, 0, 1), totalNow - newNow), 0), info(withReplicas(newReplicaSet(v2(d), 0, 2), newNow), 0)];
    expect(newSetReplicas(d, sets, newNow)).toBe(want);
  });
});

describe('planRollout steps', () => {
  const d1 = deployment(3, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  const old = withReplicas(newReplicaSet(d1, 3, 1), 3, T0);

  it('creates the first ReplicaSet at full size', () => {
    const step = planRollout(d1, []);
    expect(step.create?.spec?.replicas).toBe(3);
    expect(step.create?.metadata?.annotations?.[REVISION]).toBe('1');
  });

  it('on a template change creates the new ReplicaSet within the surge, with the next revision', () => {
    const step = planRollout(v2(d1), [info(old, 3)]);
    expect(step.create?.spec?.replicas).toBe(1);
    expect(step.create?.metadata?.annotations?.[REVISION]).toBe('2');
    expect(step.scale).toEqual([]);
  });

  it('does not scale the old ReplicaSet down before new pods are available (maxUnavailable 0)', () => {
    const d = v2(d1);
    const fresh = withReplicas(newReplicaSet(d, 1, 2), 1, T0 + 1000);
    expect(planRollout(d, [info(old, 3), info(fresh, 0)]).scale).toEqual([]);
    const step = planRollout(d, [info(old, 3), info(fresh, 1)]);
    expect(step.scale.map((s) => [s.rs.metadata!.name, s.replicas])).toEqual([[old.metadata!.name, 2]]);
  });

  it('does not count pods above an old ReplicaSet`s spec as capacity', () => {
    const d = v2(d1);
    const fresh = withReplicas(newReplicaSet(d, 1, 2), 1, T0 + 1000);
    // Old was scaled to 2 but its 3rd pod is not gone yet: only 2 count.
    expect(planRollout(d, [info(withReplicas(old, 2), 3, { active: 3 }), info(fresh, 1)]).scale.map((s) => s.replicas)).toEqual([2]);
  });

  it('Recreate scales everything old to 0, waits for old pods to stop, then creates the new one', () => {
    const d = v2(deployment(3, { type: 'Recreate' }));
    const oldR = withReplicas(newReplicaSet(deployment(3, { type: 'Recreate' }), 3, 1), 3);
    expect(planRollout(d, [info(oldR, 3)]).scale.map((s) => s.replicas)).toEqual([0]);
    expect(planRollout(d, [info(withReplicas(oldR, 0), 0, { running: 1, active: 0 })])).toEqual({ scale: [], cleanup: [] });
    expect(planRollout(d, [info(withReplicas(oldR, 0), 0, { running: 0, active: 0 })]).create?.spec?.replicas).toBe(3);
  });

  it('a replica change is a scaling event: one active ReplicaSet takes the whole count', () => {
    const d = { ...d1, spec: { ...d1.spec!, replicas: 6 } };
    const step = planRollout(d, [info(old, 3)]);
    expect(step.scale.map((s) => [s.replicas, s.annotations[DESIRED_REPLICAS], s.annotations[MAX_REPLICAS]])).toEqual([[6, '6', '7']]);
  });

  it('proportional scaling mid-rollout follows the documented example (10 → 15: +3 old, +2 new)', () => {
    const d10 = deployment(10, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } });
    const ann = { [DESIRED_REPLICAS]: '10', [MAX_REPLICAS]: '13' };
    const oldRs = withReplicas({ ...newReplicaSet(d10, 8, 1), metadata: { ...newReplicaSet(d10, 8, 1).metadata, annotations: { ...ann, [REVISION]: '1' } } }, 8, T0);
    const d15 = v2({ ...d10, spec: { ...d10.spec!, replicas: 15 } });
    const newRs = withReplicas({ ...newReplicaSet(d15, 5, 2), metadata: { ...newReplicaSet(d15, 5, 2).metadata, annotations: { ...ann, [REVISION]: '2' } } }, 5, T0 + 1);
    const steps = planScale(d15, info(newRs, 0), [info(oldRs, 8)]);
    expect(Object.fromEntries(steps.map((s) => [s.rs === oldRs ? 'old' : 'new', s.replicas]))).toEqual({ old: 11, new: 7 });
  });

  it('keeps revisionHistoryLimit idle ReplicaSets, deleting the oldest', () => {
    const d = deployment(1, undefined, { revisionHistoryLimit: 1 });
    const idle = (rev: number) => info(withReplicas({ ...newReplicaSet(d, 0, rev), metadata: { ...newReplicaSet(d, 0, rev).metadata, name: `r${rev}` } }, 0), 0, { running: 0 });
    expect(cleanupSets(d, [idle(3), idle(1), idle(2)]).map((r) => r.metadata!.name)).toEqual(['r1', 'r2']);
  });
});

describe('revisions (rollout history and undo)', () => {
  const d1 = deployment(2, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  const withAnnotations = (d: Deployment, annotations: Record<string, string>): Deployment => ({ ...d, metadata: { ...d.metadata, annotations } });
  const rev = (d: Deployment, replicas: number, revision: number, created: number, extra: Record<string, string> = {}) => {
    const rs = withReplicas(newReplicaSet(d, replicas, revision), replicas, created);
    return { ...rs, metadata: { ...rs.metadata, annotations: { ...rs.metadata!.annotations, ...extra } } };
  };

  it('copies the change-cause (and every other annotation but the controller\'s and kubectl\'s) onto the newest ReplicaSet', () => {
    const cur = rev(d1, 2, 1, T0);
    const annotated = withAnnotations(d1, { 'kubernetes.io/change-cause': 'v1 first', 'kubectl.kubernetes.io/last-applied-configuration': '{}', [REVISION]: '1' });
    const step = planRollout(annotated, [info(cur, 2)]);
    expect(step.refresh?.annotations).toEqual({ ...cur.metadata!.annotations, 'kubernetes.io/change-cause': 'v1 first' });
    // Once copied there is nothing more to do.
    const copied = { ...cur, metadata: { ...cur.metadata, annotations: step.refresh!.annotations } };
    expect(planRollout(annotated, [info(copied, 2)]).refresh).toBeUndefined();
  });

  it('a rollback re-uses the old ReplicaSet, moving it to the newest revision and keeping its old number in revision-history', () => {
    const r1 = rev(d1, 0, 1, T0, { 'kubernetes.io/change-cause': 'v1' });
    const r2 = rev(v2(d1), 2, 2, T0 + 1000, { 'kubernetes.io/change-cause': 'v2' });
    // kubectl rollout undo: the Deployment gets r1's template and annotations back.
    const undone = withAnnotations(d1, { 'kubernetes.io/change-cause': 'v1', [REVISION]: '2' });
    const step = planRollout(undone, [info(r1, 0, { running: 0 }), info(r2, 2)]);
    expect(step.create).toBeUndefined();
    expect(step.refresh?.rs.metadata?.name).toBe(r1.metadata!.name);
    expect(step.refresh?.annotations).toMatchObject({ [REVISION]: '3', 'deployment.kubernetes.io/revision-history': '1', 'kubernetes.io/change-cause': 'v1' });
    // Rolling back again appends to the history.
    const again = { ...r2, metadata: { ...r2.metadata, annotations: { ...r2.metadata!.annotations, 'deployment.kubernetes.io/revision-history': '1' } } };
    const r1now = { ...r1, metadata: { ...r1.metadata, annotations: step.refresh!.annotations } };
    const back = planRollout(withAnnotations(v2(d1), { 'kubernetes.io/change-cause': 'v2' }), [info(r1now, 2), info(again, 0, { running: 0 })]);
    expect(back.refresh?.annotations).toMatchObject({ [REVISION]: '4', 'deployment.kubernetes.io/revision-history': '1,2' });
  });

  it('a paused Deployment gets no new ReplicaSet but still scales and copies annotations', () => {
    const cur = rev(d1, 2, 1, T0);
    const paused = (d: Deployment): Deployment => ({ ...d, spec: { ...d.spec!, paused: true } });
    expect(planRollout(paused(v2(d1)), [info(cur, 2)])).toEqual({ scale: [], cleanup: [] });
    const bigger = paused({ ...v2(d1), spec: { ...v2(d1).spec!, replicas: 4 } });
    expect(planRollout(bigger, [info(cur, 2)]).scale.map((s) => s.replicas)).toEqual([4]);
  });
});

describe('rolling update simulation (property)', () => {
  /** Plays the Deployment controller against an ideal ReplicaSet controller and kubelet. */
  function simulate(replicas: number, maxSurge: number | string, maxUnavailable: number | string, readyPerRound: number[]) {
    const d1 = deployment(replicas, { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } });
    const d = v2(d1);
    const { maxSurge: surge, maxUnavailable: unavailable } = fenceposts(d);
    let clock = T0;
    let sets: RSInfo[] = [info(withReplicas(newReplicaSet(d1, replicas, 1), replicas, clock), replicas)];
    const violations: string[] = [];
    for (let round = 0; round < 300; round++) {
      const step = planRollout(d, sets);
      if (step.create) sets.push({ rs: withReplicas(step.create, step.create.spec!.replicas!, ++clock), active: 0, ready: 0, available: 0, running: 0 });
      for (const s of step.scale) sets = sets.map((i) => (i.rs.metadata!.name === s.rs.metadata!.name ? { ...i, rs: withReplicas(i.rs, s.replicas, Date.parse(i.rs.metadata!.creationTimestamp!)) } : i));
      // ReplicaSet controller: delete unavailable pods first, create missing ones (not yet available).
      sets = sets.map((i) => {
        const want = i.rs.spec!.replicas!;
        if (i.active > want) {
          const drop = i.active - want;
          const unavailableDrop = Math.min(drop, i.active - i.available);
          return { ...i, active: want, running: want, available: i.available - (drop - unavailableDrop), ready: i.available - (drop - unavailableDrop) };
        }
        return { ...i, active: want, running: want };
      });
      const total = sets.reduce((n, i) => n + i.active, 0);
      const available = sets.reduce((n, i) => n + i.available, 0);
      if (total > replicas + surge) violations.push(`round ${round}: ${total} pods > ${replicas}+${surge}`);
      if (available < replicas - unavailable) violations.push(`round ${round}: ${available} available < ${replicas}-${unavailable}`);
      // Kubelet: some pods become available (at least one every few rounds, so it finishes).
      let budget = Math.max(readyPerRound[round % readyPerRound.length] ?? 1, round % 3 === 0 ? 1 : 0);
      sets = sets.map((i) => {
        const n = Math.min(budget, i.active - i.available);
        budget -= n;
        return { ...i, available: i.available + n, ready: i.available + n };
      });
      const newSet = sets.find((i) => i.rs.spec?.template?.spec?.containers[0]?.image === 'v2');
      const done = newSet && newSet.available === replicas && sets.every((i) => i === newSet || i.active === 0);
      if (done) return { violations, rounds: round };
    }
    return { violations: [...violations, 'did not finish'], rounds: 300 };
  }

  it('never exceeds replicas+maxSurge pods nor drops below replicas-maxUnavailable available, and finishes', () => {
    const intOrPercent = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constantFrom('0%', '10%', '25%', '50%', '100%'));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), intOrPercent, intOrPercent, fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }), (replicas, surge, unavailable, ready) => {
        const { violations } = simulate(replicas, surge, unavailable, ready);
        expect(violations).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('deploymentStatus', () => {
  const d = deployment(3, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } });
  const rs = withReplicas(newReplicaSet(d, 3, 1), 3);

  it('counts replicas from the pods and sets Available and Progressing as upstream', () => {
    const { status } = deploymentStatus({ d, sets: [info(rs, 3)], newSet: info(rs, 3), now: T0 });
    expect(status).toMatchObject({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    // omitempty, as the apiserver writes DeploymentStatus: nothing unavailable, no field.
    expect(status).not.toHaveProperty('unavailableReplicas');
    expect(status.conditions!.map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'],
      ['Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rs.metadata!.name}" has successfully progressed.`],
    ]);
  });

  it('is unavailable below replicas - maxUnavailable, and says which ReplicaSet was created', () => {
    const { status } = deploymentStatus({ d, sets: [info(rs, 1)], newSet: info(rs, 1), now: T0, createdName: 'web-x' });
    expect(status.conditions!.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'False', 'MinimumReplicasUnavailable'],
      ['Progressing', 'True', 'NewReplicaSetCreated'],
    ]);
  });

  it('times out after progressDeadlineSeconds without progress', () => {
    const stuck: Deployment = {
      ...d,
      spec: { ...d.spec!, progressDeadlineSeconds: 60 },
      status: { replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2, conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: iso(T0), lastTransitionTime: iso(T0) }] },
    };
    const sets = [info(withReplicas(rs, 2), 2), info(withReplicas(newReplicaSet(v2(d), 1, 2), 1), 0)];
    const before = deploymentStatus({ d: stuck, sets, newSet: sets[1], now: T0 + 30_000 });
    expect(before.recheckMs).toBe(30_010);
    expect(before.status.conditions!.find((c) => c.type === 'Progressing')!.reason).toBe('ReplicaSetUpdated');
    const after = deploymentStatus({ d: stuck, sets, newSet: sets[1], now: T0 + 61_000 });
    expect(after.status.conditions!.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
  });

  it('pausing sets Progressing Unknown/DeploymentPaused and stops the deadline; resuming sets DeploymentResumed', () => {
    const done = deploymentStatus({ d, sets: [info(rs, 3)], newSet: info(rs, 3), now: T0 }).status;
    const paused: Deployment = { ...d, spec: { ...d.spec!, paused: true, progressDeadlineSeconds: 60 }, status: done };
    const p = deploymentStatus({ d: paused, sets: [info(rs, 3)], newSet: info(rs, 3), now: T0 + 1000 });
    expect(p.status.conditions!.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused', lastUpdateTime: metaTime(T0 + 1000) });
    // Long after the deadline, still paused: no timeout.
    const later = deploymentStatus({ d: { ...paused, status: p.status }, sets: [info(rs, 3)], newSet: info(rs, 3), now: T0 + 3_600_000 });
    expect(later.status.conditions!.find((c) => c.type === 'Progressing')!.reason).toBe('DeploymentPaused');
    expect(later.recheckMs).toBeUndefined();
    // Resumed mid-rollout: Unknown/DeploymentResumed, the deadline counting from now.
    const resumed: Deployment = { ...paused, spec: { ...paused.spec!, paused: false }, status: later.status };
    const sets = [info(withReplicas(rs, 2), 2), info(withReplicas(newReplicaSet(v2(d), 1, 2), 1), 0)];
    const r = deploymentStatus({ d: resumed, sets, newSet: sets[1], now: T0 + 3_600_000 });
    expect(r.status.conditions!.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' });
    expect(r.recheckMs).toBe(60_010);
  });
});
