/**
 * The scheduler's InterPodAffinity, PodTopologySpread and score plugins, case by case — most
 * adapted from kube-scheduler 1.32's own tables (interpodaffinity/filtering_test.go,
 * podtopologyspread/filtering_test.go and scoring_test.go) to knet's node and pod builders.
 */
import { describe, expect, it } from 'vitest';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Affinity, Namespace, Node, Pod, PodAffinityTerm, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { listView } from '../../../dataplane/controllers/scheduling/cluster-view.js';
import { interPodAffinityFilter, interPodAffinityState } from '../../../dataplane/controllers/scheduling/inter-pod-affinity.js';
import { spreadFilter, spreadFilterState, spreadScores } from '../../../dataplane/controllers/scheduling/topology-spread.js';
import { schedulePod } from '../../../dataplane/controllers/scheduling/schedule-pod.js';
import { node, pod, replicaSet } from './fixtures.js';

const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';

function withSpec(p: Pod, spec: Partial<NonNullable<Pod['spec']>>): Pod {
  return { ...p, spec: { ...p.spec!, ...spec } };
}
const withAffinity = (p: Pod, affinity: Affinity) => withSpec(p, { affinity });
const term = (labels: Record<string, string>, topologyKey: string, extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm => ({ labelSelector: { matchLabels: labels }, topologyKey, ...extra });
const zoned = (name: string, zone: string | undefined, o: Parameters<typeof node>[1] = {}) => node(name, { ...o, labels: { ...(zone ? { [ZONE]: zone } : {}), ...o.labels } });
const spread = (p: Pod, ...constraints: TopologySpreadConstraint[]) => withSpec(p, { topologySpreadConstraints: constraints });
const ns = (name: string, labels: Record<string, string> = {}): Namespace => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } });

/** Each node's InterPodAffinity verdict: the failure, or 'fit'. */
function affinityVerdicts(incoming: Pod, nodes: Node[], existing: Pod[], namespaces?: Namespace[]): Record<string, string> {
  const view = listView(nodes, existing, namespaces ? { namespaces } : {});
  const state = interPodAffinityState(incoming, view);
  return Object.fromEntries(nodes.map((n) => [n.metadata!.name!, interPodAffinityFilter(state, n) ?? 'fit']));
}

/** Each node's PodTopologySpread verdict. */
function spreadVerdicts(incoming: Pod, nodes: Node[], existing: Pod[]): Record<string, string> {
  const state = spreadFilterState(incoming, listView(nodes, existing));
  return Object.fromEntries(nodes.map((n) => [n.metadata!.name!, spreadFilter(state, incoming, n) ?? 'fit']));
}

describe('InterPodAffinity filter', () => {
  const two = [zoned('node-1', 'z1'), zoned('node-2', 'z1'), zoned('node-3', 'z2')];
  const db = (name: string, n: string, o: Parameters<typeof pod>[1] = {}) => pod(name, { labels: { app: 'db' }, node: n, ...o });
  const cases: Array<{ name: string; pod: Pod; existing: Pod[]; namespaces?: Namespace[]; want: Record<string, string> }> = [
    { name: 'no pod affinity, no existing pods: fits everywhere', pod: pod('p'), existing: [], want: { 'node-1': 'fit', 'node-2': 'fit', 'node-3': 'fit' } },
    {
      name: 'required affinity (In) to an existing pod: its node only, by hostname',
      pod: withAffinity(pod('p'), { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'cache'] }] }, topologyKey: HOST }] } }),
      existing: [db('d', 'node-2')],
      want: { 'node-1': 'pod-affinity', 'node-2': 'fit', 'node-3': 'pod-affinity' },
    },
    {
      name: 'required affinity by zone: every node of the zone',
      pod: withAffinity(pod('p'), { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, ZONE)] } }),
      existing: [db('d', 'node-2')],
      want: { 'node-1': 'fit', 'node-2': 'fit', 'node-3': 'pod-affinity' },
    },
    {
      name: 'a matching pod in another namespace does not satisfy affinity',
      pod: withAffinity(pod('p'), { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, HOST)] } }),
      existing: [db('d', 'node-2', { ns: 'other' })],
      want: { 'node-1': 'pod-affinity', 'node-2': 'pod-affinity', 'node-3': 'pod-affinity' },
    },
    {
      name: 'namespaces names the other namespace',
      pod: withAffinity(pod('p'), { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, HOST, { namespaces: ['other'] })] } }),
      existing: [db('d', 'node-2', { ns: 'other' })],
      want: { 'node-1': 'pod-affinity', 'node-2': 'fit', 'node-3': 'pod-affinity' },
    },
    {
      name: 'namespaceSelector picks namespaces by label',
      pod: withAffinity(pod('p'), { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, HOST, { namespaceSelector: { matchLabels: { team: 'x' } } })] } }),
      existing: [db('d', 'node-2', { ns: 'team-x' }), db('e', 'node-3', { ns: 'team-y' })],
      namespaces: [ns('default'), ns('team-x', { team: 'x' }), ns('team-y', { team: 'y' })],
      want: { 'node-1': 'pod-affinity', 'node-2': 'fit', 'node-3': 'pod-affinity' },
    },
    {
      name: 'the first pod of a self-affine group may go anywhere',
      pod: withAffinity(pod('p', { labels: { app: 'db' } }), { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, HOST)] } }),
      existing: [],
      want: { 'node-1': 'fit', 'node-2': 'fit', 'node-3': 'fit' },
    },
    {
      name: 'a node without the topology key fails affinity',
      pod: withAffinity(pod('p', { labels: { app: 'db' } }), { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, 'rack')] } }),
      existing: [],
      want: { 'node-1': 'pod-affinity', 'node-2': 'pod-affinity', 'node-3': 'pod-affinity' },
    },
    {
      name: 'required anti-affinity by hostname keeps off the matching pod’s node',
      pod: withAffinity(pod('p'), { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, HOST)] } }),
      existing: [db('d', 'node-1')],
      want: { 'node-1': 'pod-anti-affinity', 'node-2': 'fit', 'node-3': 'fit' },
    },
    {
      name: 'required anti-affinity by zone keeps off the whole zone',
      pod: withAffinity(pod('p'), { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, ZONE)] } }),
      existing: [db('d', 'node-1')],
      want: { 'node-1': 'pod-anti-affinity', 'node-2': 'pod-anti-affinity', 'node-3': 'fit' },
    },
    {
      name: 'an existing pod’s anti-affinity against the incoming pod (the symmetric check)',
      pod: pod('p', { labels: { app: 'web' } }),
      existing: [withAffinity(db('d', 'node-3'), { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, ZONE)] } })],
      want: { 'node-1': 'fit', 'node-2': 'fit', 'node-3': 'existing-anti-affinity' },
    },
    {
      name: 'an existing pod’s preferred anti-affinity does not filter',
      pod: pod('p', { labels: { app: 'web' } }),
      existing: [withAffinity(db('d', 'node-3'), { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term({ app: 'web' }, HOST) }] } })],
      want: { 'node-1': 'fit', 'node-2': 'fit', 'node-3': 'fit' },
    },
    {
      name: 'mismatchLabelKeys: anti-affinity only against pods of another tenant',
      pod: withAffinity(pod('p', { labels: { app: 'web', tenant: 'a' } }), {
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchExpressions: [{ key: 'tenant', operator: 'Exists' }] }, mismatchLabelKeys: ['tenant'], topologyKey: HOST }] },
      }),
      existing: [pod('a1', { labels: { tenant: 'a' }, node: 'node-1' }), pod('b1', { labels: { tenant: 'b' }, node: 'node-2' })],
      want: { 'node-1': 'fit', 'node-2': 'pod-anti-affinity', 'node-3': 'fit' },
    },
    {
      name: 'matchLabelKeys: anti-affinity only against the same revision',
      pod: withAffinity(pod('p', { labels: { app: 'web', 'pod-template-hash': 'v2' } }), {
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ ...term({ app: 'web' }, HOST), matchLabelKeys: ['pod-template-hash'] }] },
      }),
      existing: [pod('old', { labels: { app: 'web', 'pod-template-hash': 'v1' }, node: 'node-1' }), pod('new', { labels: { app: 'web', 'pod-template-hash': 'v2' }, node: 'node-2' })],
      want: { 'node-1': 'fit', 'node-2': 'pod-anti-affinity', 'node-3': 'fit' },
    },
    {
      name: 'finished pods do not count',
      pod: withAffinity(pod('p'), { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, HOST)] } }),
      existing: [db('d', 'node-1', { phase: 'Succeeded' })],
      want: { 'node-1': 'fit', 'node-2': 'fit', 'node-3': 'fit' },
    },
  ];
  it.each(cases)('$name', ({ pod: p, existing, namespaces, want }) => {
    expect(affinityVerdicts(p, two, existing, namespaces)).toEqual(want);
  });
});

describe('PodTopologySpread filter (DoNotSchedule)', () => {
  const four = [zoned('node-a', 'zone1'), zoned('node-b', 'zone1'), zoned('node-x', 'zone2'), zoned('node-y', 'zone2')];
  const foo = (name: string, n: string, o: Parameters<typeof pod>[1] = {}) => pod(name, { labels: { foo: '' }, node: n, ...o });
  const on = (counts: Record<string, number>) => Object.entries(counts).flatMap(([n, c]) => Array.from({ length: c }, (_, i) => foo(`${n}-${i}`, n)));
  const c = (topologyKey: string, maxSkew: number, extra: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint => ({
    topologyKey,
    maxSkew,
    whenUnsatisfiable: 'DoNotSchedule',
    labelSelector: { matchExpressions: [{ key: 'foo', operator: 'Exists' }] },
    ...extra,
  });
  const incoming = (...cs: TopologySpreadConstraint[]) => spread(pod('p', { labels: { foo: '' } }), ...cs);
  const cases: Array<{ name: string; pod: Pod; nodes?: Node[]; existing: Pod[]; want: Record<string, string> }> = [
    { name: 'no existing pods', pod: incoming(c(ZONE, 1)), existing: [], want: { 'node-a': 'fit', 'node-b': 'fit', 'node-x': 'fit', 'node-y': 'fit' } },
    { name: 'pods in another namespace do not count', pod: incoming(c(ZONE, 1)), existing: [foo('o1', 'node-a', { ns: 'ns1' }), foo('o2', 'node-b', { ns: 'ns1' })], want: { 'node-a': 'fit', 'node-b': 'fit', 'node-x': 'fit', 'node-y': 'fit' } },
    { name: 'zones 3/3: all fit', pod: incoming(c(ZONE, 1)), existing: on({ 'node-a': 1, 'node-b': 2, 'node-x': 2, 'node-y': 1 }), want: { 'node-a': 'fit', 'node-b': 'fit', 'node-x': 'fit', 'node-y': 'fit' } },
    { name: 'zones 3/2: zone2 only', pod: incoming(c(ZONE, 1)), existing: on({ 'node-a': 1, 'node-b': 2, 'node-x': 2 }), want: { 'node-a': 'spread', 'node-b': 'spread', 'node-x': 'fit', 'node-y': 'fit' } },
    { name: 'nodes 2/1/0/3, maxSkew 1: node-x only', pod: incoming(c(HOST, 1)), existing: on({ 'node-a': 2, 'node-b': 1, 'node-y': 3 }), want: { 'node-a': 'spread', 'node-b': 'spread', 'node-x': 'fit', 'node-y': 'spread' } },
    { name: 'nodes 2/1/0/3, maxSkew 2: node-b and node-x', pod: incoming(c(HOST, 2)), existing: on({ 'node-a': 2, 'node-b': 1, 'node-y': 3 }), want: { 'node-a': 'spread', 'node-b': 'fit', 'node-x': 'fit', 'node-y': 'spread' } },
    {
      name: 'incoming pod does not match itself: nodes 2/1/0/3, maxSkew 1: node-b and node-x',
      pod: spread(pod('p', { labels: { bar: '' } }), c(HOST, 1)),
      existing: on({ 'node-a': 2, 'node-b': 1, 'node-y': 3 }),
      want: { 'node-a': 'spread', 'node-b': 'fit', 'node-x': 'fit', 'node-y': 'spread' },
    },
    {
      name: 'two constraints: zone and node both have to hold',
      pod: incoming(c(ZONE, 1), c(HOST, 1)),
      existing: on({ 'node-a': 1, 'node-b': 1, 'node-x': 1 }),
      want: { 'node-a': 'spread', 'node-b': 'spread', 'node-x': 'spread', 'node-y': 'fit' },
    },
    {
      name: 'a node without the topology key',
      pod: incoming(c(ZONE, 1)),
      nodes: [zoned('node-a', 'zone1'), zoned('node-b', undefined)],
      existing: [],
      want: { 'node-a': 'fit', 'node-b': 'spread-label' },
    },
    {
      name: 'minDomains 3 with 2 zones: the global minimum is 0',
      pod: incoming(c(ZONE, 1, { minDomains: 3 })),
      existing: on({ 'node-a': 1, 'node-x': 1 }),
      want: { 'node-a': 'spread', 'node-b': 'spread', 'node-x': 'spread', 'node-y': 'spread' },
    },
    {
      name: 'nodeAffinityPolicy Honor (default): nodes the pod cannot use are no domain',
      pod: withSpec(incoming(c(HOST, 1)), { nodeSelector: { [ZONE]: 'zone1' } }),
      existing: on({ 'node-a': 1, 'node-b': 1 }),
      want: { 'node-a': 'fit', 'node-b': 'fit', 'node-x': 'fit', 'node-y': 'fit' },
    },
    {
      name: 'nodeTaintsPolicy Honor: a tainted node is no domain',
      pod: incoming(c(HOST, 1, { nodeTaintsPolicy: 'Honor' })),
      nodes: [node('node-a'), node('node-b'), node('node-c', { taints: [{ key: 'k', effect: 'NoSchedule' }] })],
      existing: on({ 'node-a': 1 }),
      want: { 'node-a': 'spread', 'node-b': 'fit', 'node-c': 'fit' },
    },
    {
      name: 'nodeTaintsPolicy Ignore (default): a tainted node with no pods is the minimum',
      pod: incoming(c(HOST, 1)),
      nodes: [node('node-a'), node('node-b'), node('node-c', { taints: [{ key: 'k', effect: 'NoSchedule' }] })],
      existing: on({ 'node-a': 1, 'node-b': 1 }),
      want: { 'node-a': 'spread', 'node-b': 'spread', 'node-c': 'fit' },
    },
    {
      name: 'matchLabelKeys: only pods of the same revision count',
      pod: spread(pod('p', { labels: { foo: '', 'pod-template-hash': 'v2' } }), c(HOST, 1, { matchLabelKeys: ['pod-template-hash'] })),
      existing: [...on({ 'node-a': 3 }), pod('n1', { labels: { foo: '', 'pod-template-hash': 'v2' }, node: 'node-b' })],
      want: { 'node-a': 'fit', 'node-b': 'spread', 'node-x': 'fit', 'node-y': 'fit' },
    },
    {
      name: 'terminating pods do not count',
      pod: incoming(c(HOST, 1)),
      existing: [foo('t', 'node-a', { deleting: true })],
      want: { 'node-a': 'fit', 'node-b': 'fit', 'node-x': 'fit', 'node-y': 'fit' },
    },
  ];
  it.each(cases)('$name', ({ pod: p, nodes, existing, want }) => {
    expect(spreadVerdicts(p, nodes ?? four, existing)).toEqual(want);
  });
});

describe('PodTopologySpread score', () => {
  const foo = (name: string, n: string) => pod(name, { labels: { foo: '' }, node: n });
  const anyway = (key: string, maxSkew: number): TopologySpreadConstraint => ({ topologyKey: key, maxSkew, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchExpressions: [{ key: 'foo', operator: 'Exists' }] } });
  const nodes = ['node-a', 'node-b', 'node-c', 'node-d'].map((n) => node(n));

  it('one constraint on hostname, no existing pods: all 100', () => {
    const scores = spreadScores(spread(pod('p', { labels: { foo: '' } }), anyway(HOST, 1)), listView(nodes, []), nodes);
    expect(Object.fromEntries(scores!)).toEqual({ 'node-a': 100, 'node-b': 100, 'node-c': 100, 'node-d': 100 });
  });

  it('one constraint on hostname, pods 2/1/0/3 (upstream: 20/60/100/0)', () => {
    const existing = [foo('a1', 'node-a'), foo('a2', 'node-a'), foo('b1', 'node-b'), foo('d1', 'node-d'), foo('d2', 'node-d'), foo('d3', 'node-d')];
    const scores = spreadScores(spread(pod('p', { labels: { foo: '' } }), anyway(HOST, 1)), listView(nodes, existing), nodes);
    expect(Object.fromEntries(scores!)).toEqual({ 'node-a': 20, 'node-b': 60, 'node-c': 100, 'node-d': 0 });
  });

  it('no constraints and nothing selecting the pod: no spreading score', () => {
    expect(spreadScores(pod('p'), listView(nodes, []), nodes)).toBeUndefined();
  });

  it('system defaults: by hostname over the ReplicaSet selector, nodes without a zone still scored', () => {
    const rs: ReplicaSet = { ...replicaSet('web', 3), spec: { ...replicaSet('web', 3).spec!, selector: { matchLabels: { app: 'web' } } } };
    const existing = [pod('w1', { node: 'node-a' }), pod('w2', { node: 'node-a' }), pod('w3', { node: 'node-b' })];
    const scores = spreadScores(pod('p'), listView(nodes, existing, { replicaSets: [rs] }), nodes);
    // counts 2/1/0/0 × log(6) + 2 → 6/4/2/2 → (8 − s) × 100 / 6.
    expect(Object.fromEntries(scores!)).toEqual({ 'node-a': 33, 'node-b': 66, 'node-c': 100, 'node-d': 100 });
  });
});

describe('placement: filters and scores combined', () => {
  const nodes = [node('node-1'), node('node-2')];
  const antiHost = (name: string, o: Parameters<typeof pod>[1] = {}) => withAffinity(pod(name, { labels: { app: 'web' }, ...o }), { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'web' }, HOST)] } });

  it('three replicas with required anti-affinity on two nodes: two placed apart, the third unschedulable', () => {
    const first = schedulePod(antiHost('w1'), listView(nodes, []));
    expect(first).toEqual({ nodeName: 'node-1' });
    const second = schedulePod(antiHost('w2'), listView(nodes, [antiHost('w1', { node: 'node-1' })]));
    expect(second).toEqual({ nodeName: 'node-2' });
    const third = schedulePod(antiHost('w3'), listView(nodes, [antiHost('w1', { node: 'node-1' }), antiHost('w2', { node: 'node-2' })]));
    expect(third).toEqual({
      unschedulable: "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..",
    });
  });

  it('required pod affinity unmatched: not helpful to preempt', () => {
    const p = withAffinity(pod('p'), { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' }, HOST)] } });
    expect(schedulePod(p, listView(nodes, []))).toEqual({
      unschedulable: "0/2 nodes are available: 2 node(s) didn't match pod affinity rules. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..",
    });
  });

  it('preemptionPolicy Never', () => {
    const p = withSpec(antiHost('w3'), { preemptionPolicy: 'Never' });
    expect(schedulePod(p, listView(nodes, [antiHost('w1', { node: 'node-1' }), antiHost('w2', { node: 'node-2' })]))).toEqual({
      unschedulable: "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. preemption: not eligible due to preemptionPolicy=Never..",
    });
  });

  it('maxSkew 1 DoNotSchedule: four replicas land 2+2', () => {
    const placed: Pod[] = [];
    for (let i = 0; i < 4; i++) {
      const p = spread(pod(`s${i}`, { labels: { app: 's' } }), { topologyKey: HOST, maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 's' } } });
      const d = schedulePod(p, listView(nodes, placed));
      if (!('nodeName' in d)) throw new Error(d.unschedulable);
      placed.push(withSpec(p, { nodeName: d.nodeName }));
    }
    expect(placed.map((p) => p.spec!.nodeName).sort()).toEqual(['node-1', 'node-1', 'node-2', 'node-2']);
  });

  it('preferred node affinity outweighs pod counts', () => {
    const many = [pod('x1', { node: 'node-2' }), pod('x2', { node: 'node-2' })];
    const p = withAffinity(pod('p'), { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, preference: { matchExpressions: [{ key: HOST, operator: 'In', values: ['node-2'] }] } }] } });
    expect(schedulePod(p, listView(nodes, many))).toEqual({ nodeName: 'node-2' });
  });

  it('preferred pod affinity and anti-affinity', () => {
    const existing = [pod('db', { labels: { app: 'db' }, node: 'node-2' }), pod('x', { labels: { app: 'x' }, node: 'node-1' })];
    const near = withAffinity(pod('p'), { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term({ app: 'db' }, HOST) }] } });
    expect(schedulePod(near, listView(nodes, [...existing, pod('y', { node: 'node-2' })]))).toEqual({ nodeName: 'node-2' });
    const far = withAffinity(pod('p'), { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term({ app: 'db' }, HOST) }] } });
    expect(schedulePod(far, listView(nodes, [...existing, pod('y', { node: 'node-1' })]))).toEqual({ nodeName: 'node-1' });
  });

  it('an existing pod’s required affinity to the incoming pod draws it (hardPodAffinityWeight)', () => {
    const existing = [withAffinity(pod('fan', { labels: { app: 'fan' }, node: 'node-2' }), { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'star' }, HOST)] } })];
    expect(schedulePod(pod('p', { labels: { app: 'star' } }), listView(nodes, existing))).toEqual({ nodeName: 'node-2' });
  });

  it('PreferNoSchedule taints are avoided', () => {
    const tainted = [node('node-1', { taints: [{ key: 'k', effect: 'PreferNoSchedule' }] }), node('node-2')];
    expect(schedulePod(pod('p'), listView(tainted, [pod('x', { node: 'node-2' })]))).toEqual({ nodeName: 'node-2' });
  });
});
