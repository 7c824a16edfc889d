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
