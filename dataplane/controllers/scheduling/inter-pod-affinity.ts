/**
 * The InterPodAffinity plugin (kube-scheduler 1.32, pkg/scheduler/framework/plugins/interpodaffinity).
 *
 * Filter: the incoming pod's required podAffinity (a node qualifies when, for every term, its
 * topology domain holds a pod matching all the terms — or when no pod anywhere matches and the
 * pod matches its own terms, so the first of a self-affine group can start), its required
 * podAntiAffinity (no matching pod in the node's domain of a term), and the symmetric check:
 * no pod already placed has a required anti-affinity term the incoming pod matches in the
 * node's domain.
 *
 * Score: for each node, the weights of the incoming pod's preferred terms (anti: negative)
 * matched by pods in the node's domains, plus the existing pods' own preferred terms matched by
 * the incoming pod and their required affinity terms (hardPodAffinityWeight 1); min-max
 * normalised to 0–100.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Labels } from '../../base/model/selector.js';
import {
  pairKey,
  podsSelectedBy,
  preferredAffinityTerms,
  preferredAntiAffinityTerms,
  requiredAffinityTerms,
  requiredAntiAffinityTerms,
  termMatches,
  type AffinityTerm,
} from './affinity-term.js';
import type { ClusterView } from './cluster-view.js';

export type InterPodAffinityFailure = 'pod-affinity' | 'pod-anti-affinity' | 'existing-anti-affinity';

/** PreFilter's state: counts per topology pair (`pairKey`). */
export interface InterPodAffinityState {
  affinityTerms: AffinityTerm[];
  antiAffinityTerms: AffinityTerm[];
  affinityCounts: Map<string, number>;
  antiAffinityCounts: Map<string, number>;
  existingAntiAffinityCounts: Map<string, number>;
  /** The pod matches all its own required affinity terms. */
  selfAffine: boolean;
}

const labelsOf = (node: Node | undefined): Record<string, string> => node?.metadata?.labels ?? {};
const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

/** PreFilter; undefined when there is nothing to check (upstream's Skip). */
export function interPodAffinityState(pod: Pod, view: ClusterView): InterPodAffinityState | undefined {
  const affinityTerms = requiredAffinityTerms(pod);
  const antiAffinityTerms = requiredAntiAffinityTerms(pod);
  const podNsLabels = view.namespaceLabels(pod.metadata?.namespace ?? 'default');
  const existingAntiAffinityCounts = new Map<string, number>();
  for (const node of view.nodes) {
    const labels = labelsOf(node);
    for (const existing of view.podsWithAffinityOn(node.metadata?.name ?? '')) {
      for (const t of requiredAntiAffinityTerms(existing)) {
        if (t.topologyKey in labels && termMatches(t, pod, podNsLabels)) bump(existingAntiAffinityCounts, pairKey(t.topologyKey, labels[t.topologyKey]!));
      }
    }
  }
  if (affinityTerms.length === 0 && antiAffinityTerms.length === 0 && existingAntiAffinityCounts.size === 0) return undefined;

  const affinityCounts = new Map<string, number>();
  if (affinityTerms.length > 0) {
    // A pod counts for affinity only when it matches every term; the first term's matches are the candidates.
    for (const p of podsSelectedBy(affinityTerms[0]!, view)) {
      const nsLabels = view.namespaceLabels(p.metadata?.namespace ?? 'default');
      if (!affinityTerms.every((t) => termMatches(t, p, nsLabels))) continue;
      const labels = labelsOf(view.node(p.spec?.nodeName ?? ''));
      for (const t of affinityTerms) if (t.topologyKey in labels) bump(affinityCounts, pairKey(t.topologyKey, labels[t.topologyKey]!));
    }
  }
  const antiAffinityCounts = new Map<string, number>();
  for (const t of antiAffinityTerms) {
    for (const p of podsSelectedBy(t, view)) {
      const labels = labelsOf(view.node(p.spec?.nodeName ?? ''));
      if (t.topologyKey in labels) bump(antiAffinityCounts, pairKey(t.topologyKey, labels[t.topologyKey]!));
    }
  }
  const selfAffine = affinityTerms.length > 0 && affinityTerms.every((t) => termMatches(t, pod, podNsLabels));
  return { affinityTerms, antiAffinityTerms, affinityCounts, antiAffinityCounts, existingAntiAffinityCounts, selfAffine };
}

/** Filter: why the node fails, or undefined. */
export function interPodAffinityFilter(state: InterPodAffinityState | undefined, node: Node): InterPodAffinityFailure | undefined {
  if (!state) return undefined;
  const labels = labelsOf(node);
  if (!satisfiesPodAffinity(state, labels)) return 'pod-affinity';
  for (const t of state.antiAffinityTerms) {
    if (t.topologyKey in labels && (state.antiAffinityCounts.get(pairKey(t.topologyKey, labels[t.topologyKey]!)) ?? 0) > 0) return 'pod-anti-affinity';
  }
  if (state.existingAntiAffinityCounts.size > 0) {
    for (const [k, v] of Object.entries(labels)) if ((state.existingAntiAffinityCounts.get(pairKey(k, v)) ?? 0) > 0) return 'existing-anti-affinity';
  }
  return undefined;
}

function satisfiesPodAffinity(state: InterPodAffinityState, labels: Record<string, string>): boolean {
  let podsExist = true;
  for (const t of state.affinityTerms) {
    // Every topology label must exist on the node.
    if (!(t.topologyKey in labels)) return false;
    if ((state.affinityCounts.get(pairKey(t.topologyKey, labels[t.topologyKey]!)) ?? 0) <= 0) podsExist = false;
  }
  // The first pod of a group affine to itself: nothing matches anywhere yet, so it may go anywhere.
  return podsExist || (state.affinityCounts.size === 0 && state.selfAffine);
}

/** Score + NormalizeScore over the feasible nodes: node name → 0..100. */
export function interPodAffinityScores(pod: Pod, view: ClusterView, feasible: readonly Node[]): Map<string, number> {
  const topoScore = new Map<string, number>();
  const add = (t: AffinityTerm, weight: number, node: Node | undefined) => {
    const labels = labelsOf(node);
    if (t.topologyKey in labels) {
      const k = pairKey(t.topologyKey, labels[t.topologyKey]!);
      topoScore.set(k, (topoScore.get(k) ?? 0) + weight);
    }
  };
  // The incoming pod's preferred terms, each over the pods it selects.
  for (const [terms, sign] of [[preferredAffinityTerms(pod), 1], [preferredAntiAffinityTerms(pod), -1]] as const) {
    for (const t of terms) for (const p of podsSelectedBy(t, view)) add(t, sign * t.weight, view.node(p.spec?.nodeName ?? ''));
  }
  // The existing pods' terms that the incoming pod matches.
  const podNsLabels: Labels = view.namespaceLabels(pod.metadata?.namespace ?? 'default');
  for (const node of view.nodes) {
    if (Object.keys(labelsOf(node)).length === 0) continue;
    for (const existing of view.podsWithAffinityOn(node.metadata?.name ?? '')) {
      const hard = requiredAffinityTerms(existing).map((t) => [t, HARD_POD_AFFINITY_WEIGHT] as const);
      const soft = preferredAffinityTerms(existing).map((t) => [t, t.weight] as const);
      const softAnti = preferredAntiAffinityTerms(existing).map((t) => [t, -t.weight] as const);
      for (const [t, w] of [...hard, ...soft, ...softAnti]) if (termMatches(t, pod, podNsLabels)) add(t, w, node);
    }
  }
  const raw = new Map<string, number>();
  for (const n of feasible) {
    let s = 0;
    for (const [k, v] of Object.entries(labelsOf(n))) s += topoScore.get(pairKey(k, v)) ?? 0;
    raw.set(n.metadata?.name ?? '', s);
  }
  return minMaxNormalise(raw);
}

/** InterPodAffinityArgs.hardPodAffinityWeight's default. */
const HARD_POD_AFFINITY_WEIGHT = 1;

function minMaxNormalise(raw: Map<string, number>): Map<string, number> {
  const values = [...raw.values()];
  const min = Math.min(...values);
  const diff = Math.max(...values) - min;
  return new Map([...raw].map(([n, s]) => [n, diff > 0 ? Math.trunc((100 * (s - min)) / diff) : 0]));
}
