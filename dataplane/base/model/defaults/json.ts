/**
 * Small guards for walking manifests whose shape is not yet trusted: defaulting must not throw
 * on a manifest that validation is about to reject.
 */
export type JsonObject = Record<string, unknown>;

export function asObject(v: unknown): JsonObject | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
}

export function asObjects(v: unknown): JsonObject[] {
  return Array.isArray(v) ? v.map(asObject).filter((o): o is JsonObject => o !== undefined) : [];
}

/** The object at `o[key]`, created empty when absent; undefined when something else sits there. */
export function ensureObject(o: JsonObject, key: string): JsonObject | undefined {
  if (o[key] === undefined) o[key] = {};
  return asObject(o[key]);
}

/**
 * Set `o[key]` when unset, as Go defaulting fills zero values: absent, or "" for string fields
 * (Go cannot tell an empty string from a missing one). 0 counts as set: numeric defaults mostly
 * sit on pointer fields, where 0 is a real value.
 */
export function setDefault(o: JsonObject, key: string, value: unknown): void {
  if (o[key] === undefined || (typeof value === 'string' && o[key] === '')) o[key] = value;
}

/** A deep copy without null-valued fields: JSON null decodes to "unset" in the apiserver too. */
export function cloneWithoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cloneWithoutNulls);
  const o = asObject(v);
  if (!o) return v;
  const out: JsonObject = {};
  for (const [k, e] of Object.entries(o)) if (e !== null && e !== undefined) out[k] = cloneWithoutNulls(e);
  return out;
}
