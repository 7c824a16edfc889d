/**
 * Computing strategic merge patches, as apimachinery's strategicpatch does for kubectl:
 *
 * - createTwoWayMergePatch(original, modified): the patch that turns original into modified;
 * - createThreeWayMergePatch(original, modified, current): `kubectl apply`'s patch
 *   (kubectl pkg/cmd/apply/patcher.go): the changes and additions from current to modified,
 *   plus the deletions of what the last applied configuration (original) had and modified
 *   dropped. Fields set by others (in current, never in original) are left alone.
 *
 * Lists with the `merge` strategy are diffed item by item on their merge key and carry
 * `$setElementOrder/<list>`; deleted items become `$patch: delete` (lists of maps) or
 * `$deleteFromPrimitiveList/<list>` (lists of scalars); fields with a `retainKeys` strategy
 * get a `$retainKeys` list.
 */
import { API_TYPES, type Ref, type TypeTree } from './api-schema.js';
import { clone, deepEqual, goString, isMap, jsonKind, type Json, type JsonMap } from './json-value.js';
import { DIRECTIVE, compareStrings, deduplicateScalars, elementKind, goTypeName, noMergeKey, normalizeSliceOrder, sortByMergeKey, sortScalars } from './list-order.js';
import { PatchError } from './patch-error.js';
import { DELETE_FROM_PRIMITIVE_LIST, RETAIN_KEYS, SET_ELEMENT_ORDER, mergeMap, patchMetaOf } from './strategic-merge.js';

interface DiffOptions {
  setElementOrder: boolean;
  ignoreChangesAndAdditions: boolean;
  ignoreDeletions: boolean;
  buildRetainKeysDirective: boolean;
  tree: TypeTree;
}

const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** The strategic merge patch that yields `modified` when applied to `original`. */
export function createTwoWayMergePatch(original: JsonMap, modified: JsonMap, ref: Ref, tree: TypeTree = API_TYPES): JsonMap {
  return diffMaps(original, modified, ref, { setElementOrder: true, ignoreChangesAndAdditions: false, ignoreDeletions: false, buildRetainKeysDirective: false, tree });
}

/**
 * `kubectl apply`'s patch: `original` is the last applied configuration (or {} when there is
 * none), `modified` the manifest being applied (with its new last-applied annotation),
 * `current` the live object. An empty result means there is nothing to change.
 */
export function createThreeWayMergePatch(original: JsonMap, modified: JsonMap, current: JsonMap, ref: Ref, tree: TypeTree = API_TYPES): JsonMap {
  const base = { setElementOrder: true, buildRetainKeysDirective: false, tree };
  const delta = diffMaps(current, modified, ref, { ...base, ignoreDeletions: true, ignoreChangesAndAdditions: false });
  const deletions = diffMaps(original, modified, ref, { ...base, ignoreDeletions: false, ignoreChangesAndAdditions: true });
  return mergeMap(deletions, delta, ref, { mergeParallelList: false, ignoreUnmatchedNulls: false, tree });
}

function diffMaps(original: JsonMap, modified: JsonMap, ref: Ref, o: DiffOptions): JsonMap {
  const patch: JsonMap = {};
  const retainKeys: Json[] = [];
  for (const key of Object.keys(modified)) {
    const modifiedValue = modified[key]!;
    if (o.buildRetainKeysDirective && modifiedValue !== null) retainKeys.push(key);
    if (!has(original, key)) {
      if (!o.ignoreChangesAndAdditions) patch[key] = clone(modifiedValue);
      continue;
    }
    const originalValue = original[key]!;
    if (key === DIRECTIVE) {
      if (typeof originalValue !== 'string' || typeof modifiedValue !== 'string') throw new PatchError(`invalid value for special key: ${DIRECTIVE}`);
      if (originalValue !== modifiedValue) patch[key] = modifiedValue;
      continue;
    }
    if (jsonKind(originalValue) !== jsonKind(modifiedValue)) {
      if (!o.ignoreChangesAndAdditions) patch[key] = clone(modifiedValue);
      continue;
    }
    if (isMap(originalValue)) diffMapField(key, originalValue, modifiedValue as JsonMap, patch, ref, o);
    else if (Array.isArray(originalValue)) diffListField(key, originalValue, modifiedValue as Json[], patch, ref, o);
    else replaceIfNotEqual(key, originalValue, modifiedValue, patch, o);
  }
  if (!o.ignoreDeletions) for (const key of Object.keys(original)) if (!has(modified, key)) patch[key] = null;
  // $retainKeys goes out when something changes, or when the original has fields to clear.
  const hasAdditionalField = Object.entries(original).some(([k, v]) => v !== null && !has(modified, k));
  if (retainKeys.length > 0 && (Object.keys(patch).length > 0 || hasAdditionalField)) patch[RETAIN_KEYS] = sortScalars(retainKeys);
  return patch;
}

function diffMapField(key: string, original: JsonMap, modified: JsonMap, patch: JsonMap, ref: Ref, o: DiffOptions): void {
  const { sub, meta } = patchMetaOf(ref, key, o.tree);
  if (meta.strategy === 'replace') {
    if (!o.ignoreChangesAndAdditions) patch[key] = clone(modified);
    return;
  }
  const value = diffMaps(original, modified, sub, { ...o, buildRetainKeysDirective: meta.retainKeys });
  if (Object.keys(value).length > 0) patch[key] = value;
}

function diffListField(key: string, original: Json[], modified: Json[], patch: JsonMap, ref: Ref, o: DiffOptions): void {
  const { sub, meta } = patchMetaOf(ref, key, o.tree);
  if (meta.strategy !== 'merge') {
    replaceIfNotEqual(key, original, modified, patch, o);
    return;
  }
  const [add, del, order] = diffLists(original, modified, sub, meta.mergeKey, { ...o, buildRetainKeysDirective: meta.retainKeys });
  if (add.length > 0) patch[key] = add;
  if (del.length > 0) patch[`${DELETE_FROM_PRIMITIVE_LIST}/${key}`] = del;
  if (order.length > 0) patch[`${SET_ELEMENT_ORDER}/${key}`] = order;
}

function replaceIfNotEqual(key: string, original: Json, modified: Json, patch: JsonMap, o: DiffOptions): void {
  if (o.ignoreChangesAndAdditions || deepEqual(original, modified)) return;
  patch[key] = clone(modified);
}

/** [patch list, primitive deletion list, $setElementOrder list] of a list with the merge strategy. */
function diffLists(original: Json[], modified: Json[], sub: Ref, mergeKey: string, o: DiffOptions): [Json[], Json[], Json[]] {
  if (original.length === 0) {
    if (modified.length === 0 || o.ignoreChangesAndAdditions) return [[], [], []];
    return [clone(modified), [], []];
  }
  const kind = elementKind(original, modified);
  if (kind === 'map') {
    const [changes, deletions] = diffListsOfMaps(original, modified, sub, mergeKey, o);
    const list = [...normalizeSliceOrder(changes, modified, mergeKey, true), ...deletions];
    const orderSame = sameOrder(original, modified, mergeKey);
    const wantOrder = o.setElementOrder && ((!o.ignoreChangesAndAdditions && (list.length > 0 || !orderSame)) || (!o.ignoreDeletions && list.length > 0));
    const order = wantOrder ? modified.map((v) => ({ [mergeKey]: (v as JsonMap)[mergeKey]! })) : [];
    return [list, [], order];
  }
  const [add, del] = diffListsOfScalars(original, modified, o);
  const list = normalizeSliceOrder(add, modified, mergeKey, false);
  const wantOrder = o.setElementOrder && ((!o.ignoreDeletions && del.length > 0) || (!o.ignoreChangesAndAdditions && !deepEqual(original, modified)));
  return [list, del, wantOrder ? clone(modified) : []];
}

function sameOrder(original: Json[], modified: Json[], mergeKey: string): boolean {
  if (original.length !== modified.length) return false;
  return modified.every((m, i) => keyValue(original[i]!, mergeKey) === keyValue(m, mergeKey));
}

function keyValue(item: Json, mergeKey: string): Json {
  if (!isMap(item)) throw new PatchError(`expected a map[string]interface {}, but received a ${goTypeName(item)}`);
  if (!has(item, mergeKey)) throw noMergeKey(item, mergeKey);
  return item[mergeKey]!;
}

/** Additions (in modified only) and deletions (in original only) of two lists of scalars, by their %v strings. */
function diffListsOfScalars(original: Json[], modified: Json[], o: DiffOptions): [Json[], Json[]] {
  const a = sortScalars(original);
  const b = sortScalars(modified);
  const add: Json[] = [];
  const del: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const c = i >= a.length ? 1 : j >= b.length ? -1 : compareStrings(goString(a[i]), goString(b[j]));
    if (c === 0) {
      i++;
      j++;
    } else if (c > 0) {
      if (!o.ignoreChangesAndAdditions) add.push(b[j]!);
      j++;
    } else {
      if (!o.ignoreDeletions) del.push(a[i]!);
      i++;
    }
  }
  return [add, deduplicateScalars(del)];
}

/** Per merge key: the item's own patch (changed), the whole item (added) or a `$patch: delete` (removed). */
function diffListsOfMaps(original: Json[], modified: Json[], sub: Ref, mergeKey: string, o: DiffOptions): [Json[], Json[]] {
  for (const item of [...original, ...modified]) keyValue(item, mergeKey);
  const a = sortByMergeKey(original as JsonMap[], mergeKey);
  const b = sortByMergeKey(modified as JsonMap[], mergeKey);
  const changes: Json[] = [];
  const deletions: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const c = i >= a.length ? 1 : j >= b.length ? -1 : compareStrings(goString(a[i]![mergeKey]), goString(b[j]![mergeKey]));
    if (c === 0) {
      const value = diffMaps(a[i]!, b[j]!, sub, o);
      if (Object.keys(value).length > 0) {
        value[mergeKey] = b[j]![mergeKey]!;
        changes.push(value);
      }
      i++;
      j++;
    } else if (c > 0) {
      if (!o.ignoreChangesAndAdditions) changes.push(clone(b[j]!));
      j++;
    } else {
      if (!o.ignoreDeletions) deletions.push({ [mergeKey]: a[i]![mergeKey]!, [DIRECTIVE]: 'delete' });
      i++;
    }
  }
  return [changes, deletions];
}
