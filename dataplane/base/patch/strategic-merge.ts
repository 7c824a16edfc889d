/**
 * Applying a strategic merge patch (`application/strategic-merge-patch+json`), as
 * apimachinery's strategicpatch.StrategicMergeMapPatch does, with the kinds' real patch
 * metadata (api-schema.ts):
 *
 * - maps merge key by key; `null` deletes a key;
 * - a list is replaced unless its field's patch strategy is `merge`: lists of maps then merge
 *   item by item on the field's merge key (containers by `name`, ports by `containerPort`, …),
 *   lists of scalars become the union (finalizers);
 * - directives: `$patch: replace` (a map or a list becomes exactly the patch's),
 *   `$patch: delete` (a map, or the list item with that merge key), `$retainKeys` (keys not
 *   listed are cleared: `retainKeys` strategies such as volumes and Deployment `strategy`),
 *   `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`.
 *
 * The merge is also how kubectl's three-way patch merges its two halves (with
 * `mergeParallelList: false`, keeping directives and nulls), so it is exported for
 * strategic-diff.ts.
 */
import { elementRef, fieldOf, isListRef, API_TYPES, type Ref, type TypeTree } from './api-schema.js';
import { clone, goString, isMap, jsonKind, type Json, type JsonMap } from './json-value.js';
import { DIRECTIVE, deduplicateScalars, elementKind, goTypeName, noMergeKey, normalizeElementOrder, partitionByPresence } from './list-order.js';
import { PATCH_ERRORS, PatchError } from './patch-error.js';

export const RETAIN_KEYS = '$retainKeys';
export const SET_ELEMENT_ORDER = '$setElementOrder';
export const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';

export interface MergeOptions {
  /** Apply `$deleteFromPrimitiveList`/`$setElementOrder`/`$retainKeys` (server side) rather than carry them. */
  mergeParallelList: boolean;
  /** Drop `null`s that match nothing (server side) rather than keep them as deletions. */
  ignoreUnmatchedNulls: boolean;
  tree: TypeTree;
}

const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * The object `patch` leaves of `original`, for an object whose top-level type is `ref`
 * (kindRef('Pod'), …). Neither argument is modified. Throws PatchError for a malformed patch.
 */
export function applyStrategicMergePatch(original: JsonMap, patch: JsonMap, ref: Ref, tree: TypeTree = API_TYPES): JsonMap {
  if (!isMap(patch)) throw new PatchError(PATCH_ERRORS.badJSONDoc);
  return mergeMap(clone(original), clone(patch), ref, { mergeParallelList: true, ignoreUnmatchedNulls: true, tree });
}

/** Patch metadata of a field: its strategy without `retainKeys`, whether it has retainKeys, its merge key. */
export interface PatchMeta {
  strategy: string;
  retainKeys: boolean;
  mergeKey: string;
}

export function patchMetaOf(ref: Ref, key: string, tree: TypeTree): { sub: Ref; meta: PatchMeta } {
  const f = fieldOf(ref, key, tree);
  const type = f.type === '' ? undefined : f.type;
  const strategies = f.patchStrategy ? f.patchStrategy.split(',') : [];
  const retainKeys = strategies.includes('retainKeys');
  const rest = strategies.filter((s) => s !== 'retainKeys');
  if (rest.length > 1) throw new PatchError(`unexpected patch strategy: [${strategies.join(' ')}]`);
  // A list's items are described by its element type; a struct or map by itself.
  const sub = isListRef(type) ? elementRef(type) : type;
  return { sub, meta: { strategy: rest[0] ?? '', retainKeys, mergeKey: f.patchMergeKey ?? '' } };
}

/** Merges `patch` into `original` (both mutated, as upstream's mergeMap). */
export function mergeMap(original: JsonMap | null, patch: JsonMap, ref: Ref, o: MergeOptions): JsonMap {
  if (has(patch, DIRECTIVE)) return mapDirective(patch[DIRECTIVE]!, patch);
  const out: JsonMap = original ?? {};
  applyRetainKeys(out, patch, o);
  mergeOrderedLists(out, patch, ref, o);

  for (const k of Object.keys(patch)) {
    const patchV = patch[k]!;
    let key = k;
    let isDeleteList = false;
    if (k.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      if (!o.mergeParallelList) {
        out[k] = patchV;
        continue;
      }
      key = directiveKey(k, DELETE_FROM_PRIMITIVE_LIST);
      isDeleteList = true;
    }
    if (patchV === null) {
      delete out[key];
      if (o.ignoreUnmatchedNulls) continue;
    }
    if (!has(out, key) || jsonKind(out[key]) !== jsonKind(patchV)) {
      // Not in the original (or of another type): the patch's value, without its directives.
      if (!isDeleteList) {
        if (o.ignoreUnmatchedNulls) discardNulls(patchV);
        const [v, keep] = removeDirectives(patchV);
        if (keep) out[key] = v;
        else delete out[key];
      }
      continue;
    }
    const current = out[key]!;
    if (isMap(current)) {
      const { sub, meta } = patchMetaOf(ref, key, o.tree);
      out[key] = meta.strategy === 'replace' ? (patchV as JsonMap) : mergeMap(current, patchV as JsonMap, sub, o);
    } else if (Array.isArray(current)) {
      const { sub, meta } = patchMetaOf(ref, key, o.tree);
      out[key] = mergeSliceHandler(current, patchV as Json[], sub, meta, isDeleteList, o);
    } else {
      const [v, keep] = removeDirectives(patchV);
      if (keep) out[key] = v;
      else delete out[key];
    }
  }
  return out;
}

function mapDirective(directive: Json, patch: JsonMap): JsonMap {
  if (directive === 'replace') {
    delete patch[DIRECTIVE];
    return patch;
  }
  if (directive === 'delete') return {};
  throw new PatchError(`unknown patch type: ${goString(directive)} in map: ${goString(patch)}`);
}

/** "$setElementOrder/containers" → "containers". */
function directiveKey(k: string, prefix: string): string {
  const slash = k.indexOf('/');
  if (slash < 0 || k.slice(0, slash) !== prefix) {
    throw new PatchError(prefix === DELETE_FROM_PRIMITIVE_LIST ? PATCH_ERRORS.badPrimitiveList : PATCH_ERRORS.badSetElementOrder);
  }
  return k.slice(slash + 1);
}

/** `$retainKeys`: clears the original's keys that are not listed (server side), or carries the directive. */
function applyRetainKeys(original: JsonMap, patch: JsonMap, o: MergeOptions): void {
  if (!has(patch, RETAIN_KEYS)) return;
  const retain = patch[RETAIN_KEYS]!;
  delete patch[RETAIN_KEYS];
  if (!o.mergeParallelList) {
    if (has(original, RETAIN_KEYS)) {
      if (goString(original[RETAIN_KEYS]) !== goString(retain)) {
        throw new PatchError(`${goString(original[RETAIN_KEYS])} and ${goString(retain)} are not deep equal: this may happen when calculating the 3-way diff patch`);
      }
    } else original[RETAIN_KEYS] = retain;
    return;
  }
  if (!Array.isArray(retain)) throw new PatchError(PATCH_ERRORS.badRetainKeys);
  const keep = new Set(retain);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(k)) throw new PatchError(PATCH_ERRORS.badRetainKeys);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/**
 * `$setElementOrder/<list>`: merges that list now and puts it in the given order (server-only
 * items interleaved by their old positions). Without mergeParallelList the directive is carried.
 */
function mergeOrderedLists(original: JsonMap, patch: JsonMap, ref: Ref, o: MergeOptions): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[key]!;
    if (!o.mergeParallelList) {
      if (has(original, key)) {
        if (goString(original[key]) !== goString(order)) throw new PatchError(PATCH_ERRORS.badSetElementOrder);
      } else original[key] = order;
    }
    delete patch[key];
    if (!Array.isArray(order)) throw new PatchError(`expected a []interface {}, but received a ${goTypeName(order)}`);
    const listKey = directiveKey(key, SET_ELEMENT_ORDER);
    const originalList = has(original, listKey) ? original[listKey] : undefined;
    const patchList = has(patch, listKey) ? patch[listKey] : undefined;
    if (originalList !== undefined && !Array.isArray(originalList)) throw new PatchError(`expected a []interface {}, but received a ${goTypeName(originalList)}`);
    if (patchList !== undefined && !Array.isArray(patchList)) throw new PatchError(`expected a []interface {}, but received a ${goTypeName(patchList)}`);
    const { sub, meta } = patchMetaOf(ref, listKey, o.tree);
    checkOrderMatchesPatch(patchList ?? [], order, meta.mergeKey);

    let merged: Json[];
    if (originalList && !patchList) merged = originalList;
    else if (!originalList && patchList) {
      const [v, keep] = removeDirectives(patchList);
      if (!keep) continue;
      merged = v as Json[];
    } else if (originalList && patchList) merged = mergeSliceHandler(originalList, patchList, sub, meta, false, o);
    else continue;

    const ofMaps = meta.mergeKey !== '';
    const [patchItems, serverOnly] = partitionByPresence(merged, order, meta.mergeKey, ofMaps);
    const kind = elementKind(originalList ?? [], patchList ?? []);
    if (kind === undefined) throw new PatchError('no elements in any of the given slices');
    original[listKey] = normalizeElementOrder(patchItems, serverOnly, order, originalList ?? [], meta.mergeKey, kind === 'map');
    delete patch[listKey];
  }
}

/** The relative order of the patch list's items must match `$setElementOrder`'s, and it must name them all. */
function checkOrderMatchesPatch(patchList: Json[], order: Json[], mergeKey: string): void {
  if (!order.length || !patchList.length) return;
  const items = mergeKey ? patchList.filter((v) => !(isMap(v) && v[DIRECTIVE] === 'delete')) : patchList;
  let p = 0;
  let s = 0;
  while (p < items.length && s < order.length) {
    const item = items[p]!;
    if (isMap(item) && has(item, DIRECTIVE)) {
      p++;
      continue;
    }
    if (keyEqual(item, order[s]!, mergeKey)) p++;
    s++;
  }
  if (p < items.length && s >= order.length) {
    throw new PatchError(`The order in patch list:\n${goString(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goString(order)}\n`);
  }
}

function keyEqual(a: Json, b: Json, mergeKey: string): boolean {
  if (!mergeKey) return a === b;
  if (!isMap(a)) throw new PatchError(`expected a map[string]interface {}, but received a ${goTypeName(a)}`);
  if (!isMap(b)) throw new PatchError(`expected a map[string]interface {}, but received a ${goTypeName(b)}`);
  if (!has(a, mergeKey)) throw noMergeKey(a, mergeKey);
  if (!has(b, mergeKey)) throw noMergeKey(b, mergeKey);
  return a[mergeKey] === b[mergeKey];
}

function mergeSliceHandler(original: Json[], patch: Json[], sub: Ref, meta: PatchMeta, isDeleteList: boolean, o: MergeOptions): Json[] {
  if (meta.strategy === 'merge' || isDeleteList) return mergeSlice(original, patch, sub, meta.mergeKey, isDeleteList, o);
  return patch;
}

function mergeSlice(original: Json[], patch: Json[], sub: Ref, mergeKey: string, isDeleteList: boolean, o: MergeOptions): Json[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind(original, patch);
  let merged: Json[];
  let orig = original;
  let items = patch;
  if (kind !== 'map') {
    if (o.mergeParallelList && isDeleteList) {
      const drop = new Set(patch);
      return original.filter((v) => !drop.has(v));
    }
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (!mergeKey) throw new PatchError(`cannot merge lists without merge key for ${sub ?? ''}`);
    [orig, items] = applyListDirectives(original, patch, mergeKey);
    merged = mergeItems(orig, items, mergeKey, sub, o);
  }
  const ofMaps = mergeKey !== '';
  const [patchItems, serverOnly] = partitionByPresence(merged, items, mergeKey, ofMaps);
  return normalizeElementOrder(patchItems, serverOnly, items, orig, mergeKey, kind === 'map');
}

/** `$patch: delete` items remove their match; `$patch: replace` makes the list the patch's other items. */
function applyListDirectives(original: Json[], patch: Json[], mergeKey: string): [Json[], Json[]] {
  let orig = original;
  const rest: Json[] = [];
  let replace = false;
  for (const v of patch) {
    const item = v as JsonMap;
    if (!has(item, DIRECTIVE)) {
      rest.push(v);
      continue;
    }
    const directive = item[DIRECTIVE];
    if (directive === 'delete') {
      if (!has(item, mergeKey)) throw noMergeKey(item, mergeKey);
      orig = orig.filter((x) => !(isMap(x) && has(x, mergeKey) && x[mergeKey] === item[mergeKey]));
    } else if (directive === 'replace') replace = true;
    else if (directive === 'merge') throw new PatchError('merging lists cannot yet be specified in the patch');
    else throw new PatchError(`unknown patch type: ${goString(directive)} in map: ${goString(item)}`);
  }
  return replace ? [rest, []] : [orig, rest];
}

/** Each patch item merges into the original item with its merge-key value, or is appended. */
function mergeItems(original: Json[], patch: Json[], mergeKey: string, sub: Ref, o: MergeOptions): Json[] {
  const out = [...original];
  for (const v of patch) {
    const item = v as JsonMap;
    if (!has(item, mergeKey)) throw noMergeKey(item, mergeKey);
    const at = out.findIndex((x) => {
      if (!isMap(x)) throw new PatchError('value for key is not a map');
      return has(x, mergeKey) && x[mergeKey] === item[mergeKey];
    });
    if (at >= 0) out[at] = mergeMap(out[at] as JsonMap, item, sub, o);
    else out.push(v);
  }
  return out;
}

/** A value without its directive-bearing maps; `keep` is false when the value itself is one. */
export function removeDirectives(v: Json): [Json, boolean] {
  if (isMap(v)) {
    if (has(v, DIRECTIVE)) return [null, false];
    for (const k of Object.keys(v)) {
      const [x, keep] = removeDirectives(v[k]!);
      if (keep) v[k] = x;
      else delete v[k];
    }
    return [v, true];
  }
  if (Array.isArray(v)) {
    const out: Json[] = [];
    for (const x of v) {
      const [y, keep] = removeDirectives(x);
      if (keep) out.push(y);
    }
    return [out, true];
  }
  return [v, true];
}

function discardNulls(v: Json): void {
  if (isMap(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else discardNulls(v[k]!);
    }
  } else if (Array.isArray(v)) v.forEach(discardNulls);
}
