/**
 * Whether a pod may run on a node, as the scheduler's filter plugins decide it (NodeName,
 * NodeUnschedulable, NodeAffinity incl. nodeSelector, TaintToleration, and readiness). Each
 * failure is reported with the scheduler's own wording so FailedScheduling events read as
 * in Kubernetes: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."
 */
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';

export type FitFailure =
  | 'not-ready'
  | 'unschedulable'
  | 'node-name'
  | 'affinity'
  | 'taint'
  | 'ports'
  | 'spread'
  | 'spread-label'
  | 'pod-affinity'
  | 'pod-anti-affinity'
  | 'existing-anti-affinity';

export function isNodeReady(node: Node): boolean {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
}

/** The first reason the node cannot take the pod, or undefined when it fits. */
export function podFitFailure(pod: Pod, node: Node, opts: { ignoreReadiness?: boolean } = {}): { reason: FitFailure; detail?: string } | undefined {
  const spec = pod.spec ?? { containers: [] };
  if (spec.nodeName && spec.nodeName !== node.metadata?.name) return { reason: 'node-name' };
  if (!opts.ignoreReadiness && !isNodeReady(node)) {
    // Kubernetes keeps NotReady nodes out with a taint; name the one it would carry.
    const unknown = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'Unknown';
    return { reason: 'not-ready', detail: unknown ? 'node.kubernetes.io/unreachable' : 'node.kubernetes.io/not-ready' };
  }
  if (node.spec?.unschedulable && !tolerates(spec.tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) return { reason: 'unschedulable' };
  if (!matchesNodeSelector(pod, node)) return { reason: 'affinity' };
  const untolerated = (node.spec?.taints ?? []).find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(spec.tolerations, t));
  if (untolerated) return { reason: 'taint', detail: `{${untolerated.key}: ${untolerated.value ?? ''}}` };
  return undefined;
}

/** nodeSelector and requiredDuringSchedulingIgnoredDuringExecution node affinity. */
export function matchesNodeSelector(pod: Pod, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms === undefined) return true;
  // Terms are ORed; an empty term matches nothing (v1 NodeSelectorTerm semantics).
  return terms.some((t) => matchesTerm(t, node));
}

function matchesTerm(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  return exprs.every((r) => matchesNodeRequirement(r, labels)) && fields.every((r) => r.key === 'metadata.name' && matchesNodeRequirement(r, { 'metadata.name': node.metadata?.name ?? '' }));
}

export function matchesNodeRequirement(r: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(value!);
    case 'NotIn':
      return !has || !values.includes(value!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1) return false;
      const n = Number.parseInt(value!, 10);
      const bound = Number.parseInt(values[0]!, 10);
      if (!Number.isFinite(n) || !Number.isFinite(bound)) return false;
      return r.operator === 'Gt' ? n > bound : n < bound;
    }
    default:
      return false;
  }
}

/** v1.Toleration.ToleratesTaint for any toleration in the list. */
export function tolerates(tolerations: Toleration[] | undefined, taint: Pick<Taint, 'key' | 'value' | 'effect'>): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

/** The host ports a pod asks for ("TCP/0.0.0.0/8080"), as the NodePorts plugin reads them (hostNetwork pods: every container port). */
export function hostPorts(pod: Pod): Array<{ protocol: string; ip: string; port: number }> {
  return (pod.spec?.containers ?? []).flatMap((c) =>
    (c.ports ?? [])
      .map((p) => ({ protocol: p.protocol ?? 'TCP', ip: p.hostIP || '0.0.0.0', port: p.hostPort ?? (pod.spec?.hostNetwork ? p.containerPort : 0) }))
      .filter((p) => p.port > 0),
  );
}

/**
 * The NodePorts filter: another pod on the node (not finished) already holds one of this pod's
 * host ports — same protocol and port, on the same address or either on 0.0.0.0.
 */
export function hostPortConflict(pod: Pod, podsOnNode: Pod[]): boolean {
  const wanted = hostPorts(pod);
  if (!wanted.length) return false;
  const used = podsOnNode.filter((p) => p.metadata?.uid !== pod.metadata?.uid && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').flatMap(hostPorts);
  return wanted.some((w) => used.some((u) => u.protocol === w.protocol && u.port === w.port && (u.ip === w.ip || u.ip === '0.0.0.0' || w.ip === '0.0.0.0')));
}

/**
 * The FitError message: "0/3 nodes are available: 1 node(s) were not ready, 2 node(s) didn't
 * match …. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.."
 * — the filter reasons counted and sorted, then what DefaultPreemption's PostFilter said (its
 * own FitError, hence upstream's doubled full stop).
 */
export function unschedulableMessage(total: number, failures: Array<{ reason: FitFailure; detail?: string }>, pod?: Pod): string {
  if (total === 0) return 'no nodes available to schedule pods';
  const phrases = new Map<string, number>();
  for (const f of failures) {
    const phrase = PHRASES[f.reason](f.detail);
    phrases.set(phrase, (phrases.get(phrase) ?? 0) + 1);
  }
  const parts = [...phrases].map(([p, n]) => `${n} ${p}`).sort();
  return `0/${total} nodes are available: ${parts.join(', ')}. preemption: ${preemptionMessage(total, failures, pod)}.`;
}

/**
 * What DefaultPreemption reports when it finds no victims: nodes whose failure preemption
 * cannot cure (UnschedulableAndUnresolvable) are "not helpful", the others have no pod of lower
 * priority to evict (knet does not preempt: every pod is taken to have the same priority).
 */
export function preemptionMessage(total: number, failures: Array<{ reason: FitFailure }>, pod?: Pod): string {
  if (pod?.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
  const noVictims = failures.filter((f) => PREEMPTION_MIGHT_HELP.has(f.reason)).length;
  const parts = [
    ...(noVictims ? [`${noVictims} No preemption victims found for incoming pod`] : []),
    ...(total - noVictims ? [`${total - noVictims} Preemption is not helpful for scheduling`] : []),
  ].sort();
  return `0/${total} nodes are available: ${parts.join(', ')}.`;
}

/** Failures a filter plugin reports as Unschedulable (not …AndUnresolvable): evicting a pod could cure them. */
const PREEMPTION_MIGHT_HELP = new Set<FitFailure>(['ports', 'spread', 'pod-anti-affinity', 'existing-anti-affinity']);

const PHRASES: Record<FitFailure, (detail?: string) => string> = {
  'not-ready': (d) => `node(s) had untolerated taint {${d ?? 'node.kubernetes.io/not-ready'}: }`,
  unschedulable: () => 'node(s) were unschedulable',
  'node-name': () => "node(s) didn't match the requested node name",
  affinity: () => "node(s) didn't match Pod's node affinity/selector",
  taint: (d) => `node(s) had untolerated taint ${d ?? ''}`,
  ports: () => "node(s) didn't have free ports for the requested pod ports",
  spread: () => "node(s) didn't match pod topology spread constraints",
  'spread-label': () => "node(s) didn't match pod topology spread constraints (missing required label)",
  'pod-affinity': () => "node(s) didn't match pod affinity rules",
  'pod-anti-affinity': () => "node(s) didn't match pod anti-affinity rules",
  'existing-anti-affinity': () => "node(s) didn't satisfy existing pods anti-affinity rules",
};
