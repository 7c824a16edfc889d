/**
 * Just enough of Kubernetes resource.Quantity to answer downward-API `resourceFieldRef`
 * env variables (limits.cpu, requests.memory… with a divisor), the way the kubelet's
 * ExtractContainerResourceValue rounds them: ceil(value / divisor).
 */
import type { Container } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../base/model/quantity.js';

export { parseQuantity };

/** What the node offers, used for limits a container leaves unset (the kubelet uses allocatable). */
export interface NodeAllocatable {
  cpu: number;
  memory: number;
  'ephemeral-storage': number;
}

/** The value of a resourceFieldRef such as `limits.cpu`, or an error message naming the resource. */
export function resourceFieldValue(
  container: Container,
  resource: string,
  divisor: string | number | undefined,
  node: NodeAllocatable,
): { value: string } | { error: string } {
  const [kind, name] = resource.split('.', 2) as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || !name || !(name in node)) {
    return { error: `unsupported container resource : ${resource}` };
  }
  const key = name as keyof NodeAllocatable;
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  let value: number | undefined;
  if (kind === 'limits') value = parseQuantity(limits[key]) ?? node[key];
  // The apiserver defaults an unset request to the limit; with neither it is zero.
  else value = parseQuantity(requests[key]) ?? parseQuantity(limits[key]) ?? 0;
  const div = parseQuantity(divisor) ?? 1;
  if (!(div > 0)) return { error: `invalid divisor ${String(divisor)} for ${resource}` };
  // Round away tiny float error before the ceiling (0.1/0.001 is 100.00000000000001).
  return { value: String(Math.ceil(Number((value / div).toPrecision(12)))) };
}
