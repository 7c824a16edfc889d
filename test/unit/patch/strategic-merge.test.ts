/**
 * Strategic merge patch on the mergeItem test type, one case per behaviour of apimachinery's
 * strategicpatch (our own cases, shaped like the ones in its patch_test.go): each gives the
 * original, the modified and the current object, the two-way patch (original → modified) and
 * kubectl apply's three-way patch, and what applying them leaves. Maps compare without order,
 * lists with it, as upstream's JSON comparison does.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { applyStrategicMergePatch } from '../../../dataplane/base/patch/strategic-merge.js';
import { createThreeWayMergePatch, createTwoWayMergePatch } from '../../../dataplane/base/patch/strategic-diff.js';
import type { JsonMap } from '../../../dataplane/base/patch/json-value.js';
import { MERGE_ITEM } from './merge-item-schema.js';

interface Case {
  name: string;
  original: string;
  modified: string;
  twoWay?: string;
  /** What the two-way patch leaves of original, when it is not `modified`. */
  twoWayResult?: string;
  current?: string;
  threeWay?: string;
  result?: string;
}

const y = (s: string): JsonMap => (parse(s) as JsonMap | null) ?? {};
const apply = (o: JsonMap, p: JsonMap) => applyStrategicMergePatch(o, p, 'mergeItem', MERGE_ITEM);

const CASES: Case[] = [
  {
    name: 'a list of scalars with the merge strategy: deletions go in $deleteFromPrimitiveList, the order in $setElementOrder',
    original: 'mergingIntList: [10, 20, 30]',
    modified: 'mergingIntList: [10, 20]',
    twoWay: `
      $setElementOrder/mergingIntList: [10, 20]
      $deleteFromPrimitiveList/mergingIntList: [30]`,
    current: 'mergingIntList: [10, 20, 30, 40]',
    threeWay: `
      $setElementOrder/mergingIntList: [10, 20]
      $deleteFromPrimitiveList/mergingIntList: [30]`,
    result: 'mergingIntList: [10, 20, 40]',
  },
  {
    name: 'a list of scalars: an addition and a deletion; an item someone else added stays',
    original: 'mergingIntList: [1, 2, 3]',
    modified: 'mergingIntList: [1, 2, 4]',
    twoWay: `
      $setElementOrder/mergingIntList: [1, 2, 4]
      $deleteFromPrimitiveList/mergingIntList: [3]
      mergingIntList: [4]`,
    current: 'mergingIntList: [1, 2, 3, 4, 5]',
    threeWay: `
      $setElementOrder/mergingIntList: [1, 2, 4]
      $deleteFromPrimitiveList/mergingIntList: [3]`,
    result: 'mergingIntList: [1, 2, 4, 5]',
  },
  {
    name: 'a list of scalars: an addition goes where $setElementOrder puts it, the server-only item after its neighbour',
    original: 'mergingIntList: [5, 6]',
    modified: 'mergingIntList: [7, 5, 6]',
    twoWay: `
      $setElementOrder/mergingIntList: [7, 5, 6]
      mergingIntList: [7]`,
    current: 'mergingIntList: [5, 8, 6]',
    threeWay: `
      $setElementOrder/mergingIntList: [7, 5, 6]
      mergingIntList: [7]`,
    result: 'mergingIntList: [7, 5, 8, 6]',
  },
  {
    name: 'a list of scalars without the merge strategy is replaced',
    original: 'nonMergingIntList: [1, 2]',
    modified: 'nonMergingIntList: [2, 3]',
    twoWay: 'nonMergingIntList: [2, 3]',
    current: 'nonMergingIntList: [1, 2, 9]',
    threeWay: 'nonMergingIntList: [2, 3]',
    result: 'nonMergingIntList: [2, 3]',
  },
  {
    name: 'a merging list of maps: a changed item carries only its change and its merge key',
    original: `
      mergingList:
        - {name: a, value: "1"}
        - {name: b, value: "2"}`,
    modified: `
      mergingList:
        - {name: a, value: "1"}
        - {name: b, value: "3"}`,
    twoWay: `
      $setElementOrder/mergingList: [{name: a}, {name: b}]
      mergingList:
        - {name: b, value: "3"}`,
    current: `
      mergingList:
        - {name: a, value: "1", other: x}
        - {name: b, value: "2"}
        - {name: c}`,
    threeWay: `
      $setElementOrder/mergingList: [{name: a}, {name: b}]
      mergingList:
        - {name: b, value: "3"}`,
    result: `
      mergingList:
        - {name: a, value: "1", other: x}
        - {name: b, value: "3"}
        - {name: c}`,
  },
  {
    name: 'a merging list of maps: an item dropped from the manifest becomes $patch: delete',
    original: `
      mergingList:
        - {name: a}
        - {name: b, value: "2"}`,
    modified: `
      mergingList:
        - {name: a}`,
    twoWay: `
      $setElementOrder/mergingList: [{name: a}]
      mergingList:
        - {name: b, $patch: delete}`,
    current: `
      mergingList:
        - {name: a}
        - {name: b, value: "2"}
        - {name: c, value: "3"}`,
    threeWay: `
      $setElementOrder/mergingList: [{name: a}]
      mergingList:
        - {name: b, $patch: delete}`,
    result: `
      mergingList:
        - {name: a}
        - {name: c, value: "3"}`,
  },
  {
    name: 'a field removed from an item of a merging list is set to null',
    original: `
      mergingList:
        - {name: a, value: "1", other: x}`,
    modified: `
      mergingList:
        - {name: a, value: "1"}`,
    twoWay: `
      $setElementOrder/mergingList: [{name: a}]
      mergingList:
        - {name: a, other: null}`,
    current: `
      mergingList:
        - {name: a, value: "1", other: x}`,
    threeWay: `
      $setElementOrder/mergingList: [{name: a}]
      mergingList:
        - {name: a, other: null}`,
    result: `
      mergingList:
        - {name: a, value: "1"}`,
  },
  {
    name: 'reordering a merging list: $setElementOrder alone, server-only items keep their place at the end',
    original: `
      mergingList:
        - {name: "1"}
        - {name: "3", value: "3"}
        - {name: "4", value: "4"}
        - {name: "2", value: "2"}`,
    modified: `
      mergingList:
        - {name: "4", value: "4"}
        - {name: "2", value: "2"}
        - {name: "3", value: "3"}
        - {name: "1"}`,
    twoWay: `
      $setElementOrder/mergingList: [{name: "4"}, {name: "2"}, {name: "3"}, {name: "1"}]`,
    current: `
      mergingList:
        - {name: "1", other: b}
        - {name: "3", value: "3"}
        - {name: "4", value: "4"}
        - {name: "2", value: "2"}
        - {name: "8"}`,
    threeWay: `
      $setElementOrder/mergingList: [{name: "4"}, {name: "2"}, {name: "3"}, {name: "1"}]`,
    result: `
      mergingList:
        - {name: "4", value: "4"}
        - {name: "2", value: "2"}
        - {name: "3", value: "3"}
        - {name: "1", other: b}
        - {name: "8"}`,
  },
  {
    name: 'a list nested in a merging list without the merge strategy is replaced whole',
    original: `
      mergingList:
        - name: a
          nonMergingList: [{name: x}, {name: y}]`,
    modified: `
      mergingList:
        - name: a
          nonMergingList: [{name: y}, {name: z}]`,
    twoWay: `
      $setElementOrder/mergingList: [{name: a}]
      mergingList:
        - name: a
          nonMergingList: [{name: y}, {name: z}]`,
    current: `
      mergingList:
        - name: a
          nonMergingList: [{name: x}, {name: y}, {name: w}]`,
    threeWay: `
      $setElementOrder/mergingList: [{name: a}]
      mergingList:
        - name: a
          nonMergingList: [{name: y}, {name: z}]`,
    result: `
      mergingList:
        - name: a
          nonMergingList: [{name: y}, {name: z}]`,
  },
  {
    name: 'a merging list that was empty: the new items are the patch, without $setElementOrder',
    original: 'name: hi',
    modified: `
      name: hi
      mergingList:
        - {name: a}
        - {name: zz, $patch: delete}`,
    twoWay: `
      mergingList:
        - {name: a}
        - {name: zz, $patch: delete}`,
    twoWayResult: `
      name: hi
      mergingList:
        - {name: a}`,
    current: `
      name: hi
      mergingList:
        - {name: b}`,
    threeWay: `
      $setElementOrder/mergingList: [{name: a}, {name: zz}]
      mergingList:
        - {name: a}`,
    result: `
      name: hi
      mergingList:
        - {name: a}
        - {name: b}`,
  },
  {
    name: 'maps merge; a key dropped from the manifest is deleted; keys others set stay',
    original: `
      simpleMap: {a: "1", b: "2"}`,
    modified: `
      simpleMap: {a: "1", c: "3"}`,
    twoWay: `
      simpleMap: {b: null, c: "3"}`,
    current: `
      simpleMap: {a: "1", b: "2", z: "26"}`,
    threeWay: `
      simpleMap: {b: null, c: "3"}`,
    result: `
      simpleMap: {a: "1", c: "3", z: "26"}`,
  },
  {
    name: 'retainKeys on a map: a field someone else defaulted is cleared when the manifest sets another',
    original: '{}',
    modified: `
      retainKeysMap: {other: bar}`,
    twoWay: `
      retainKeysMap: {other: bar}`,
    current: `
      retainKeysMap: {value: foo}`,
    threeWay: `
      retainKeysMap:
        $retainKeys: [other]
        other: bar`,
    result: `
      retainKeysMap: {other: bar}`,
  },
  {
    name: 'retainKeys on a map: adding a field clears the fields that are neither applied nor listed',
    original: `
      retainKeysMap: {name: foo}`,
    modified: `
      retainKeysMap: {name: foo, value: bar}`,
    twoWay: `
      retainKeysMap:
        $retainKeys: [name, value]
        value: bar`,
    current: `
      retainKeysMap: {name: foo, other: a}`,
    threeWay: `
      retainKeysMap:
        $retainKeys: [name, value]
        value: bar`,
    result: `
      retainKeysMap: {name: foo, value: bar}`,
  },
  {
    name: 'retainKeys on the items of a merging list',
    original: `
      retainKeysMergingList: [{name: bar}, {name: foo}]`,
    modified: `
      retainKeysMergingList: [{name: bar}, {name: foo, value: a}]`,
    twoWay: `
      $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
      retainKeysMergingList:
        - {$retainKeys: [name, value], name: foo, value: a}`,
    current: `
      retainKeysMergingList: [{name: bar}, {name: foo, other: x}]`,
    threeWay: `
      $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
      retainKeysMergingList:
        - {$retainKeys: [name, value], name: foo, value: a}`,
    result: `
      retainKeysMergingList: [{name: bar}, {name: foo, value: a}]`,
  },
  {
    name: 'a field with the replace strategy is replaced whole',
    original: `
      replacingItem: {a: {b: 1}}`,
    modified: `
      replacingItem: {c: 2}`,
    twoWay: `
      replacingItem: {c: 2}`,
    current: `
      replacingItem: {a: {b: 1}, d: 4}`,
    threeWay: `
      replacingItem: {c: 2}`,
    result: `
      replacingItem: {c: 2}`,
  },
];

describe('strategic merge patch (mergeItem cases)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const original = y(c.original);
      const modified = y(c.modified);
      if (c.twoWay !== undefined) {
        const patch = createTwoWayMergePatch(original, modified, 'mergeItem', MERGE_ITEM);
        expect(patch).toEqual(y(c.twoWay));
        expect(apply(original, patch)).toEqual(y(c.twoWayResult ?? c.modified));
      }
      if (c.threeWay !== undefined) {
        const current = y(c.current ?? '');
        const patch = createThreeWayMergePatch(original, modified, current, 'mergeItem', MERGE_ITEM);
        expect(patch).toEqual(y(c.threeWay));
        expect(apply(current, patch)).toEqual(y(c.result ?? ''));
      }
    });
  }
});

/** Patches applied on their own (the directives a client writes by hand). */
const APPLY: Array<{ name: string; original: string; patch: string; result: string }> = [
  { name: 'null deletes a key', original: 'name: a\nvalue: b', patch: 'value: null', result: 'name: a' },
  { name: 'a null that matches nothing is dropped', original: 'name: a', patch: 'value: null\nsimpleMap: {k: null, j: "1"}', result: 'name: a\nsimpleMap: {j: "1"}' },
  { name: '$patch: replace on a map keeps only the patch', original: 'simpleMap: {a: "1", b: "2"}', patch: 'simpleMap: {$patch: replace, c: "3"}', result: 'simpleMap: {c: "3"}' },
  { name: '$patch: delete on a map empties it', original: 'simpleMap: {a: "1"}', patch: 'simpleMap: {$patch: delete}', result: 'simpleMap: {}' },
  { name: '$patch: replace on the whole object', original: 'name: a\nvalue: b', patch: '$patch: replace\nother: c', result: 'other: c' },
  {
    name: '$patch: replace in a merging list makes the list exactly the other items',
    original: 'mergingList: [{name: a, value: "1"}, {name: b}]',
    patch: 'mergingList: [{$patch: replace}, {name: c}]',
    result: 'mergingList: [{name: c}]',
  },
  { name: '$patch: replace alone empties a merging list', original: 'mergingList: [{name: a}, {name: b}]', patch: 'mergingList: [{$patch: replace}]', result: 'mergingList: []' },
  {
    name: '$patch: delete removes every item with that key',
    original: 'mergingList: [{name: a}, {name: a}, {name: b, value: x}, {name: c}, {name: c}]',
    patch: 'mergingList: [{name: a, $patch: delete}, {name: c, $patch: delete}]',
    result: 'mergingList: [{name: b, value: x}]',
  },
  { name: 'a merging list of scalars becomes the union', original: 'mergingIntList: [1, 2]', patch: 'mergingIntList: [2, 3]', result: 'mergingIntList: [1, 2, 3]' },
  { name: '$deleteFromPrimitiveList of a missing item changes nothing', original: 'mergingIntList: [1, 2]', patch: '$deleteFromPrimitiveList/mergingIntList: [3]', result: 'mergingIntList: [1, 2]' },
  { name: '$deleteFromPrimitiveList on a missing list adds no list', original: 'name: a', patch: '$deleteFromPrimitiveList/mergingIntList: [3]', result: 'name: a' },
  { name: '$deleteFromPrimitiveList works on a list without the merge strategy too', original: 'nonMergingIntList: [1, 2, 3]', patch: '$deleteFromPrimitiveList/nonMergingIntList: [2]', result: 'nonMergingIntList: [1, 3]' },
  {
    name: '$setElementOrder places new items where it says, server-only items by their old neighbours',
    original: 'mergingList: [{name: a}, {name: s}, {name: b}]',
    patch: '$setElementOrder/mergingList: [{name: c}, {name: a}, {name: b}]\nmergingList: [{name: c}]',
    result: 'mergingList: [{name: c}, {name: a}, {name: s}, {name: b}]',
  },
  {
    name: 'a directive inside a new value is dropped',
    original: 'name: a',
    patch: 'mergingList: [{name: x}, {name: y, $patch: delete}]',
    result: 'name: a\nmergingList: [{name: x}]',
  },
];

describe('strategic merge patch: applying directives', () => {
  for (const c of APPLY) {
    it(c.name, () => {
      expect(apply(y(c.original), y(c.patch))).toEqual(y(c.result));
    });
  }

  it('does not modify its arguments', () => {
    const original = y('mergingList: [{name: a, value: "1"}]\nsimpleMap: {k: v}');
    const patch = y('$setElementOrder/mergingList: [{name: b}, {name: a}]\nmergingList: [{name: b}]\nsimpleMap: {k: null}');
    const before = JSON.stringify([original, patch]);
    apply(original, patch);
    expect(JSON.stringify([original, patch])).toBe(before);
  });
});

describe('strategic merge patch: errors carry upstream messages', () => {
  const fails = (original: string, patch: string) => () => apply(y(original), y(patch));
  it('an item without the merge key', () => {
    expect(fails('mergingList: [{name: a}]', 'mergingList: [{value: b}]')).toThrow('does not contain declared merge key: name');
  });
  it('a $setElementOrder list that does not match the patch list', () => {
    expect(fails('mergingList: [{name: a}]', '$setElementOrder/mergingList: [{name: a}]\nmergingList: [{name: b}]')).toThrow("doesn't match $setElementOrder list");
  });
  it('a field not named in $retainKeys', () => {
    expect(fails('retainKeysMap: {name: a}', 'retainKeysMap: {$retainKeys: [name], value: b}')).toThrow('invalid patch format of retainKeys');
  });
  it('an unknown $patch directive', () => {
    expect(fails('simpleMap: {a: "1"}', 'simpleMap: {$patch: frobnicate}')).toThrow('unknown patch type: frobnicate');
  });
  it('a malformed $deleteFromPrimitiveList key', () => {
    expect(fails('mergingIntList: [1]', '$deleteFromPrimitiveListmergingIntList: [1]')).toThrow('invalid patch format of primitive list');
  });
  it('a list of lists', () => {
    expect(fails('mergingIntList: [[1]]', 'mergingIntList: [[2]]')).toThrow('lists of lists are not supported');
    expect(fails('mergingIntList: [1]', 'mergingIntList: [[2]]')).toThrow('list element types are not identical: [[1] [[2]]]');
  });
});
