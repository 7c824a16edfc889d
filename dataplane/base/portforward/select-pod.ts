/**
 * Which pod a port-forward (or `logs`, `exec`) on `svc/NAME`, `deploy/NAME` or `pod/NAME` reaches,
 * as kubectl picks it client-side (polymorphichelpers.AttachablePodForObject): the named pod, or
 * the "most active" of those the Service or workload selects. And when a forward to it is over.
 */
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { KObject } from '../model/object.js';
import { matchesLabelSelector, matchesServiceSelector } from '../model/selector.js';
import type { ObjectStore } from '../store/object-store.js';
import { resolveKind } from '../printers/resources.js';

/**
 * kubectl's choice among a Service's or workload's pods (sort.Reverse(ActivePods)): assigned
 * to a node, Running, Ready, ready the longest, fewest restarts, oldest. knet also puts pods
 * being deleted last, since the forward would end as soon as it began.
 */
export function mostActivePod(pods: readonly Pod[]): Pod | undefined {
  const phase = (p: Pod) => ({ Running: 2, Unknown: 1, Pending: 0 })[p.status?.phase ?? 'Pending'] ?? -1;
  const readySince = (p: Pod) => {
    const c = p.status?.conditions?.find((x) => x.type === 'Ready' && x.status === 'True');
    return c ? Date.parse(c.lastTransitionTime ?? '') || Infinity : undefined;
  };
  const restarts = (p: Pod) => Math.max(0, ...(p.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
  const created = (p: Pod) => Date.parse(p.metadata?.creationTimestamp ?? '') || Infinity;
  const keys = (p: Pod): number[] => {
    const ready = readySince(p);
    return [p.metadata?.deletionTimestamp ? 1 : 0, p.spec?.nodeName ? 0 : 1, -phase(p), ready === undefined ? 1 : 0, ready ?? 0, restarts(p), created(p)];
  };
  return [...pods].sort((a, b) => {
    const ka = keys(a);
    const kb = keys(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
    return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
  })[0];
}

export interface AttachTarget {
  pod: Pod;
  service?: Service;
}

/** The pod to forward to (or read the logs of), waiting up to timeoutMs for a Service's or workload's first pod. */
export async function attachablePod(store: ObjectStore, namespace: string, ref: string, timeoutMs: number): Promise<AttachTarget> {
  const [kindArg, name] = ref.includes('/') ? ref.split('/', 2) : ['pod', ref];
  if (!name) throw new Error(`expected TYPE/NAME or a pod name, got "${ref}"`);
  const kind = resolveKind(kindArg!);
  if (kind === 'Pod') {
    const pod = await store.get<Pod>('Pod', namespace, name);
    if (!pod) throw new Error(`pods "${name}" not found`);
    return { pod };
  }
  if (!['Service', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet'].includes(kind)) throw new Error(`cannot attach to ${kind}: not implemented`);
  const obj = await store.get<KObject & { spec?: { selector?: unknown } }>(kind, namespace, name);
  if (!obj) throw new Error(`${kind.toLowerCase()}s${kind === 'Service' ? '' : '.apps'} "${name}" not found`);
  const service = kind === 'Service' ? (obj as Service) : undefined;
  if (service && !Object.keys(service.spec?.selector ?? {}).length) throw new Error(`invalid service '${name}': Service is defined without a selector`);
  const selects = (p: Pod) =>
    service ? matchesServiceSelector(service.spec?.selector, p.metadata?.labels) : matchesLabelSelector(obj.spec?.selector as LabelSelector | undefined, p.metadata?.labels);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pods = ((await store.list<Pod>('Pod', namespace)).items as Pod[]).filter(selects);
    const pod = mostActivePod(pods);
    if (pod) return service ? { pod, service } : { pod };
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition');
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Whether a forward to `pod` is over given what the pod is now (undefined: deleted): gone,
 * replaced by another of the same name, or finished. Its listeners are gone then, as the
 * pod's network namespace is in a cluster.
 */
export function forwardLost(pod: Pod, now: Pod | undefined): boolean {
  return !now || now.metadata?.uid !== pod.metadata?.uid || now.status?.phase === 'Succeeded' || now.status?.phase === 'Failed';
}
