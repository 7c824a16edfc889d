import { metaTime } from '../../../dataplane/base/model/meta-time.js';
import { describe, expect, it } from 'vitest';
import { BURST_REPLICAS, planReplicaSet, rankForDeletion, replicaSetStatus } from '../../../dataplane/controllers/replicaset.js';
import { podFromTemplate } from '../../../dataplane/controllers/pod-template.js';
import { T0, pod, replicaSet } from './fixtures.js';

const rs = replicaSet('web-abc', 3);
const own = (name: string, o: Parameters<typeof pod>[1] = {}) => pod(name, { owner: rs, node: 'node-1', ready: true, ip: '10.0.0.1', ...o });

describe('planReplicaSet', () => {
  const cases: Array<{ name: string; replicas: number; pods: ReturnType<typeof pod>[]; create: number; del: string[] }> = [
    { name: 'creates the missing pods', replicas: 3, pods: [own('a')], create: 2, del: [] },
    { name: 'nothing to do', replicas: 3, pods: [own('a'), own('b'), own('c')], create: 0, del: [] },
    { name: 'terminating pods do not count: replaced', replicas: 2, pods: [own('a'), own('b', { deleting: true })], create: 1, del: [] },
    { name: 'failed pods do not count: replaced', replicas: 2, pods: [own('a'), own('b', { phase: 'Failed' })], create: 1, del: [] },
    { name: 'scale down deletes the surplus', replicas: 1, pods: [own('a', { created: T0 }), own('b', { created: T0 + 1000 })], create: 0, del: ['b'] },
    { name: 'scale to zero', replicas: 0, pods: [own('a'), own('b')], create: 0, del: ['a', 'b'] },
    { name: 'creation is capped at burstReplicas', replicas: 2000, pods: [], create: BURST_REPLICAS, del: [] },
  ];
  it.each(cases)('$name', ({ replicas, pods, create, del }) => {
    const plan = planReplicaSet(replicaSet('web-abc', replicas), pods);
    expect(plan.create).toBe(create);
    expect(plan.delete.map((p) => p.metadata!.name).sort()).toEqual(del);
  });
});

describe('rankForDeletion (ActivePodsWithRanks)', () => {
  const cases: Array<[string, ReturnType<typeof pod>[], string[]]> = [
    ['unscheduled before scheduled', [own('sched'), pod('unsched', { owner: rs })], ['unsched', 'sched']],
    ['Pending before Running', [own('running'), own('pending', { phase: 'Pending' })], ['pending', 'running']],
    ['not ready before ready', [own('ready'), own('notready', { ready: false })], ['notready', 'ready']],
    ['doubled-up node before a lone one', [own('lone', { node: 'node-2' }), own('pair1', { created: T0 }), own('pair2', { created: T0 })], ['pair1', 'pair2', 'lone']],
    ['ready for less time first', [own('old', { readySince: T0 }), own('young', { readySince: T0 + 5000 })], ['young', 'old']],
    ['more restarts first', [own('calm'), own('crashy', { restarts: 4 })], ['crashy', 'calm']],
    ['newer before older', [own('older', { created: T0 }), own('newer', { created: T0 + 1 })], ['newer', 'older']],
  ];
  it.each(cases)('%s', (_n, pods, order) => {
    expect(rankForDeletion(pods).map((p) => p.metadata!.name)).toEqual(order);
  });
});

describe('replicaSetStatus', () => {
  it('counts active, ready and available pods, and when to look again for minReadySeconds', () => {
    const set = replicaSet('web-abc', 3, { minReadySeconds: 10 });
    const pods = [
      own('a', { readySince: T0 - 20_000 }),
      own('b', { readySince: T0 - 4_000 }),
      own('c', { ready: false }),
      own('d', { deleting: true }),
      own('e', { phase: 'Failed' }),
    ];
    const { status, recheckMs } = replicaSetStatus(set, pods, T0);
    expect(status).toEqual({ replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 2, availableReplicas: 1, observedGeneration: 1 });
    expect(recheckMs).toBe(6_000);
  });

  it('reports a create failure as ReplicaFailure', () => {
    const { status } = replicaSetStatus(rs, [], T0, 'quota exceeded');
    expect(status.conditions).toEqual([{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota exceeded', lastTransitionTime: metaTime(T0) }]);
  });
});

describe('podFromTemplate', () => {
  it('copies labels, annotations and spec and points the controller reference at the owner', () => {
    const p = podFromTemplate(rs, { metadata: { labels: { app: 'web' }, annotations: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    expect(p.metadata).toEqual({
      namespace: 'default',
      labels: { app: 'web' },
      annotations: { a: 'b' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'uid-web-abc', controller: true, blockOwnerDeletion: true }],
    });
    expect(p.status).toEqual({ phase: 'Pending' });
  });
});
