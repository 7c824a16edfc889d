/**
 * How a strategic merge patch orders a merged list (apimachinery strategicpatch: the
 * "preserve order" design): items the patch names keep the patch's (or `$setElementOrder`'s)
 * order, items only the server has keep theirs, and the two are interleaved by the server's
 * order. Also the scalar-list helpers both patch directions share. Ported step for step,
 * since the resulting order is observable (`kubectl get -o yaml`).
 */
import { PatchError } from './patch-error.js';
import { goString, isMap, type Json, type JsonMap } from './json-value.js';

export const DIRECTIVE = '$patch';

/** The merge-key value of a list item, or the item itself in a list of scalars. */
function keyOf(item: Json, mergeKey: string, ofMaps: boolean): Json | undefined {
  if (!ofMaps) return item;
  return isMap(item) ? item[mergeKey] : undefined;
}

/** The position of `value` in `list`, compared by merge key (maps) or by value (scalars); -1 if absent. */
export function indexIn(list: Json[], value: Json, mergeKey: string, ofMaps: boolean): number {
  const want = keyOf(value, mergeKey, ofMaps);
  return list.findIndex((v) => keyOf(v, mergeKey, ofMaps) === want);
}

export function noMergeKey(item: Json, mergeKey: string): PatchError {
  return new PatchError(`map: ${goString(item)} does not contain declared merge key: ${mergeKey}`);
}

function requireMergeKey(mergeKey: string, ...lists: Json[][]): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isMap(item)) throw new PatchError(`expected a map[string]interface {}, but received a ${goTypeName(item)}`);
      if (!(mergeKey in item)) throw noMergeKey(item, mergeKey);
    }
  }
}

/** Go's reflect type name of a decoded JSON value, for upstream's error messages. */
export function goTypeName(v: Json | undefined): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  if (typeof v === 'object') return 'map[string]interface {}';
  return { number: 'float64', string: 'string', boolean: 'bool' }[typeof v as 'number' | 'string' | 'boolean'];
}

/** Items marked `$patch: delete` go to the end; the rest are kept in their order. */
function splitDeletions(list: Json[]): [Json[], Json[]] {
  const keep: Json[] = [];
  const del: Json[] = [];
  for (const v of list) {
    if (!isMap(v)) throw new PatchError(`expected a map[string]interface {}, but received a ${goTypeName(v)}`);
    (v[DIRECTIVE] === 'delete' ? del : keep).push(v);
  }
  return [keep, del];
}

/** Sorts `toSort` by the positions of its items in `order` (stable), deletions last. */
export function normalizeSliceOrder(toSort: Json[], order: Json[], mergeKey: string, ofMaps: boolean): Json[] {
  let items = toSort;
  let deletions: Json[] = [];
  if (ofMaps) {
    requireMergeKey(mergeKey, toSort, order);
    [items, deletions] = splitDeletions(toSort);
  }
  const position = (v: Json) => indexIn(order, v, mergeKey, ofMaps);
  const sorted = items
    .map((v, i) => ({ v, i, p: position(v) }))
    .sort((a, b) => (a.p >= 0 && b.p >= 0 ? a.p - b.p : a.i - b.i))
    .map((x) => x.v);
  return [...sorted, ...deletions];
}

/**
 * Inserts the server-only items (`left`) into the patch items (`right`), keeping each list's
 * relative order; where both items are in `serverOrder` the server's order decides.
 */
function mergeSortedSlice(left: Json[], right: Json[], serverOrder: Json[], mergeKey: string, ofMaps: boolean): Json[] {
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]!);
    else if (j >= right.length) out.push(left[i++]!);
    else {
      const li = indexIn(serverOrder, left[i]!, mergeKey, ofMaps);
      const ri = indexIn(serverOrder, right[j]!, mergeKey, ofMaps);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]!);
      else out.push(right[j++]!);
    }
  }
  return out;
}

/** The merged list in its final order: patch items by `patchOrder`, server-only items by `serverOrder`. */
export function normalizeElementOrder(patch: Json[], serverOnly: Json[], patchOrder: Json[], serverOrder: Json[], mergeKey: string, ofMaps: boolean): Json[] {
  const p = normalizeSliceOrder(patch, patchOrder, mergeKey, ofMaps);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, ofMaps);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, ofMaps);
}

/** Splits `list` into the items present in `by` (by merge key, or by value) and the others. */
export function partitionByPresence(list: Json[], by: Json[], mergeKey: string, ofMaps: boolean): [Json[], Json[]] {
  const present: Json[] = [];
  const absent: Json[] = [];
  for (const v of list) {
    if (ofMaps) {
      if (!isMap(v)) throw new PatchError(`expected a map[string]interface {}, but received a ${goTypeName(v)}`);
      if (!(mergeKey in v)) throw noMergeKey(v, mergeKey);
    }
    (indexIn(by, v, mergeKey, ofMaps) >= 0 ? present : absent).push(v);
  }
  return [present, absent];
}

/** apimachinery's deduplicateScalars, including the order it leaves (it swaps in the last item). */
export function deduplicateScalars(list: Json[]): Json[] {
  const s = [...list];
  let length = s.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (s[i] === s[j]) {
        s[j] = s[length]!;
        s.length = length;
        length--;
        j--;
      }
    }
  }
  return s;
}

/** Scalars ordered by their Go %v string, as sortScalars does. */
export function sortScalars(list: Json[]): Json[] {
  return [...list].sort((a, b) => compareStrings(goString(a), goString(b)));
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Maps ordered by their merge key's Go %v string. */
export function sortByMergeKey(list: JsonMap[], mergeKey: string): JsonMap[] {
  return [...list].sort((a, b) => compareStrings(goString(a[mergeKey]), goString(b[mergeKey])));
}

/** The element kind of one or more lists: 'map', 'scalar', or undefined when all are empty. */
export function elementKind(...lists: Json[][]): 'map' | 'scalar' | undefined {
  let kind: string | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = Array.isArray(v) ? 'list' : isMap(v) ? 'map' : v === null ? 'null' : typeof v;
      if (kind === undefined) {
        if (k === 'list') throw new PatchError('lists of lists are not supported', 'Invalid');
        kind = k;
      } else if (kind !== k) throw new PatchError(`list element types are not identical: ${goString(lists)}`);
    }
  }
  if (kind === undefined) return undefined;
  return kind === 'map' ? 'map' : 'scalar';
}
