import { describe, expect, it } from 'vitest';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { needsScheduling, schedulePod } from '../../../dataplane/controllers/scheduler.js';
import { listView } from '../../../dataplane/controllers/scheduling/cluster-view.js';
import { matchesNodeRequirement, podFitFailure, tolerates, unschedulableMessage } from '../../../dataplane/controllers/node-fit.js';
import { node, pod, replicaSet } from './fixtures.js';

/** ReplicaSets selecting app=a and app=b: the default spreading counts their pods. */
const rsA = selecting(replicaSet('a', 3), 'a');
const rsB = selecting(replicaSet('b', 3), 'b');
const owned = [rsA, rsB];

function selecting(rs: ReplicaSet, app: string): ReplicaSet {
  return { ...rs, spec: { ...rs.spec!, selector: { matchLabels: { app } } } };
}

/** schedulePod over plain lists. */
const place = (p: Pod, nodes: Node[], existing: Pod[]) => schedulePod(p, listView(nodes, existing, { replicaSets: owned }));

function withSpec(p: Pod, spec: Partial<NonNullable<Pod['spec']>>): Pod {
  return { ...p, spec: { ...p.spec!, ...spec } };
}

describe('schedulePod', () => {
  const cases: Array<{ name: string; pod: Pod; nodes: ReturnType<typeof node>[]; existing: Pod[]; want: string }> = [
    { name: 'empty cluster → the first node by name', pod: pod('p'), nodes: [node('node-2'), node('node-1')], existing: [], want: 'node-1' },
    { name: 'numeric name order: node-2 before node-10', pod: pod('p'), nodes: [node('node-10'), node('node-2')], existing: [], want: 'node-2' },
    {
      name: 'fewest pods of the same owner wins over fewest pods overall',
      pod: pod('p', { owner: rsA, labels: { app: 'a' } }),
      nodes: [node('node-1'), node('node-2')],
      existing: [pod('a1', { owner: rsA, labels: { app: 'a' }, node: 'node-1' }), pod('b1', { owner: rsB, labels: { app: 'b' }, node: 'node-2' }), pod('b2', { owner: rsB, labels: { app: 'b' }, node: 'node-2' })],
      want: 'node-2',
    },
    {
      name: 'same-owner tie → fewest pods overall',
      pod: pod('p', { owner: rsA, labels: { app: 'a' } }),
      nodes: [node('node-1'), node('node-2')],
      existing: [pod('a1', { owner: rsA, labels: { app: 'a' }, node: 'node-1' }), pod('a2', { owner: rsA, labels: { app: 'a' }, node: 'node-2' }), pod('b1', { owner: rsB, labels: { app: 'b' }, node: 'node-1' })],
      want: 'node-2',
    },
    {
      name: 'finished pods do not count',
      pod: pod('p', { owner: rsA, labels: { app: 'a' } }),
      nodes: [node('node-1'), node('node-2')],
      existing: [pod('a1', { owner: rsA, labels: { app: 'a' }, node: 'node-1', phase: 'Succeeded' }), pod('a2', { owner: rsA, labels: { app: 'a' }, node: 'node-2' })],
      want: 'node-1',
    },
    { name: 'NotReady nodes are skipped', pod: pod('p'), nodes: [node('node-1', { ready: false }), node('node-2')], existing: [], want: 'node-2' },
    { name: 'cordoned nodes are skipped', pod: pod('p'), nodes: [node('node-1', { unschedulable: true }), node('node-2')], existing: [], want: 'node-2' },
    { name: 'nodeSelector', pod: withSpec(pod('p'), { nodeSelector: { disk: 'ssd' } }), nodes: [node('node-1'), node('node-2', { labels: { disk: 'ssd' } })], existing: [], want: 'node-2' },
    {
      name: 'required node affinity',
      pod: withSpec(pod('p'), {
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: ['node-1'] }] }] } } },
      }),
      nodes: [node('node-1'), node('node-2')],
      existing: [],
      want: 'node-2',
    },
    {
      name: 'NoSchedule taint without toleration',
      pod: pod('p'),
      nodes: [node('node-1', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }), node('node-2')],
      existing: [pod('x', { node: 'node-2' }), pod('y', { node: 'node-2' })],
      want: 'node-2',
    },
    {
      name: 'NoSchedule taint with a toleration',
      pod: withSpec(pod('p'), { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] }),
      nodes: [node('node-1', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }), node('node-2')],
      existing: [pod('x', { node: 'node-2' })],
      want: 'node-1',
    },
  ];
  it.each(cases)('$name', ({ pod: p, nodes, existing, want }) => {
    expect(place(p, nodes, existing)).toEqual({ nodeName: want });
  });

  const failures: Array<[string, Pod, ReturnType<typeof node>[], string]> = [
    ['no nodes at all', pod('p'), [], 'no nodes available to schedule pods'],
    ['selector matches none', withSpec(pod('p'), { nodeSelector: { disk: 'ssd' } }), [node('node-1'), node('node-2')], "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.."],
    [
      'mixed reasons are counted and sorted',
      withSpec(pod('p'), { nodeSelector: { disk: 'ssd' } }),
      [node('node-1', { ready: 'Unknown' }), node('node-2'), node('node-3', { ready: false })],
      "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..",
    ],
    ['taint', pod('p'), [node('node-1', { taints: [{ key: 'gpu', value: 'yes', effect: 'NoExecute' }] })], '0/1 nodes are available: 1 node(s) had untolerated taint {gpu: yes}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..'],
  ];
  it.each(failures)('unschedulable: %s', (_n, p, nodes, message) => {
    expect(place(p, nodes, [])).toEqual({ unschedulable: message });
  });

  it('acts only on unbound, live pods of the default scheduler', () => {
    expect(needsScheduling(pod('p'))).toBe(true);
    expect(needsScheduling(pod('p', { node: 'node-1' }))).toBe(false);
    expect(needsScheduling(pod('p', { deleting: true }))).toBe(false);
    expect(needsScheduling(pod('p', { phase: 'Failed' }))).toBe(false);
    expect(needsScheduling(withSpec(pod('p'), { schedulerName: 'other' }))).toBe(false);
    expect(needsScheduling(withSpec(pod('p'), { schedulerName: 'default-scheduler' }))).toBe(true);
  });
});

describe('node fit', () => {
  const reqs: Array<[string, Parameters<typeof matchesNodeRequirement>[0], boolean]> = [
    ['In', { key: 'zone', operator: 'In', values: ['a', 'b'] }, true],
    ['In miss', { key: 'zone', operator: 'In', values: ['b'] }, false],
    ['NotIn missing key', { key: 'gpu', operator: 'NotIn', values: ['x'] }, true],
    ['Exists', { key: 'zone', operator: 'Exists' }, true],
    ['DoesNotExist', { key: 'zone', operator: 'DoesNotExist' }, false],
    ['Gt', { key: 'cores', operator: 'Gt', values: ['3'] }, true],
    ['Lt', { key: 'cores', operator: 'Lt', values: ['3'] }, false],
    ['Gt non-integer', { key: 'zone', operator: 'Gt', values: ['3'] }, false],
    ['unknown operator', { key: 'zone', operator: 'Near', values: ['a'] }, false],
  ];
  it.each(reqs)('node requirement %s', (_n, r, want) => {
    expect(matchesNodeRequirement(r, { zone: 'a', cores: '4' })).toBe(want);
  });

  const tol: Array<[string, Parameters<typeof tolerates>[0], boolean]> = [
    ['Equal with value', [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }], true],
    ['Equal wrong value', [{ key: 'k', operator: 'Equal', value: 'w', effect: 'NoSchedule' }], false],
    ['Exists on key', [{ key: 'k', operator: 'Exists' }], true],
    ['Exists with empty key tolerates everything', [{ operator: 'Exists' }], true],
    ['wrong effect', [{ key: 'k', operator: 'Exists', effect: 'NoExecute' }], false],
    ['none', undefined, false],
  ];
  it.each(tol)('toleration %s', (_n, t, want) => {
    expect(tolerates(t, { key: 'k', value: 'v', effect: 'NoSchedule' })).toBe(want);
  });

  it('an empty node selector term matches nothing', () => {
    const p = withSpec(pod('p'), { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } } } });
    expect(podFitFailure(p, node('node-1'))).toEqual({ reason: 'affinity' });
  });

  it('formats the message as the scheduler does', () => {
    expect(unschedulableMessage(2, [{ reason: 'unschedulable' }, { reason: 'unschedulable' }])).toBe('0/2 nodes are available: 2 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..');
  });
});

describe('NodePorts: host ports, and hostNetwork pods', () => {
  const hostNet = (name: string, port: number, o: Parameters<typeof pod>[1] = {}) =>
    withSpec(pod(name, o), { hostNetwork: true, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: port, hostPort: port, protocol: 'TCP' }] }] });

  it('keeps a second pod with the same host port off a node', () => {
    const nodes = [node('node-1'), node('node-2')];
    expect(place(hostNet('b', 8080), nodes, [hostNet('a', 8080, { node: 'node-1' })])).toEqual({ nodeName: 'node-2' });
    const both = [hostNet('a', 8080, { node: 'node-1' }), hostNet('c', 8080, { node: 'node-2' })];
    expect(place(hostNet('b', 8080), nodes, both)).toEqual({ unschedulable: "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.." });
    // Another port, another protocol, or a finished pod: no conflict.
    expect(place(hostNet('b', 8081), nodes, both)).toEqual({ nodeName: 'node-1' });
    const udp = withSpec(pod('u'), { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 53, hostPort: 8080, protocol: 'UDP' }] }] });
    expect(place(udp, nodes, both)).toEqual({ nodeName: 'node-1' });
    expect(place(hostNet('b', 8080), nodes, [hostNet('a', 8080, { node: 'node-1', phase: 'Succeeded' }), both[1]!])).toEqual({ nodeName: 'node-1' });
  });

  it('host ports on different addresses do not clash, 0.0.0.0 clashes with every address', () => {
    const on = (name: string, hostIP: string | undefined, o: Parameters<typeof pod>[1] = {}) =>
      withSpec(pod(name, o), { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: 9000, ...(hostIP ? { hostIP } : {}) }] }] });
    const nodes = [node('node-1')];
    expect(place(on('b', '127.0.0.2'), nodes, [on('a', '127.0.0.3', { node: 'node-1' })])).toEqual({ nodeName: 'node-1' });
    expect('unschedulable' in place(on('b', undefined), nodes, [on('a', '127.0.0.3', { node: 'node-1' })])).toBe(true);
  });
});
