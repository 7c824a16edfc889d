/**
 * Where a pod lands: the scheduler's pure core, kube-scheduler's default profile reduced to what
 * knet models. Filters, per node, in upstream's order, the first failure counting: readiness,
 * cordon, node name, nodeSelector/required node affinity, taints (node-fit.ts), NodePorts,
 * PodTopologySpread, InterPodAffinity. Scores over the feasible nodes, each normalised to
 * 0–100 and weighted as the default profile weighs them: TaintToleration ×3, NodeAffinity ×2,
 * PodTopologySpread ×2 (the pod's ScheduleAnyway constraints, or the system default spreading),
 * InterPodAffinity ×2. Upstream picks at random among the best; knet prefers the node with the
 * fewest pods (what NodeResourcesFit's LeastAllocated does for pods with default requests),
 * then the first by name.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { hostPortConflict, hostPorts, podFitFailure, unschedulableMessage, type FitFailure } from '../node-fit.js';
import type { ClusterView } from './cluster-view.js';
import { interPodAffinityFilter, interPodAffinityScores, interPodAffinityState } from './inter-pod-affinity.js';
import { defaultNormalise, intolerablePreferNoSchedule, preferredNodeAffinityScore, SCORE_WEIGHTS } from './node-scores.js';
import { spreadFilter, spreadFilterState, spreadScores } from './topology-spread.js';

export type SchedulingDecision = { nodeName: string } | { unschedulable: string };

export function schedulePod(pod: Pod, view: ClusterView): SchedulingDecision {
  const { feasible, failures } = filterNodes(pod, view);
  if (feasible.length === 0) return { unschedulable: unschedulableMessage(view.nodes.length, failures, pod) };
  // One feasible node: upstream skips scoring.
  if (feasible.length === 1) return { nodeName: nameOf(feasible[0]!) };
  const scores = scoreNodes(pod, view, feasible);
  const ranked = [...feasible].sort(
    (a, b) =>
      scores.get(nameOf(b))! - scores.get(nameOf(a))! ||
      view.podsOn(nameOf(a)).length - view.podsOn(nameOf(b)).length ||
      nameOf(a).localeCompare(nameOf(b), 'en', { numeric: true }),
  );
  return { nodeName: nameOf(ranked[0]!) };
}

const nameOf = (n: Node) => n.metadata?.name ?? '';

/** The Filter phase: the nodes that fit, and why each other one does not. */
export function filterNodes(pod: Pod, view: ClusterView): { feasible: Node[]; failures: Array<{ reason: FitFailure; detail?: string }> } {
  const failures: Array<{ reason: FitFailure; detail?: string }> = [];
  const feasible: Node[] = [];
  const wantsHostPorts = hostPorts(pod).length > 0;
  const spread = spreadFilterState(pod, view);
  const affinity = interPodAffinityState(pod, view);
  for (const node of view.nodes) {
    const failure =
      podFitFailure(pod, node) ??
      (wantsHostPorts && hostPortConflict(pod, view.podsOn(nameOf(node))) ? { reason: 'ports' as const } : undefined) ??
      optional(spreadFilter(spread, pod, node)) ??
      optional(interPodAffinityFilter(affinity, node));
    if (failure) failures.push(failure);
    else feasible.push(node);
  }
  return { feasible, failures };
}

const optional = (reason: FitFailure | undefined) => (reason ? { reason } : undefined);

/** The Score phase: each feasible node's weighted sum of normalised plugin scores. */
export function scoreNodes(pod: Pod, view: ClusterView, feasible: readonly Node[]): Map<string, number> {
  const nodeAffinity = defaultNormalise(new Map(feasible.map((n) => [nameOf(n), preferredNodeAffinityScore(pod, n)])), false);
  const taints = defaultNormalise(new Map(feasible.map((n) => [nameOf(n), intolerablePreferNoSchedule(pod, n)])), true);
  const spread = spreadScores(pod, view, feasible);
  const interPod = interPodAffinityScores(pod, view, feasible);
  const total = new Map<string, number>();
  for (const n of feasible) {
    const name = nameOf(n);
    total.set(
      name,
      SCORE_WEIGHTS.taintToleration * taints.get(name)! +
        SCORE_WEIGHTS.nodeAffinity * nodeAffinity.get(name)! +
        SCORE_WEIGHTS.podTopologySpread * (spread?.get(name) ?? 0) +
        SCORE_WEIGHTS.interPodAffinity * interPod.get(name)!,
    );
  }
  return total;
}
