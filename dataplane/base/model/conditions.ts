/** Status conditions (metav1.Condition-like lists keyed by type), as every controller sets them. */

/** Sets (adds or replaces) a condition; lastTransitionTime moves only when the status changes. */
export function withCondition<C extends { type: string; status: string; lastTransitionTime?: string }>(conditions: C[] | undefined, next: C, now: string): C[] {
  const list = conditions ?? [];
  const prior = list.find((c) => c.type === next.type);
  const merged = { ...next, lastTransitionTime: prior && prior.status === next.status ? (prior.lastTransitionTime ?? now) : now };
  return prior ? list.map((c) => (c.type === next.type ? merged : c)) : [...list, merged];
}
