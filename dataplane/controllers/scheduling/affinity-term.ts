/**
 * Pod affinity terms as the scheduler reads them (framework.AffinityTerm): the namespaces a term
 * looks in (its `namespaces`, those its `namespaceSelector` picks — `{}` picks all — or the
 * owning pod's own when both are unset), its label selector (a missing one matches nothing), and
 * `matchLabelKeys`/`mismatchLabelKeys` merged into it with the owning pod's label values, as the
 * 1.32 apiserver does when the pod is created (key In / NotIn the owner's value).
 */
import type { Pod, PodAffinityTerm, WeightedPodAffinityTerm } from 'kubernetes-types/core/v1.js';
import { labelSelectorRequirements, matchesRequirements, type Labels, type Requirement } from '../../base/model/selector.js';
import type { ClusterView } from './cluster-view.js';

export interface AffinityTerm {
  namespaces: ReadonlySet<string>;
  /** undefined: no namespaceSelector; []: every namespace. */
  namespaceSelector: Requirement[] | undefined;
  /** undefined: matches no pod. */
  selector: Requirement[] | undefined;
  topologyKey: string;
  weight: number;
}

export function affinityTerm(owner: Pod, term: PodAffinityTerm, weight = 1): AffinityTerm {
  const ownNs = owner.metadata?.namespace ?? 'default';
  const names = term.namespaces ?? [];
  const namespaces = new Set(names.length === 0 && !term.namespaceSelector ? [ownNs] : names);
  let selector = labelSelectorRequirements(term.labelSelector);
  if (selector && term.labelSelector) {
    const labels = owner.metadata?.labels ?? {};
    const extra: Requirement[] = [];
    for (const k of term.matchLabelKeys ?? []) if (k in labels) extra.push({ key: k, operator: 'In', values: [labels[k]!] });
    for (const k of term.mismatchLabelKeys ?? []) if (k in labels) extra.push({ key: k, operator: 'NotIn', values: [labels[k]!] });
    selector = [...selector, ...extra];
  }
  const namespaceSelector = term.namespaceSelector ? labelSelectorRequirements(term.namespaceSelector) ?? undefined : undefined;
  return { namespaces, namespaceSelector, selector, topologyKey: term.topologyKey, weight };
}

/** AffinityTerm.Matches: the pod is in one of the term's namespaces and its labels match. */
export function termMatches(term: AffinityTerm, pod: Pod, namespaceLabels: Labels): boolean {
  if (!term.selector) return false;
  const ns = pod.metadata?.namespace ?? 'default';
  const inNs = term.namespaces.has(ns) || (term.namespaceSelector !== undefined && matchesRequirements(term.namespaceSelector, namespaceLabels));
  return inNs && matchesRequirements(term.selector, pod.metadata?.labels);
}

/** Live bound pods the term selects, read through the view's indexes namespace by namespace. */
export function podsSelectedBy(term: AffinityTerm, view: ClusterView): Pod[] {
  if (!term.selector) return [];
  const namespaces = new Set(term.namespaces);
  if (term.namespaceSelector) for (const ns of view.namespaceNames()) if (matchesRequirements(term.namespaceSelector, view.namespaceLabels(ns))) namespaces.add(ns);
  const out: Pod[] = [];
  for (const ns of namespaces) for (const p of view.podsMatching(ns, term.selector)) if (matchesRequirements(term.selector, p.metadata?.labels)) out.push(p);
  return out;
}

export const requiredAffinityTerms = (pod: Pod) => (pod.spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => affinityTerm(pod, t));
export const requiredAntiAffinityTerms = (pod: Pod) => (pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => affinityTerm(pod, t));

const weighted = (pod: Pod, terms: WeightedPodAffinityTerm[] | undefined) => (terms ?? []).map((w) => affinityTerm(pod, w.podAffinityTerm, w.weight));
export const preferredAffinityTerms = (pod: Pod) => weighted(pod, pod.spec?.affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
export const preferredAntiAffinityTerms = (pod: Pod) => weighted(pod, pod.spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution);

/** A topology pair's map key. */
export const pairKey = (key: string, value: string) => `${key}\u0000${value}`;
