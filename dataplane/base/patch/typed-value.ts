/**
 * Objects seen through their schema the way structured-merge-diff's `typed` package sees them,
 * for server-side apply:
 *
 * - toFieldSet: the paths an object sets (scalars, atomic lists/maps/structs, empty maps and
 *   nulls are leaves; associative-list and set items are members themselves);
 * - compareObjects: which paths were added, removed or modified between two objects;
 * - mergeObjects: an applied configuration merged into the live object (struct fields and map
 *   keys merged, associative lists by key and sets by value in smd's order, atomic values
 *   replaced);
 * - removePaths: an object without some paths (what an applier dropped and nobody owns).
 *
 * Topology comes from the generated schema: `listType` (atomic by default), `listMapKeys`
 * (missing keys take their `+default`), `mapType`, `structType`. Fields the schema does not know
 * are treated as smd's "deduced" type: maps granular, lists atomic.
 */
import { elementRef, fieldOf, isListRef, isMapRef, isScalarRef, isStructRef, structTypeOf, API_TYPES, type Ref, type TypeTree } from './api-schema.js';
import { FieldSet, fieldElement, keyElement, pathString, valueElement, type Path, type PathElement } from './field-set.js';
import { deepEqual, isMap, type Json, type JsonMap } from './json-value.js';

export interface TypeRef {
  ref: Ref;
  listType?: string;
  listMapKeys?: string[];
  mapType?: string;
  valueStruct?: boolean;
}

type Shape = 'leaf' | 'atomic' | 'fields' | 'list-map' | 'list-set';

export class SchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaError';
  }
}

export class Typed {
  constructor(readonly tree: TypeTree = API_TYPES) {}

  fieldType(parent: TypeRef, key: string): TypeRef {
    if (isMapRef(parent.ref)) return { ref: elementRef(parent.ref) };
    const f = fieldOf(parent.ref, key, this.tree);
    return { ref: f.type || undefined, listType: f.listType, listMapKeys: f.listMapKeys, mapType: f.mapType, valueStruct: f.valueStruct };
  }

  itemType(list: TypeRef): TypeRef {
    return { ref: elementRef(list.ref) };
  }

  /** How a value of type `t` is owned: as one leaf, or field by field, or item by item. */
  shape(t: TypeRef, value: Json): Shape {
    if (value === null || (!Array.isArray(value) && !isMap(value))) return 'leaf';
    if (Array.isArray(value)) {
      if (!isListRef(t.ref) || !t.listType || t.listType === 'atomic') return 'atomic';
      return t.listType === 'map' ? 'list-map' : 'list-set';
    }
    if (isScalarRef(t.ref) || isListRef(t.ref)) return 'atomic';
    if (t.mapType === 'atomic') return 'atomic';
    if (isStructRef(t.ref, this.tree) && structTypeOf(t.ref, this.tree) === 'atomic') return 'atomic';
    return 'fields';
  }

  /** The path element of a list item (key fields, with their defaults, or the value). */
  itemElement(t: TypeRef, shape: Shape, item: Json, at: Path): PathElement {
    if (shape === 'list-set') return valueElement(item);
    if (!isMap(item)) throw new SchemaError(`${pathString(at)}: expected a map in an associative list, got ${JSON.stringify(item)}`);
    const key: Record<string, Json> = {};
    for (const k of t.listMapKeys ?? []) {
      const v = item[k] ?? fieldOf(elementRef(t.ref), k, this.tree).default;
      if (v === undefined || v === null) throw new SchemaError(`${pathString(at)}: associative list with keys has an element that omits key field "${k}" (and doesn't have default value)`);
      key[k] = v;
    }
    return keyElement(key);
  }

  /** The paths `value` sets. */
  toFieldSet(value: JsonMap, root: TypeRef): FieldSet {
    const set = new FieldSet();
    this.walk(value, root, [], (path, kind) => {
      if (kind !== 'container') set.insert(path);
    });
    return set;
  }

  /**
   * Visits a value: `leaf` for owned-as-a-whole values, `item` for list items (members
   * themselves), `container` for struct fields and map keys that have children.
   */
  private walk(value: Json, t: TypeRef, path: Path, visit: (path: Path, kind: 'leaf' | 'item' | 'container', value: Json) => void): void {
    const shape = this.shape(t, value);
    if (shape === 'leaf' || shape === 'atomic') {
      visit(path, 'leaf', value);
      return;
    }
    if (shape === 'fields') {
      const obj = value as JsonMap;
      const known = isStructRef(t.ref, this.tree);
      for (const [k, v] of Object.entries(obj)) {
        const p = [...path, fieldElement(k)];
        const ft = this.fieldType(t, k);
        const empty = v === null || (isMap(v) && Object.keys(v).length === 0);
        if (empty) visit(p, 'leaf', v);
        else {
          this.walk(v, ft, p, visit);
          // A map key (not a declared field) is a member even when it has children.
          if (!known || !fieldOf(t.ref, k, this.tree).type) visit(p, 'item', v);
        }
      }
      return;
    }
    const list = value as Json[];
    const seen = new Set<string>();
    for (const item of list) {
      const pe = this.itemElement(t, shape, item, path);
      if (seen.has(pe)) throw new SchemaError(`${pathString([...path, pe])}: duplicate entries for key`);
      seen.add(pe);
      const p = [...path, pe];
      if (shape === 'list-map') this.walk(item, this.itemType(t), p, visit);
      visit(p, 'item', item);
    }
  }

  /**
   * Added, removed and modified paths from `before` to `after` (smd typed.Compare): a struct,
   * map or list present on one side only is added or removed itself, with its children.
   */
  compareObjects(before: JsonMap, after: JsonMap, root: TypeRef): { added: FieldSet; removed: FieldSet; modified: FieldSet } {
    const c = { added: new FieldSet(), removed: new FieldSet(), modified: new FieldSet() };
    this.compare(before, after, root, [], c);
    return c;
  }

  private compare(lhs: Json | undefined, rhs: Json | undefined, t: TypeRef, path: Path, c: { added: FieldSet; removed: FieldSet; modified: FieldSet }): void {
    if (t.valueStruct) {
      lhs ??= {};
      rhs ??= {};
    }
    const ls = lhs === undefined ? undefined : this.shape(t, lhs);
    const rs = rhs === undefined ? undefined : this.shape(t, rhs);
    const empty = (v: Json | undefined) => v === undefined || (Array.isArray(v) && v.length === 0) || (isMap(v) && Object.keys(v).length === 0);
    const leaf = ls === 'leaf' || ls === 'atomic' || rs === 'leaf' || rs === 'atomic' || (ls !== undefined && rs !== undefined && ls !== rs) || (empty(lhs) && empty(rhs));
    if (leaf) {
      if (lhs === undefined) c.added.insert(path);
      else if (rhs === undefined) c.removed.insert(path);
      else if (!deepEqual(lhs, rhs)) c.modified.insert(path);
      return;
    }
    const shape = (ls ?? rs)!;
    if (shape === 'fields') {
      const l = (lhs ?? {}) as JsonMap;
      const r = (rhs ?? {}) as JsonMap;
      for (const k of new Set([...Object.keys(l), ...Object.keys(r)])) this.compare(l[k], r[k], this.fieldType(t, k), [...path, fieldElement(k)], c);
    } else {
      const items = new Map<PathElement, [Json | undefined, Json | undefined]>();
      for (const v of (lhs ?? []) as Json[]) {
        const pe = this.itemElement(t, shape, v, path);
        if (!items.has(pe)) items.set(pe, [v, undefined]);
      }
      for (const v of (rhs ?? []) as Json[]) {
        const pe = this.itemElement(t, shape, v, path);
        const e = items.get(pe);
        if (!e) items.set(pe, [undefined, v]);
        else if (e[1] === undefined) e[1] = v;
      }
      const itemType = shape === 'list-map' ? this.itemType(t) : { ref: undefined };
      for (const [pe, [l, r]] of items) {
        if (shape === 'list-set') {
          if (l === undefined) c.added.insert([...path, pe]);
          else if (r === undefined) c.removed.insert([...path, pe]);
        } else this.compare(l, r, itemType, [...path, pe], c);
      }
    }
    if (path.length > 0) {
      if (lhs === undefined) c.added.insert(path);
      else if (rhs === undefined) c.removed.insert(path);
    }
  }

  /** `config` merged into `live` (smd typed.Merge: config wins on leaves). */
  mergeObjects(live: JsonMap, config: JsonMap, root: TypeRef): JsonMap {
    return this.merge(live, config, root, []) as JsonMap;
  }

  private merge(lhs: Json | undefined, rhs: Json | undefined, t: TypeRef, path: Path): Json | undefined {
    if (rhs === undefined) return lhs;
    if (lhs === undefined) return rhs;
    const shape = this.shape(t, rhs);
    if (shape === 'leaf' || shape === 'atomic' || this.shape(t, lhs) !== shape) return rhs;
    if (shape === 'fields') {
      const out: JsonMap = { ...(lhs as JsonMap) };
      for (const [k, v] of Object.entries(rhs as JsonMap)) {
        const m = this.merge(out[k], v, this.fieldType(t, k), [...path, fieldElement(k)]);
        if (m !== undefined) out[k] = m;
      }
      return out;
    }
    return this.mergeList(lhs as Json[], rhs as Json[], t, shape, path);
  }

  /** smd mergingWalker.visitListItems: live items keep their places, config order wins for shared items. */
  private mergeList(lhs: Json[], rhs: Json[], t: TypeRef, shape: Shape, path: Path): Json[] {
    const item = this.itemType(t);
    const lpe = lhs.map((v) => this.itemElement(t, shape, v, path));
    const rpe = rhs.map((v) => this.itemElement(t, shape, v, path));
    const lByPe = new Map(lpe.map((pe, i) => [pe, lhs[i]!]));
    const rByPe = new Map(rpe.map((pe, i) => [pe, rhs[i]!]));
    const shared = rpe.filter((pe) => lByPe.has(pe));
    let nextShared = shared.shift();
    const merged = new Set<string>();
    const out: Json[] = [];
    const mergeItem = (pe: string) => {
      const m = shape === 'list-map' ? this.merge(lByPe.get(pe), rByPe.get(pe), item, [...path, pe]) : (rByPe.get(pe) ?? lByPe.get(pe));
      if (m !== undefined) out.push(m);
    };
    let l = 0;
    let r = 0;
    while (l < lpe.length || r < rpe.length) {
      if (l < lpe.length && r < rpe.length) {
        const pe = lpe[l]!;
        if (pe === rpe[r]) {
          merged.add(pe);
          mergeItem(pe);
          l++;
          r++;
          nextShared = shared.shift();
          continue;
        }
        if (rByPe.has(pe) && nextShared !== undefined && nextShared !== pe) {
          l++;
          continue;
        }
      }
      if (l < lpe.length) {
        const pe = lpe[l]!;
        if (!rByPe.has(pe)) {
          out.push(lhs[l]!);
          l++;
          continue;
        } else if (merged.has(pe)) l++;
      }
      if (r < rpe.length) {
        const pe = rpe[r]!;
        merged.add(pe);
        mergeItem(pe);
        r++;
        if (nextShared !== undefined && nextShared === pe) nextShared = shared.shift();
      }
    }
    return out;
  }

  /** `value` without the paths in `set` (a member removes its whole value). */
  removePaths(value: JsonMap, set: FieldSet, root: TypeRef): JsonMap {
    return this.remove(value, set, root, []) as JsonMap;
  }

  private remove(value: Json, set: FieldSet, t: TypeRef, path: Path): Json {
    const shape = this.shape(t, value);
    if (shape === 'fields') {
      const out: JsonMap = {};
      for (const [k, v] of Object.entries(value as JsonMap)) {
        const p = [...path, fieldElement(k)];
        if (set.has(p)) continue;
        out[k] = set.hasPrefix(p) ? this.remove(v, set, this.fieldType(t, k), p) : v;
      }
      return out;
    }
    if (shape === 'list-map' || shape === 'list-set') {
      const out: Json[] = [];
      for (const item of value as Json[]) {
        const p = [...path, this.itemElement(t, shape, item, path)];
        if (set.has(p)) continue;
        out.push(shape === 'list-map' && set.hasPrefix(p) ? this.remove(item, set, this.itemType(t), p) : item);
      }
      return out;
    }
    return value;
  }
}
