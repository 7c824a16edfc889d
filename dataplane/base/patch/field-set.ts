/**
 * Sets of field paths, as structured-merge-diff's fieldpath.Set: what a manager owns, what an
 * applied configuration sets, what changed between two objects. A path is a list of path
 * elements, each one of
 *
 *   f:<name>           a field of a struct or a key of a map
 *   k:{"name":"web"}   the item of an associative list (listType map) with these key fields
 *   v:<json>           the item of a set (listType set) with this value
 *   i:<n>              the n-th item of a list with neither
 *
 * which is also how they are written in managedFields (FieldsV1): a nested object whose keys
 * are path elements, with `".": {}` where a path with children is itself in the set.
 * Elements are ordered as smd orders them (fields, then keys, then values, then indexes).
 */
import { isMap, type Json, type JsonMap } from './json-value.js';

export type PathElement = string;
export type Path = PathElement[];

interface Node {
  /** The path to this node is itself in the set. */
  member: boolean;
  children: Map<PathElement, Node>;
}

const newNode = (): Node => ({ member: false, children: new Map() });

export class FieldSet {
  private readonly root: Node = newNode();

  static of(paths: Iterable<Path>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(path: Path): void {
    let n = this.root;
    for (const pe of path) {
      let c = n.children.get(pe);
      if (!c) n.children.set(pe, (c = newNode()));
      n = c;
    }
    n.member = true;
  }

  has(path: Path): boolean {
    let n: Node | undefined = this.root;
    for (const pe of path) {
      n = n.children.get(pe);
      if (!n) return false;
    }
    return n.member;
  }

  /** Whether any path in the set starts with `prefix` (the prefix itself included). */
  hasPrefix(prefix: Path): boolean {
    let n: Node | undefined = this.root;
    for (const pe of prefix) {
      n = n.children.get(pe);
      if (!n) return false;
    }
    return n.member || n.children.size > 0;
  }

  isEmpty(): boolean {
    return this.root.children.size === 0 && !this.root.member;
  }

  /** Every path in the set, in smd order (a member before its children). */
  paths(): Path[] {
    const out: Path[] = [];
    const walk = (n: Node, prefix: Path) => {
      if (n.member && prefix.length) out.push(prefix);
      for (const pe of sortedElements(n.children.keys())) walk(n.children.get(pe)!, [...prefix, pe]);
    };
    walk(this.root, []);
    return out;
  }

  union(other: FieldSet): FieldSet {
    return FieldSet.of([...this.paths(), ...other.paths()]);
  }

  difference(other: FieldSet): FieldSet {
    return FieldSet.of(this.paths().filter((p) => !other.has(p)));
  }

  intersection(other: FieldSet): FieldSet {
    return FieldSet.of(this.paths().filter((p) => other.has(p)));
  }

  equals(other: FieldSet): boolean {
    return JSON.stringify(this.toFieldsV1()) === JSON.stringify(other.toFieldsV1());
  }

  /** The set with every path's named-field prefixes (`f:…` elements) as members too (smd EnsureNamedFieldsAreMembers). */
  withNamedFieldsAsMembers(): FieldSet {
    const out = FieldSet.of(this.paths());
    for (const p of this.paths()) {
      for (let i = 1; i < p.length; i++) if (p[i - 1]!.startsWith('f:')) out.insert(p.slice(0, i));
    }
    return out;
  }

  /** The FieldsV1 object of managedFields. */
  toFieldsV1(): JsonMap {
    const emit = (n: Node, self: boolean): JsonMap => {
      const out: JsonMap = {};
      if (self && n.children.size > 0) out['.'] = {};
      for (const pe of sortedElements(n.children.keys())) {
        const c = n.children.get(pe)!;
        out[pe] = c.children.size > 0 ? emit(c, c.member) : {};
      }
      return out;
    };
    return emit(this.root, false);
  }

  /** Reads a FieldsV1 object; throws on a key that is no path element. */
  static fromFieldsV1(fields: Json | undefined): FieldSet {
    const s = new FieldSet();
    const read = (obj: Json, prefix: Path) => {
      if (!isMap(obj)) throw new Error(`FieldsV1 at ${pathString(prefix) || '<root>'} is not an object`);
      for (const [k, v] of Object.entries(obj)) {
        if (k === '.') {
          s.insert(prefix);
          continue;
        }
        if (!/^[fkvi]:/.test(k)) throw new Error(`invalid path element ${JSON.stringify(k)} in FieldsV1`);
        const p = [...prefix, k];
        if (isMap(v) && Object.keys(v).length === 0) s.insert(p);
        else read(v, p);
      }
    };
    if (fields !== undefined && fields !== null) read(fields, []);
    return s;
  }
}

// ---- path elements ----
export const fieldElement = (name: string): PathElement => `f:${name}`;
export const valueElement = (v: Json): PathElement => `v:${JSON.stringify(v)}`;
export const indexElement = (i: number): PathElement => `i:${i}`;
/** `k:{"containerPort":80,"protocol":"TCP"}`: the key fields sorted by name. */
export function keyElement(fields: Record<string, Json>): PathElement {
  const sorted = Object.keys(fields).sort();
  return `k:{${sorted.map((k) => `${JSON.stringify(k)}:${JSON.stringify(fields[k])}`).join(',')}}`;
}

const RANK: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

/** smd's value order: numbers, strings, booleans, lists, maps; null first. */
function compareValues(a: Json, b: Json): number {
  const rank = (v: Json) => (v === null ? 0 : typeof v === 'number' ? 1 : typeof v === 'string' ? 2 : typeof v === 'boolean' ? 3 : Array.isArray(v) ? 4 : 5);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number') return a - (b as number);
  if (typeof a === 'string') return a < (b as string) ? -1 : a > (b as string) ? 1 : 0;
  if (typeof a === 'boolean') return Number(a) - Number(b as boolean);
  if (Array.isArray(a)) {
    const bl = b as Json[];
    for (let i = 0; i < Math.min(a.length, bl.length); i++) {
      const c = compareValues(a[i]!, bl[i]!);
      if (c) return c;
    }
    return a.length - bl.length;
  }
  if (isMap(a)) return compareFieldLists(a, b as JsonMap);
  return 0;
}

function compareFieldLists(a: JsonMap, b: JsonMap): number {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
    const c = compareValues(a[ka[i]!]!, b[kb[i]!]!);
    if (c) return c;
  }
  return ka.length - kb.length;
}

export function compareElements(a: PathElement, b: PathElement): number {
  const ra = RANK[a[0]!]!;
  const rb = RANK[b[0]!]!;
  if (ra !== rb) return ra - rb;
  const va = a.slice(2);
  const vb = b.slice(2);
  if (a[0] === 'f') return va < vb ? -1 : va > vb ? 1 : 0;
  if (a[0] === 'i') return Number(va) - Number(vb);
  return compareValues(JSON.parse(va) as Json, JSON.parse(vb) as Json);
}

function sortedElements(elements: Iterable<PathElement>): PathElement[] {
  return [...elements].sort(compareElements);
}

/** `.spec.containers[name="web"].image`: a path as conflicts print it (smd Path.String). */
export function pathString(path: Path): string {
  return path
    .map((pe) => {
      const body = pe.slice(2);
      switch (pe[0]) {
        case 'f':
          return `.${body}`;
        case 'k': {
          const key = JSON.parse(body) as JsonMap;
          return `[${Object.keys(key)
            .map((k) => `${k}=${JSON.stringify(key[k])}`)
            .join(',')}]`;
        }
        case 'v':
          return `[=${body}]`;
        default:
          return `[${body}]`;
      }
    })
    .join('');
}
