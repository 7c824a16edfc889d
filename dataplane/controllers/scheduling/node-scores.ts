/**
 * The node-only scores of the default profile: NodeAffinity (the weights of the matched
 * `preferredDuringSchedulingIgnoredDuringExecution` terms) and TaintToleration (PreferNoSchedule
 * taints the pod does not tolerate, fewer is better), each normalised as upstream's
 * helper.DefaultNormalizeScore does, and the default plugin weights that combine every score.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { matchesNodeRequirement, tolerates } from '../node-fit.js';

/** The 1.32 default profile's score weights (apis/config/v1 default_plugins.go). */
export const SCORE_WEIGHTS = { taintToleration: 3, nodeAffinity: 2, podTopologySpread: 2, interPodAffinity: 2 } as const;

/** NodeAffinity Score: the summed weights of the preferred terms the node matches. */
export function preferredNodeAffinityScore(pod: Pod, node: Node): number {
  const labels = node.metadata?.labels ?? {};
  let score = 0;
  for (const p of pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    const exprs = p.preference?.matchExpressions ?? [];
    const fields = p.preference?.matchFields ?? [];
    // An empty preference term matches no node (nodeaffinity.NewPreferredSchedulingTerms).
    if (p.weight === 0 || (exprs.length === 0 && fields.length === 0)) continue;
    const ok = exprs.every((r) => matchesNodeRequirement(r, labels)) && fields.every((r) => r.key === 'metadata.name' && matchesNodeRequirement(r, { 'metadata.name': node.metadata?.name ?? '' }));
    if (ok) score += p.weight;
  }
  return score;
}

/** TaintToleration Score: the PreferNoSchedule taints the pod does not tolerate. */
export function intolerablePreferNoSchedule(pod: Pod, node: Node): number {
  const tolerations = (pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
  return (node.spec?.taints ?? []).filter((t) => t.effect === 'PreferNoSchedule' && !tolerates(tolerations, t)).length;
}

/** helper.DefaultNormalizeScore(100, reverse): scale by the maximum; reversed, fewer is better. */
export function defaultNormalise(raw: Map<string, number>, reverse: boolean): Map<string, number> {
  const max = Math.max(0, ...raw.values());
  return new Map(
    [...raw].map(([n, s]) => {
      if (max === 0) return [n, reverse ? 100 : 0];
      const v = Math.trunc((100 * s) / max);
      return [n, reverse ? 100 - v : v];
    }),
  );
}
