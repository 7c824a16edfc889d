/**
 * The PodTopologySpread plugin (kube-scheduler 1.32, pkg/scheduler/framework/plugins/podtopologyspread).
 *
 * Constraints come from `spec.topologySpreadConstraints`; a pod without any gets the system
 * defaults for scoring (kubernetes.io/hostname maxSkew 3, topology.kubernetes.io/zone maxSkew 5,
 * ScheduleAnyway), over the selector of the Services/ReplicaSets/StatefulSets/RCs selecting it.
 * A constraint's selector gets `matchLabelKeys` merged in (key In the pod's value).
 * Domains count the pods of the pod's namespace matching the selector (not terminating) on the
 * nodes that carry every constraint's topology key and pass its inclusion policies
 * (nodeAffinityPolicy Honor and nodeTaintsPolicy Ignore by default).
 *
 * Filter (DoNotSchedule): matching pods in the node's domain + 1 if the pod matches itself −
 * the smallest domain's count (0 when fewer domains than minDomains) must not exceed maxSkew.
 * Score (ScheduleAnyway): per constraint `count × log(domains + 2) + maxSkew − 1`, summed,
 * then reversed so the emptiest node gets 100.
 */
import type { Node, Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { LABEL_HOSTNAME, LABEL_TOPOLOGY_ZONE } from '../../base/model/well-known.js';
import { labelSelectorRequirements, matchesRequirements, type Requirement } from '../../base/model/selector.js';
import { matchesNodeSelector, tolerates } from '../node-fit.js';
import type { ClusterView } from './cluster-view.js';

export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  selector: Requirement[];
  minDomains: number;
  honorNodeAffinity: boolean;
  honorNodeTaints: boolean;
}

type Action = 'DoNotSchedule' | 'ScheduleAnyway';

const SYSTEM_DEFAULTS: TopologySpreadConstraint[] = [
  { topologyKey: LABEL_HOSTNAME, maxSkew: 3, whenUnsatisfiable: 'ScheduleAnyway' },
  { topologyKey: LABEL_TOPOLOGY_ZONE, maxSkew: 5, whenUnsatisfiable: 'ScheduleAnyway' },
];

/** The pod's constraints of one action; undefined selector requirements drop the constraint. */
export function spreadConstraints(pod: Pod, action: Action): SpreadConstraint[] {
  const labels = pod.metadata?.labels ?? {};
  const out: SpreadConstraint[] = [];
  for (const c of pod.spec?.topologySpreadConstraints ?? []) {
    if (c.whenUnsatisfiable !== action) continue;
    const base = labelSelectorRequirements(c.labelSelector) ?? [];
    const keys = (c.matchLabelKeys ?? []).filter((k) => k in labels).map((k): Requirement => ({ key: k, operator: 'In', values: [labels[k]!] }));
    // A missing labelSelector selects nothing: only the pod's own match (always 0) counts.
    const selector = c.labelSelector ? [...base, ...keys] : [{ key: '', operator: 'In' as const, values: [] }];
    out.push({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      selector,
      minDomains: c.minDomains ?? 1,
      honorNodeAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
      honorNodeTaints: c.nodeTaintsPolicy === 'Honor',
    });
  }
  return out;
}

/** The system default constraints for scoring, over the pod's owner selector; none when nothing selects it. */
export function defaultSpreadConstraints(pod: Pod, view: ClusterView): SpreadConstraint[] {
  const selector = view.ownerSelector(pod);
  if (selector.length === 0) return [];
  return SYSTEM_DEFAULTS.map((c) => ({ maxSkew: c.maxSkew, topologyKey: c.topologyKey, selector, minDomains: 1, honorNodeAffinity: true, honorNodeTaints: false }));
}

const labelsOf = (n: Node | undefined): Record<string, string> => n?.metadata?.labels ?? {};
const hasAllKeys = (n: Node, cs: readonly SpreadConstraint[]) => cs.every((c) => c.topologyKey in labelsOf(n));

/** matchNodeInclusionPolicies: nodeAffinityPolicy (nodeSelector + required affinity) and nodeTaintsPolicy. */
function includesNode(c: SpreadConstraint, pod: Pod, node: Node): boolean {
  if (c.honorNodeAffinity && !matchesNodeSelector(pod, node)) return false;
  if (c.honorNodeTaints) {
    const untolerated = (node.spec?.taints ?? []).some((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod.spec?.tolerations, t));
    if (untolerated) return false;
  }
  return true;
}

/** Matching pods per node for a constraint: the pod's namespace, not terminating. */
function matchCountsByNode(c: SpreadConstraint, pod: Pod, view: ClusterView): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of view.podsMatching(pod.metadata?.namespace ?? 'default', c.selector)) {
    if (p.metadata?.deletionTimestamp || !matchesRequirements(c.selector, p.metadata?.labels)) continue;
    const n = p.spec!.nodeName!;
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  return counts;
}

export interface SpreadFilterState {
  constraints: SpreadConstraint[];
  /** Per constraint: topology value → matching pods. */
  domains: Array<Map<string, number>>;
}

/** PreFilter; undefined when the pod has no DoNotSchedule constraint. */
export function spreadFilterState(pod: Pod, view: ClusterView): SpreadFilterState | undefined {
  const constraints = spreadConstraints(pod, 'DoNotSchedule');
  if (constraints.length === 0) return undefined;
  const domains = constraints.map((c) => {
    const perNode = matchCountsByNode(c, pod, view);
    const m = new Map<string, number>();
    for (const node of view.nodes) {
      if (!hasAllKeys(node, constraints) || !includesNode(c, pod, node)) continue;
      const v = labelsOf(node)[c.topologyKey]!;
      m.set(v, (m.get(v) ?? 0) + (perNode.get(node.metadata?.name ?? '') ?? 0));
    }
    return m;
  });
  return { constraints, domains };
}

/** Filter: 'spread-label' (node lacks a topology key), 'spread' (skew too large), or undefined. */
export function spreadFilter(state: SpreadFilterState | undefined, pod: Pod, node: Node): 'spread' | 'spread-label' | undefined {
  if (!state) return undefined;
  const labels = labelsOf(node);
  for (const [i, c] of state.constraints.entries()) {
    if (!(c.topologyKey in labels)) return 'spread-label';
    const domains = state.domains[i]!;
    let min = domains.size ? Math.min(...domains.values()) : Number.MAX_SAFE_INTEGER;
    if (domains.size < c.minDomains) min = 0;
    const self = matchesRequirements(c.selector, pod.metadata?.labels) ? 1 : 0;
    if ((domains.get(labels[c.topologyKey]!) ?? 0) + self - min > c.maxSkew) return 'spread';
  }
  return undefined;
}

/** PreScore + Score + NormalizeScore over the feasible nodes: node name → 0..100 (none: the plugin skips). */
export function spreadScores(pod: Pod, view: ClusterView, feasible: readonly Node[]): Map<string, number> | undefined {
  const own = (pod.spec?.topologySpreadConstraints ?? []).length > 0;
  const constraints = own ? spreadConstraints(pod, 'ScheduleAnyway') : defaultSpreadConstraints(pod, view);
  if (constraints.length === 0 || feasible.length === 0) return undefined;
  // Only the pod's own constraints need every topology key on a node; defaults spread by hostname alone where zones are missing.
  const requireAll = own;
  const ignored = new Set(feasible.filter((n) => requireAll && !hasAllKeys(n, constraints)).map((n) => n.metadata?.name ?? ''));
  const raw = new Map<string, number>();
  const perConstraint = constraints.map((c) => scoreInputs(c, pod, view, feasible, ignored, requireAll ? constraints : []));
  for (const n of feasible) {
    const name = n.metadata?.name ?? '';
    if (ignored.has(name)) continue;
    let score = 0;
    for (const [i, c] of constraints.entries()) {
      const v = labelsOf(n)[c.topologyKey];
      if (v === undefined) continue;
      const { perNode, perDomain, weight } = perConstraint[i]!;
      const count = c.topologyKey === LABEL_HOSTNAME ? perNode.get(name) ?? 0 : perDomain.get(v) ?? 0;
      score += count * weight + (c.maxSkew - 1);
    }
    raw.set(name, Math.round(score));
  }
  return normaliseReversed(raw, feasible);
}

/** A constraint's counts: per node, per domain of the feasible nodes, and the domain-count weight log(size + 2). */
function scoreInputs(c: SpreadConstraint, pod: Pod, view: ClusterView, feasible: readonly Node[], ignored: Set<string>, required: readonly SpreadConstraint[]) {
  const perNode = matchCountsByNode(c, pod, view);
  const perDomain = new Map<string, number>();
  for (const n of feasible) if (!ignored.has(n.metadata?.name ?? '')) perDomain.set(labelsOf(n)[c.topologyKey] ?? '', 0);
  const size = c.topologyKey === LABEL_HOSTNAME ? feasible.length - ignored.size : perDomain.size;
  if (c.topologyKey !== LABEL_HOSTNAME) {
    for (const node of view.nodes) {
      if (!hasAllKeys(node, required) || !includesNode(c, pod, node)) continue;
      const v = labelsOf(node)[c.topologyKey] ?? '';
      if (perDomain.has(v)) perDomain.set(v, perDomain.get(v)! + (perNode.get(node.metadata?.name ?? '') ?? 0));
    }
  }
  return { perNode, perDomain, weight: Math.log(size + 2) };
}

/** NormalizeScore: fewer matching pods score higher; ignored nodes get 0. */
function normaliseReversed(raw: Map<string, number>, feasible: readonly Node[]): Map<string, number> {
  const values = [...raw.values()];
  const min = values.length ? Math.min(...values) : 0;
  const max = values.length ? Math.max(...values) : 0;
  const out = new Map<string, number>();
  for (const n of feasible) {
    const name = n.metadata?.name ?? '';
    const s = raw.get(name);
    if (s === undefined) out.set(name, 0);
    else out.set(name, max === 0 ? 100 : Math.trunc((100 * (max + min - s)) / max));
  }
  return out;
}
