/**
 * Strict field checking, as kubectl's default (`--validate=strict`) asks the apiserver to do:
 * every field the API defines is accepted, anything else is reported as
 * `unknown field "spec.template.spec.containers[0].foo"`.
 *
 * Values of the wrong shape (a string where an object belongs) are skipped here: the type check
 * (type-check.ts) reports them.
 */
import { fieldsOf, rootRef, shapeOf } from './known-fields.js';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function join(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

function walk(ref: string, value: unknown, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  switch (shapeOf(ref)) {
    case 'scalar':
    case 'free':
      return;
    case 'array':
      if (Array.isArray(value)) value.forEach((v, i) => walk(ref.slice(2), v, `${path}[${i}]`, out));
      return;
    case 'map':
      if (isPlainObject(value)) {
        for (const [k, v] of Object.entries(value)) walk(ref.slice(2), v, `${path}[${k}]`, out);
      }
      return;
    case 'object': {
      const fields = fieldsOf(ref);
      if (!fields || !isPlainObject(value)) return;
      for (const [k, v] of Object.entries(value)) {
        const child = Object.prototype.hasOwnProperty.call(fields, k) ? fields[k] : undefined;
        if (child === undefined) out.push(join(path, k));
        else walk(child, v, join(path, k), out);
      }
    }
  }
}

/**
 * Paths of the fields in `obj` that the API does not define for `kind`, in document order.
 * Kinds without a field tree yield no paths (the caller reports the kind itself).
 */
export function unknownFields(kind: string, obj: unknown): string[] {
  const root = rootRef(kind);
  if (root === undefined) return [];
  const out: string[] = [];
  walk(root, obj, '', out);
  return out;
}

/**
 * The object without the fields the API does not define for `kind` (what the apiserver's
 * decoder drops under fieldValidation=Ignore or Warn), and the paths it dropped. Pure: `obj`
 * is left alone.
 */
export function pruneUnknownFields<T>(kind: string, obj: T): { object: T; pruned: string[] } {
  const pruned = unknownFields(kind, obj);
  if (pruned.length === 0) return { object: obj, pruned };
  const root = rootRef(kind)!;
  return { object: prune(root, obj) as T, pruned };
}

function prune(ref: string, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  switch (shapeOf(ref)) {
    case 'scalar':
    case 'free':
      return value;
    case 'array':
      return Array.isArray(value) ? value.map((v) => prune(ref.slice(2), v)) : value;
    case 'map':
      return isPlainObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, prune(ref.slice(2), v)])) : value;
    case 'object': {
      const fields = fieldsOf(ref);
      if (!fields || !isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) if (Object.prototype.hasOwnProperty.call(fields, k)) out[k] = prune(fields[k]!, v);
      return out;
    }
  }
}
