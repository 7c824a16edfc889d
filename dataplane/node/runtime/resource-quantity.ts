/**
 * Just enough of Kubernetes resource.Quantity to answer downward-API `resourceFieldRef`
 * env variables (limits.cpu, requests.memory… with a divisor), the way the kubelet's
 * ExtractContainerResourceValue rounds them: ceil(value / divisor).
 */
import type { Container } from 'kubernetes-types/core/v1.js';

const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1,
  k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** "500m" → 0.5, "128Mi" → 134217728, "1e3" → 1000. Returns undefined for text that is no quantity. */
export function parseQuantity(text: string | number | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (typeof text === 'number') return text;
  const m = /^([+-]?[0-9.]+)(?:([eE][+-]?[0-9]+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/.exec(text.trim());
  if (!m) return undefined;
  const base = Number(m[1]);
  if (Number.isNaN(base)) return undefined;
  if (m[2]) return base * 10 ** Number(m[2].slice(1));
  return base * SUFFIX[m[3] ?? '']!;
}

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
