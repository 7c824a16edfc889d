/**
 * Server-side apply (`PATCH` with `application/apply-patch+yaml`), as structured-merge-diff's
 * Updater.Apply inside apimachinery's field manager:
 *
 * 1. the applied configuration is merged into the live object (typed-value.ts);
 * 2. the applier's field set becomes exactly what the configuration sets;
 * 3. fields the applier set last time, dropped now and nobody else owns are removed;
 * 4. a field another manager owns whose value changes is a conflict (409 with upstream's
 *    message and a FieldManagerConflict cause per field), unless `force`, which takes it over;
 *    shared values (the same value set by two appliers) are owned by both.
 *
 * Validation as the apiserver's: a field manager is required (422), the configuration must be
 * of the object's version and must not carry managedFields (400).
 */
import type { KObject } from '../model/object.js';
import { FieldSet, pathString } from './field-set.js';
import { isMap, type Json, type JsonMap } from './json-value.js';
import { decodeManagedFields, managerId, ownable, printManager, rootType, withManagedFields, withoutManagedFields, type Manager } from './managed-fields.js';
import { PatchError } from './patch-error.js';
import { SchemaError, Typed } from './typed-value.js';

export interface ApplyOptions {
  fieldManager: string | undefined;
  force?: boolean;
  /** The version the object is served in ("v1", "apps/v1"). */
  apiVersion: string;
  kind: string;
  subresource?: string;
  /** RFC 3339 time of this apply (seconds). */
  now?: string;
}

export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

/** A 422 whose details name the options kind, like the apiserver's PatchOptions validation. */
export class ApplyInvalidError extends PatchError {
  constructor(
    message: string,
    readonly details: { name: string; group: string; kind: string; causes: StatusCause[] },
  ) {
    super(message, 'Invalid');
  }
}

/** A 409 with one FieldManagerConflict cause per field. */
export class ApplyConflictError extends PatchError {
  constructor(
    message: string,
    readonly causes: StatusCause[],
  ) {
    super(message, 'Conflict');
  }
}

export const APPLY_PATCH_TYPE = 'application/apply-patch+yaml';

/** Rejects apply options the apiserver rejects (PatchOptions validation). */
export function validateApplyOptions(fieldManager: string | undefined): void {
  if (!fieldManager) {
    throw new ApplyInvalidError('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
      name: '',
      group: 'meta.k8s.io',
      kind: 'PatchOptions',
      causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
    });
  }
}

/** Fields set to null in an applied configuration are treated as not set. */
function withoutNulls(v: Json): Json {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!isMap(v)) return v;
  const out: JsonMap = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = withoutNulls(x);
  return out;
}

/**
 * The object an apply of `applied` leaves, with its managedFields; `live` is undefined when the
 * apply creates the object. Throws ApplyConflictError, ApplyInvalidError or PatchError (400).
 */
export function applyServerSide<T extends KObject>(live: T | undefined, applied: unknown, o: ApplyOptions): T {
  validateApplyOptions(o.fieldManager);
  if (!isMap(applied as Json)) throw new PatchError('invalid JSON document');
  const config = withoutNulls(applied as JsonMap) as JsonMap;
  if (config.apiVersion !== o.apiVersion) {
    throw new PatchError(`Incorrect version specified in apply patch. Specified patch version: ${String(config.apiVersion ?? '')}, expected: ${o.apiVersion}`);
  }
  if (config.kind !== o.kind) throw new PatchError(`invalid object type: ${o.apiVersion}, Kind=${String(config.kind ?? '')}`);
  if (isMap(config.metadata) && config.metadata.managedFields !== undefined) throw new PatchError('metadata.managedFields must be nil');

  const typed = new Typed();
  const root = rootType(config);
  const now = o.now ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const liveJson = live as unknown as JsonMap | undefined;
  const before = withoutManagedFields(liveJson ?? {});
  const managers = decodeManagedFields(isMap(liveJson?.metadata) ? liveJson.metadata.managedFields : undefined);
  const me: Manager = { manager: o.fieldManager!, operation: 'Apply', apiVersion: o.apiVersion, time: now, set: new FieldSet(), ...(o.subresource ? { subresource: o.subresource } : {}) };
  const id = managerId(me);

  try {
    let merged = typed.mergeObjects(before, config, root);
    const lastSet = managers.get(id)?.set;
    managers.set(id, { ...me, set: ownable(typed.toFieldSet(config, root), o.subresource) });

    // Drop what this applier set before and nobody owns any more (smd prune).
    if (lastSet && !lastSet.isEmpty()) {
      let owned = new FieldSet();
      for (const m of managers.values()) owned = owned.union(m.set);
      merged = typed.removePaths(merged, lastSet.withNamedFieldsAsMembers().difference(owned.withNamedFieldsAsMembers()), root);
    }

    const { added, removed, modified } = typed.compareObjects(before, merged, root);
    const changed = added.union(modified);
    const conflicts: Array<{ m: Manager; set: FieldSet }> = [];
    for (const [mid, m] of managers) {
      if (mid === id) continue;
      const c = m.set.intersection(changed);
      if (!c.isEmpty()) conflicts.push({ m, set: c });
    }
    if (conflicts.length && !o.force) throw conflictError(conflicts);
    for (const [mid, m] of managers) {
      if (mid === id) continue;
      const set = m.set.difference(changed).difference(removed);
      if (set.isEmpty()) managers.delete(mid);
      else managers.set(mid, { ...m, set });
    }
    return withManagedFields(merged as unknown as T, managers);
  } catch (err) {
    if (err instanceof SchemaError) throw new PatchError(err.message, 'Invalid');
    throw err;
  }
}

/** managedfields NewConflictError: one line for one conflict, grouped by manager otherwise. */
function conflictError(conflicts: Array<{ m: Manager; set: FieldSet }>): ApplyConflictError {
  const sorted = [...conflicts].sort((a, b) => (a.m.manager < b.m.manager ? -1 : a.m.manager > b.m.manager ? 1 : 0));
  const causes: StatusCause[] = [];
  const lines: string[] = [];
  for (const { m, set } of sorted) {
    lines.push(`conflicts with ${printManager(m)}:`);
    for (const p of set.paths()) {
      causes.push({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(m)}`, field: pathString(p) });
      lines.push(`- ${pathString(p)}`);
    }
  }
  const message = causes.length === 1 ? `Apply failed with 1 conflict: ${causes[0]!.message}: ${causes[0]!.field}` : `Apply failed with ${causes.length} conflicts: ${lines.join('\n')}`;
  return new ApplyConflictError(message, causes);
}
