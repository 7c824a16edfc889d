/**
 * A test type like apimachinery strategicpatch's `mergeItem` (patch_test.go), so cases can
 * exercise every strategy on one small type: merging and replaced lists of maps and of
 * scalars, a map, a replace-strategy field and retainKeys fields.
 */
import type { TypeTree } from '../../../dataplane/base/patch/api-schema.js';

const mergeFields = {
  name: 'string',
  value: 'string',
  other: 'string',
  mergingList: { type: '[]mergeItem', patchStrategy: 'merge', patchMergeKey: 'name' },
  nonMergingList: '[]mergeItem',
  mergingIntList: { type: '[]integer', patchStrategy: 'merge' },
  nonMergingIntList: '[]integer',
  simpleMap: '{}string',
};

export const MERGE_ITEM: TypeTree = {
  types: {
    mergeItem: {
      fields: {
        ...mergeFields,
        replacingItem: { type: 'object', patchStrategy: 'replace' },
        retainKeysMap: { type: 'retainKeysMergeItem', patchStrategy: 'retainKeys' },
        retainKeysMergingList: { type: '[]mergeItem', patchStrategy: 'merge,retainKeys', patchMergeKey: 'name' },
      },
    },
    retainKeysMergeItem: { fields: mergeFields },
  },
};
