/**
 * `metadata.managedFields`: who owns which fields, as apimachinery's managedfields package
 * keeps it. One entry per manager identity — (manager, operation, and for `Update` the
 * apiVersion, plus the subresource) — with the fields it owns in FieldsV1 and the time of its
 * last change. Every write records itself: server-side apply as an `Apply` entry
 * (server-side-apply.ts), every other write (create, update, patch, a controller's write) as an
 * `Update` entry through `recordUpdate`, which also takes the changed fields away from other
 * managers (an update never conflicts). At most ten `Update` managers are kept; older ones
 * merge into `ancient-changes`.
 */
import type { KObject } from '../model/object.js';
import { kindRef } from './api-schema.js';
import { FieldSet, fieldElement, type Path } from './field-set.js';
import { isMap, type Json, type JsonMap } from './json-value.js';
import { Typed, type TypeRef } from './typed-value.js';

export type Operation = 'Apply' | 'Update';

export interface ManagedFieldsEntry {
  manager: string;
  operation: Operation;
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonMap;
  subresource?: string;
}

export interface Manager {
  manager: string;
  operation: Operation;
  apiVersion: string;
  time?: string;
  subresource?: string;
  set: FieldSet;
}

export const MAX_UPDATE_MANAGERS = 10;
const ANCIENT = 'ancient-changes';

/** The identity of a manager, as BuildManagerIdentifier: appliers are one manager across versions. */
export function managerId(m: { manager: string; operation: Operation; apiVersion?: string; subresource?: string }): string {
  return JSON.stringify({ manager: m.manager, operation: m.operation, ...(m.operation === 'Update' && m.apiVersion ? { apiVersion: m.apiVersion } : {}), ...(m.subresource ? { subresource: m.subresource } : {}) });
}

/** How a conflict names a manager (managedfields printManager): `"kubectl"`, `"kube-controller-manager" using apps/v1`. */
export function printManager(m: Pick<Manager, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  return m.operation === 'Update' ? `${s} using ${m.apiVersion}` : s;
}

/** The managers of an object; entries that cannot be read are dropped (the apiserver resets them too). */
export function decodeManagedFields(entries: unknown): Map<string, Manager> {
  const out = new Map<string, Manager>();
  if (!Array.isArray(entries)) return out;
  for (const e of entries as Array<Partial<ManagedFieldsEntry>>) {
    if (!isMap(e as Json) || typeof e.manager !== 'string' || (e.operation !== 'Apply' && e.operation !== 'Update')) continue;
    let set: FieldSet;
    try {
      set = FieldSet.fromFieldsV1(e.fieldsV1 as Json);
    } catch {
      continue;
    }
    const m: Manager = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion ?? '', set, ...(e.time ? { time: e.time } : {}), ...(e.subresource ? { subresource: e.subresource } : {}) };
    const id = managerId(m);
    const prev = out.get(id);
    out.set(id, prev ? { ...m, set: prev.set.union(set) } : m);
  }
  return out;
}

/** The managedFields list: appliers first, then by time, manager, apiVersion, subresource (sortEncodedManagedFields). */
export function encodeManagedFields(managers: Map<string, Manager>): ManagedFieldsEntry[] {
  const seconds = (t?: string) => (t ? Math.floor(Date.parse(t) / 1000) : 0);
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...managers.values()]
    .filter((m) => !m.set.isEmpty())
    .sort((p, q) => cmp(p.operation, q.operation) || seconds(p.time) - seconds(q.time) || cmp(p.manager, q.manager) || cmp(p.apiVersion, q.apiVersion) || cmp(p.subresource ?? '', q.subresource ?? ''))
    .map((m) => ({
      manager: m.manager,
      operation: m.operation,
      apiVersion: m.apiVersion,
      ...(m.time ? { time: m.time } : {}),
      fieldsType: 'FieldsV1' as const,
      fieldsV1: m.set.toFieldsV1(),
      ...(m.subresource ? { subresource: m.subresource } : {}),
    }));
}

/** Paths no manager owns (stripmeta.go), whatever writes them. */
const STRIPPED: Path[] = [
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata'],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => ['f:metadata', fieldElement(f)]),
];

/**
 * The part of a set a writer of `subresource` can own: the main resource never owns status,
 * the status subresource owns only status (the registries' reset fields).
 */
export function ownable(set: FieldSet, subresource: string | undefined): FieldSet {
  const status = fieldElement('status');
  const kept = set.paths().filter((p) => (subresource === 'status' ? p[0] === status : p[0] !== status));
  return FieldSet.of(kept).difference(FieldSet.of(STRIPPED));
}

/** An object as typed values see it: without its managedFields. */
export function withoutManagedFields(obj: JsonMap): JsonMap {
  const meta = obj.metadata;
  if (!isMap(meta) || !('managedFields' in meta)) return obj;
  const { managedFields: _mf, ...rest } = meta;
  return { ...obj, metadata: rest };
}

export const rootType = (obj: { kind?: unknown }): TypeRef => ({ ref: typeof obj.kind === 'string' ? kindRef(obj.kind) : undefined });

/** The managers `next` starts from: explicitly reset with `[]`, set by the writer, or the live object's. */
function startingManagers(current: JsonMap | undefined, next: JsonMap, subresource: string | undefined): Map<string, Manager> {
  const requested = isMap(next.metadata) ? next.metadata.managedFields : undefined;
  if (!subresource && Array.isArray(requested)) {
    if (requested.length === 0) return new Map();
    const decoded = decodeManagedFields(requested);
    if (decoded.size > 0) return decoded;
  }
  return decodeManagedFields(isMap(current?.metadata) ? current.metadata.managedFields : undefined);
}

/**
 * Records a non-apply write: `next` (what is about to be stored) gets managedFields in which
 * `manager` owns what it added or changed since `current` (undefined for a create), other
 * managers lose those fields and the ones it removed, and `Update` managers past ten merge into
 * `ancient-changes`. `now` is an RFC 3339 time (seconds).
 */
export function recordUpdate<T extends KObject>(current: T | undefined, next: T, manager: string, operation: Operation = 'Update', subresource?: string, now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')): T {
  const nextJson = next as unknown as JsonMap;
  const typed = new Typed();
  const root = rootType(nextJson);
  const managers = startingManagers(current as unknown as JsonMap | undefined, nextJson, subresource);
  const before = withoutManagedFields((current as unknown as JsonMap | undefined) ?? {});
  const after = withoutManagedFields(nextJson);
  const { added, removed, modified } = typed.compareObjects(before, after, root);
  const changed = ownable(added.union(modified), subresource);
  const lost = changed.union(removed);
  for (const [id, m] of managers) {
    const set = m.set.difference(lost);
    if (set.isEmpty()) managers.delete(id);
    else managers.set(id, { ...m, set });
  }
  if (!changed.isEmpty()) {
    const apiVersion = typeof nextJson.apiVersion === 'string' ? nextJson.apiVersion : '';
    const me = { manager, operation, apiVersion, ...(subresource ? { subresource } : {}) };
    const id = managerId(me);
    const prev = managers.get(id)?.set ?? new FieldSet();
    managers.set(id, { ...me, time: now, set: prev.union(changed) });
  }
  capUpdateManagers(managers);
  return withManagedFields(next, managers);
}

/** `obj` with managedFields encoded from `managers` (none when no one owns anything). */
export function withManagedFields<T extends KObject>(obj: T, managers: Map<string, Manager>): T {
  const entries = encodeManagedFields(managers);
  const { managedFields: _old, ...meta } = obj.metadata ?? {};
  return { ...obj, metadata: entries.length ? { ...meta, managedFields: entries } : meta };
}

/** capmanagers.go: the oldest Update managers beyond ten merge, per apiVersion, into `ancient-changes`. */
function capUpdateManagers(managers: Map<string, Manager>): void {
  const updaters = [...managers.entries()].filter(([, m]) => m.operation === 'Update');
  if (updaters.length <= MAX_UPDATE_MANAGERS) return;
  const seconds = (t?: string) => (t ? Date.parse(t) : 0);
  updaters.sort(([ia, a], [ib, b]) => seconds(a.time) - seconds(b.time) || (ia < ib ? -1 : 1));
  let length = updaters.length;
  const firstOfVersion = new Map<string, string>();
  for (const [id, m] of updaters) {
    if (length <= MAX_UPDATE_MANAGERS) break;
    const bucket = managerId({ manager: ANCIENT, operation: 'Update', apiVersion: m.apiVersion });
    const first = firstOfVersion.get(m.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(m.apiVersion, id);
      continue;
    }
    if (!managers.has(bucket)) {
      const f = managers.get(first)!;
      managers.delete(first);
      managers.set(bucket, { ...f, manager: ANCIENT, subresource: undefined });
    }
    const b = managers.get(bucket)!;
    managers.set(bucket, { ...b, set: m.set.union(b.set), time: m.time });
    managers.delete(id);
    length--;
  }
}
