/**
 * JSON values as patches see them (the `map[string]interface{}` / `[]interface{}` of
 * apimachinery), and the few Go behaviours the patch algorithms depend on: which JSON type a
 * value has, deep equality, and `fmt.Sprintf("%v", x)` (merge-key values and scalars are
 * ordered by that string).
 */
export type Json = null | boolean | number | string | Json[] | JsonMap;
export interface JsonMap {
  [key: string]: Json;
}

export const isMap = (v: unknown): v is JsonMap => typeof v === 'object' && v !== null && !Array.isArray(v);

export type JsonKind = 'null' | 'boolean' | 'number' | 'string' | 'list' | 'map';

/** The JSON type of a value (Go's reflect.TypeOf on a decoded document). */
export function jsonKind(v: Json | undefined): JsonKind {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'map';
  return typeof v as 'boolean' | 'number' | 'string';
}

export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a)) {
    if (!isMap(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** A deep copy: the patch algorithms mutate what they are given, as upstream's do. */
export const clone = <T extends Json | undefined>(v: T): T => (v === undefined ? v : (structuredClone(v) as T));

/** Go's %v of a float64: %g with the shortest digits, so 1000000 is "1e+06" and 0.00001 is "1e-05". */
function goFloat(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [digits, expPart] = n.toExponential().split('e') as [string, string];
  const exp = Number(expPart);
  if (exp < -4 || exp >= 6) {
    const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : `${Math.abs(exp)}`;
    return `${digits}e${exp < 0 ? '-' : '+'}${e}`;
  }
  return String(n);
}

/** Go's `fmt.Sprintf("%v", v)` for a decoded JSON value (maps and lists only in messages). */
export function goString(v: Json | undefined): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  return `map[${Object.keys(v)
    .sort()
    .map((k) => `${k}:${goString(v[k])}`)
    .join(' ')}]`;
}
