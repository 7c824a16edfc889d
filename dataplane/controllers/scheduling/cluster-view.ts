/**
 * What the scheduler's filters and scores read of the cluster: the nodes, the live pods bound (or
 * assumed) on each, and lookups the informers' indexes answer — pods of a namespace that may
 * match a selector, pods carrying pod (anti-)affinity per node (upstream's
 * NodeInfo.PodsWithAffinity), namespace labels, and the selectors of the Services, ReplicaSets,
 * ReplicationControllers and StatefulSets over a pod (for the default topology spreading).
 * `listView` builds one from plain lists, for tests and small callers.
 */
import type { ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Namespace, Node, Pod, ReplicationController, Service } from 'kubernetes-types/core/v1.js';
import { labelSelectorRequirements, matchesRequirements, type Labels, type Requirement } from '../../base/model/selector.js';
import { isPodTerminal } from '../pod-conditions.js';

export interface ClusterView {
  readonly nodes: readonly Node[];
  node(name: string): Node | undefined;
  /** Live (not finished) pods bound or assumed on the node. */
  podsOn(nodeName: string): Pod[];
  /** Those of them with podAffinity or podAntiAffinity, required or preferred. */
  podsWithAffinityOn(nodeName: string): Pod[];
  /**
   * Live bound pods of `namespace` that may match `reqs`: a superset read through an index
   * (the caller checks the selector).
   */
  podsMatching(namespace: string, reqs: readonly Requirement[]): Pod[];
  namespaceLabels(namespace: string): Labels;
  namespaceNames(): string[];
  /**
   * Upstream's helper.DefaultSelector: the requirements of every Service, ReplicationController,
   * ReplicaSet and StatefulSet of the pod's namespace whose selector matches it, ANDed; empty when none.
   */
  ownerSelector(pod: Pod): Requirement[];
}

/** Whether the pod has inter-pod affinity terms of any kind (upstream's PodsWithAffinity). */
export function hasPodAffinity(pod: Pod): boolean {
  const a = pod.spec?.affinity;
  return !!(a?.podAffinity || a?.podAntiAffinity);
}

export function isLiveBound(pod: Pod): boolean {
  return !!pod.spec?.nodeName && !isPodTerminal(pod);
}

export interface SelectingObjects {
  services: readonly Service[];
  replicaSets: readonly ReplicaSet[];
  replicationControllers: readonly ReplicationController[];
  statefulSets: readonly StatefulSet[];
}

/** DefaultSelector over the selecting objects of the pod's namespace. */
export function ownerSelectorOf(pod: Pod, objs: SelectingObjects): Requirement[] {
  const labels = pod.metadata?.labels;
  const out: Requirement[] = [];
  const addMap = (sel: Record<string, string> | undefined) => {
    const reqs = Object.entries(sel ?? {}).map(([key, v]): Requirement => ({ key, operator: 'In', values: [v] }));
    // An empty map selects nothing (a Service without selector, as upstream's labels.Set check).
    if (reqs.length && matchesRequirements(reqs, labels)) out.push(...reqs);
  };
  const addSelector = (sel: Parameters<typeof labelSelectorRequirements>[0]) => {
    const reqs = labelSelectorRequirements(sel);
    // LabelSelectorAsSelector: an empty selector here matches nothing for workloads (upstream skips it).
    if (reqs?.length && matchesRequirements(reqs, labels)) out.push(...reqs);
  };
  for (const s of objs.services) addMap(s.spec?.selector);
  for (const rc of objs.replicationControllers) addMap(rc.spec?.selector);
  for (const rs of objs.replicaSets) addSelector(rs.spec?.selector);
  for (const ss of objs.statefulSets) addSelector(ss.spec?.selector);
  return out;
}

/** A view over plain lists (unit tests): `pods` are every pod, bound or not. */
export function listView(nodes: readonly Node[], pods: readonly Pod[], extra: Partial<SelectingObjects> & { namespaces?: readonly Namespace[] } = {}): ClusterView {
  const byNode = new Map<string, Pod[]>();
  for (const p of pods) {
    if (!isLiveBound(p)) continue;
    const n = p.spec!.nodeName!;
    byNode.set(n, [...(byNode.get(n) ?? []), p]);
  }
  const nodeByName = new Map(nodes.map((n) => [n.metadata?.name ?? '', n]));
  const nsOf = (o: { metadata?: { namespace?: string } }) => o.metadata?.namespace ?? 'default';
  const inNs = <T extends { metadata?: { namespace?: string } }>(list: readonly T[] | undefined, ns: string) => (list ?? []).filter((o) => nsOf(o) === ns);
  return {
    nodes,
    node: (name) => nodeByName.get(name),
    podsOn: (n) => byNode.get(n) ?? [],
    podsWithAffinityOn: (n) => (byNode.get(n) ?? []).filter(hasPodAffinity),
    podsMatching: (ns) => pods.filter((p) => isLiveBound(p) && nsOf(p) === ns),
    namespaceLabels: (ns) => extra.namespaces?.find((n) => n.metadata?.name === ns)?.metadata?.labels ?? (extra.namespaces ? undefined : { 'kubernetes.io/metadata.name': ns }),
    namespaceNames: () => extra.namespaces?.map((n) => n.metadata?.name ?? '') ?? [...new Set(pods.map(nsOf))],
    ownerSelector: (pod) => {
      const ns = nsOf(pod);
      return ownerSelectorOf(pod, {
        services: inNs(extra.services, ns),
        replicaSets: inNs(extra.replicaSets, ns),
        replicationControllers: inNs(extra.replicationControllers, ns),
        statefulSets: inNs(extra.statefulSets, ns),
      });
    },
  };
}
