/**
 * A pod's QoS class (k8s pkg/apis/core/helper/qos GetPodQOS): from the cpu and memory requests
 * and limits of all its containers. BestEffort: none set; Guaranteed: every container limits both
 * cpu and memory, and the summed requests equal the summed limits; Burstable otherwise. Pure.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity, sameQuantity } from './quantity.js';

export type PodQOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const COMPUTE = ['cpu', 'memory'];

export function podQOSClass(pod: Pod): PodQOSClass {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  const add = (into: Map<string, number>, name: string, value: number) => into.set(name, (into.get(name) ?? 0) + value);
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const [name, q] of Object.entries(c.resources?.requests ?? {})) {
      const v = parseQuantity(q as string);
      if (COMPUTE.includes(name) && v !== undefined && v > 0) add(requests, name, v);
    }
    const limited = new Set<string>();
    for (const [name, q] of Object.entries(c.resources?.limits ?? {})) {
      const v = parseQuantity(q as string);
      if (COMPUTE.includes(name) && v !== undefined && v > 0) {
        limited.add(name);
        add(limits, name, v);
      }
    }
    if (!COMPUTE.every((n) => limited.has(n))) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (lim === undefined || !sameQuantity(lim, req)) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
