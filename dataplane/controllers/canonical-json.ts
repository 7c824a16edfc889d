/**
 * Canonical JSON: object keys sorted at every level, so two objects that differ only in key
 * order compare equal. Controllers compare desired and current state this way and write
 * nothing when they match (a write would bump resourceVersion and wake every watcher).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      // undefined members vanish in JSON anyway; dropping them here keeps `{a: undefined}` equal to `{}`.
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}
