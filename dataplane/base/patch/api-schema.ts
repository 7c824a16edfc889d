/**
 * The generated type tree of the kinds knet stores (api-schema.json, written by
 * scripts/gen-api-schema.mjs from k8s.io/api v0.32.3) and lookups over it. It carries what
 * patching needs and nothing else: each field's type, its strategic-merge-patch metadata
 * (`patchStrategy`, `patchMergeKey`) and its server-side-apply topology (`listType`,
 * `listMapKeys`, `mapType`, a struct's `structType`).
 *
 * A type expression ("ref") names what may sit at a place in an object:
 *   "string" | "integer" | "number" | "boolean" | "int-or-string"   a scalar
 *   "object"        free-form JSON (RawExtension, FieldsV1): no schema below it
 *   "io.k8s.…"      a struct, the fields of types[ref]
 *   "[]R"           a list of R             "{}R"  a string-keyed map of R
 * An unknown field has the ref `undefined`: patches treat it like free-form JSON.
 */
import apiSchema from './api-schema.json' with { type: 'json' };

export type Ref = string | undefined;

export interface FieldInfo {
  type: string;
  /** "merge", "replace", "retainKeys", "merge,retainKeys" (the `x-kubernetes-patch-strategy`). */
  patchStrategy?: string;
  patchMergeKey?: string;
  /** "atomic" | "set" | "map" (the `x-kubernetes-list-type`). */
  listType?: string;
  listMapKeys?: string[];
  /** "atomic" | "granular" (the `x-kubernetes-map-type`). */
  mapType?: string;
  /** A non-pointer struct field: Go always has it (empty when unset). */
  valueStruct?: boolean;
  /** A scalar's `+default` (server-side apply fills a missing list-map key with it). */
  default?: string | number | boolean;
}

export interface TypeInfo {
  fields: Record<string, string | FieldInfo>;
  structType?: string;
}

/** Struct refs → their fields. Tests may pass a tree of their own to the patch functions. */
export interface TypeTree {
  types: Record<string, TypeInfo>;
}

interface ApiSchema extends TypeTree {
  source: string;
  kinds: Record<string, string>;
}

const SCHEMA = apiSchema as ApiSchema;
/** The kinds knet stores, from k8s.io/api. */
export const API_TYPES: TypeTree = SCHEMA;
const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Where the tree comes from, e.g. "k8s.io/api v0.32.3 …". */
export const API_SCHEMA_SOURCE = SCHEMA.source;

const SCALARS = new Set(['string', 'integer', 'number', 'boolean', 'int-or-string']);

/** The ref of a kind's top-level object ("io.k8s.api.core.v1.Pod"), or undefined for kinds without one. */
export function kindRef(kind: string): Ref {
  return has(SCHEMA.kinds, kind) ? SCHEMA.kinds[kind] : undefined;
}

export const isScalarRef = (ref: Ref): boolean => ref !== undefined && SCALARS.has(ref);
export const isListRef = (ref: Ref): ref is string => ref !== undefined && ref.startsWith('[]');
export const isMapRef = (ref: Ref): ref is string => ref !== undefined && ref.startsWith('{}');
export const isStructRef = (ref: Ref, tree: TypeTree = API_TYPES): ref is string => ref !== undefined && has(tree.types, ref);

/** The element ref of a list or map ref. */
export function elementRef(ref: Ref): Ref {
  return isListRef(ref) || isMapRef(ref) ? ref.slice(2) : undefined;
}

const NO_FIELD: FieldInfo = { type: '' };

/**
 * The field `key` of the object described by `ref`: a struct's field, or any key of a map.
 * `type` is '' when nothing is known (an unknown field, free-form JSON).
 */
export function fieldOf(ref: Ref, key: string, tree: TypeTree = API_TYPES): FieldInfo {
  if (isMapRef(ref)) return { type: ref.slice(2) };
  if (!isStructRef(ref, tree)) return NO_FIELD;
  const fields = tree.types[ref]!.fields;
  if (!has(fields, key)) return NO_FIELD;
  const f = fields[key]!;
  return typeof f === 'string' ? { type: f } : f;
}

/** The names of a struct's fields (empty for any other ref). */
export function fieldNames(ref: Ref, tree: TypeTree = API_TYPES): string[] {
  return isStructRef(ref, tree) ? Object.keys(tree.types[ref]!.fields) : [];
}

/** A struct's `+structType` ("atomic" for LabelSelector, LocalObjectReference, …), if any. */
export function structTypeOf(ref: Ref, tree: TypeTree = API_TYPES): string | undefined {
  return isStructRef(ref, tree) ? tree.types[ref]!.structType : undefined;
}
