/**
 * Printers of the kinds that bound what pods may use or lose (k8s
 * pkg/printers/internalversion/printers.go printResourceQuota, printPodDisruptionBudget,
 * printPriorityClass; LimitRange has no printer upstream: the default table). A quota's REQUEST
 * and LIMIT come from its status, which only a quota controller writes (knet has none).
 */
import type { ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import { age } from './age.js';
import { AGE, DEFAULT_TABLE, NAME, col, int, type Printer } from './columns.js';

/** "requests.cpu: 0/1, pods: 1/10" and "limits.cpu: 0/2": status.hard by name, used/hard each. */
export function quotaColumns(q: ResourceQuota): [string, string] {
  const hard = q.status?.hard ?? {};
  const used = q.status?.used ?? {};
  const request: string[] = [];
  const limit: string[] = [];
  for (const name of Object.keys(hard).sort()) {
    const pieces = name.split('.');
    (pieces.length > 1 && pieces[0] === 'limits' ? limit : request).push(`${name}: ${used[name] ?? '0'}/${hard[name]}`);
  }
  return [request.join(', '), limit.join(', ')];
}

const intOrString = (v: number | string | undefined): string => (v === undefined ? 'N/A' : String(v));

export const POLICY_PRINTERS = {
  LimitRange: DEFAULT_TABLE,
  ResourceQuota: {
    columns: [
      NAME,
      col('Request', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
      col('Limit', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
      AGE,
    ],
    cells: (o) => [o.metadata!.name!, ...quotaColumns(o as ResourceQuota), age(o.metadata?.creationTimestamp)],
  },
  PodDisruptionBudget: {
    columns: [
      NAME,
      col('Min Available', 'The minimum number of pods that must be available.'),
      col('Max Unavailable', 'The maximum number of pods that may be unavailable.'),
      int('Allowed Disruptions', 'Calculated number of pods that may be disrupted at this time.'),
      AGE,
    ],
    cells: (o) => {
      const p = o as PodDisruptionBudget;
      return [p.metadata!.name!, intOrString(p.spec?.minAvailable), intOrString(p.spec?.maxUnavailable), p.status?.disruptionsAllowed ?? 0, age(p.metadata?.creationTimestamp)];
    },
  },
  PriorityClass: {
    columns: [
      NAME,
      int('Value', 'value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.'),
      col('Global-Default', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.', { type: 'boolean' }),
      AGE,
      // Priority 0 upstream, filled because the apiserver prints wide: `kubectl get pc` shows it.
      col('PreemptionPolicy', 'preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.'),
    ],
    cells: (o) => {
      const pc = o as unknown as PriorityClass;
      return [pc.metadata!.name!, pc.value, pc.globalDefault ? 'true' : 'false', age(pc.metadata?.creationTimestamp), pc.preemptionPolicy ?? ''];
    },
  },
} satisfies Record<string, Printer>;
