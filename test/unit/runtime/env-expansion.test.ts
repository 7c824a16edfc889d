import { describe, expect, it } from 'vitest';
import { expand, mappingFor } from '../../../dataplane/node/runtime/env-expansion.js';

describe('expand $(VAR) like the kubelet', () => {
  const mapping = mappingFor(new Map([['A', 'alpha'], ['EMPTY', '']]), new Map([['B', 'beta'], ['A', 'shadowed']]));
  it.each([
    ['$(A)', 'alpha'],
    ['x-$(A)-$(B)-y', 'x-alpha-beta-y'],
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['$$(A)', '$(A)'],
    ['$$', '$'],
    ['$A', '$A'],
    ['$(A', '$(A'],
    ['trailing $', 'trailing $'],
    ['$(EMPTY)x', 'x'],
    ['', ''],
    ['no refs', 'no refs'],
  ])('%j → %j', (input, want) => expect(expand(input, mapping)).toBe(want));
});
