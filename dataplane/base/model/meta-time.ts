/**
 * A metav1.Time as the apiserver writes one: RFC 3339 in UTC to the whole second
 * ("2026-12-07T09:59:44Z"). Go's metav1.Time drops the fraction when it serializes, so a
 * timestamp with milliseconds is something no real cluster shows: kubectl would print
 * "09:59:44.098" in `describe`, and clients comparing times would see what they never see.
 */
export function metaTime(at: Date | number = Date.now()): string {
  const ms = typeof at === 'number' ? at : at.getTime();
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * A metav1.MicroTime as the apiserver writes one (events.k8s.io's `eventTime`,
 * `series.lastObservedTime`): RFC 3339 in UTC with six fractional digits.
 */
export function microTime(at: Date | number = Date.now()): string {
  const ms = typeof at === 'number' ? at : at.getTime();
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
