/**
 * The generated field tree (known-fields.json, from scripts/gen-known-fields.mjs) and how to
 * walk it. A "ref" names what may sit at a place in an object:
 *   "."  a scalar          "*"  free-form (anything below is accepted)
 *   "T"  the fields of types[T]    "[]R" an array of R    "{}R" a string-keyed map of R
 */
import knownFields from './known-fields.json' with { type: 'json' };

interface KnownFields {
  source: string;
  kinds: Record<string, string>;
  types: Record<string, Record<string, string>>;
}

const KNOWN = knownFields as KnownFields;

/** The schema the tree was generated from, e.g. "kubernetes-models@4.5.1". */
export const FIELD_TREE_SOURCE = KNOWN.source;

const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** The ref of a kind's top-level object, or undefined for kinds without a tree. */
export function rootRef(kind: string): string | undefined {
  return has(KNOWN.kinds, kind) ? KNOWN.kinds[kind] : undefined;
}

/** The fields of an object ref, or undefined when `ref` is not an object type. */
export function fieldsOf(ref: string): Record<string, string> | undefined {
  return has(KNOWN.types, ref) ? KNOWN.types[ref] : undefined;
}

export type RefShape = 'scalar' | 'free' | 'array' | 'map' | 'object';

export function shapeOf(ref: string): RefShape {
  if (ref === '.') return 'scalar';
  if (ref === '*') return 'free';
  if (ref.startsWith('[]')) return 'array';
  if (ref.startsWith('{}')) return 'map';
  return 'object';
}

/** The ref one step below `ref` (array element, map value or named field); undefined if unknown. */
export function childRef(ref: string, step: string): string | undefined {
  switch (shapeOf(ref)) {
    case 'array':
    case 'map':
      return ref.slice(2);
    case 'object': {
      const fields = fieldsOf(ref);
      return fields && has(fields, step) ? fields[step] : undefined;
    }
    default:
      return undefined;
  }
}
