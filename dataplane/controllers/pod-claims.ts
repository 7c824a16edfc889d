/**
 * The scheduler's VolumeBinding PreFilter, as far as knet goes: a pod whose
 * `persistentVolumeClaim` volumes name a missing claim, a claim being deleted, or an unbound claim
 * of an Immediate class is unschedulable on every node, with the plugin's message. A claim of a
 * WaitForFirstConsumer class lets the pod through (the PV controller binds it once a pod uses it).
 */
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { isDelayBinding } from './pv-sync.js';

export interface ClaimLookup {
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  storageClass(name: string): StorageClass | undefined;
}

/** Why the pod's claims keep it off every node (the PreFilter status message), or undefined. */
export function podClaimsProblem(pod: Pod, lookup: ClaimLookup): string | undefined {
  const ns = pod.metadata?.namespace ?? 'default';
  let unboundImmediate = false;
  for (const v of pod.spec?.volumes ?? []) {
    const name = v.persistentVolumeClaim?.claimName;
    if (name === undefined) continue;
    const claim = lookup.claim(ns, name);
    if (!claim) return `persistentvolumeclaim "${name}" not found`;
    if (claim.metadata?.deletionTimestamp) return `persistentvolumeclaim "${name}" is being deleted`;
    if (claim.status?.phase === 'Lost') return `persistentvolumeclaim "${name}" bound to non-existent persistentvolume "${claim.spec?.volumeName ?? ''}"`;
    if (!claim.spec?.volumeName && !isDelayBinding(claim, lookup)) unboundImmediate = true;
  }
  return unboundImmediate ? 'pod has unbound immediate PersistentVolumeClaims' : undefined;
}

/**
 * "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2
 * nodes are available: 2 Preemption is not helpful for scheduling.." — a PreFilter rejection as
 * FitError words it (every node UnschedulableAndUnresolvable for preemption).
 */
export function preFilterMessage(nodes: number, problem: string, pod?: Pod): string {
  const preemption = pod?.spec?.preemptionPolicy === 'Never' ? 'not eligible due to preemptionPolicy=Never.' : `0/${nodes} nodes are available: ${nodes} Preemption is not helpful for scheduling.`;
  return `0/${nodes} nodes are available: ${problem}. preemption: ${preemption}.`;
}
