import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { searchCandidates } from '../../../dataplane/node/shell/search-path.js';

const search = ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'];

describe('search-list expansion (ndots:5)', () => {
  it.each([
    // name, glibc, musl
    ['web', ['web.shop.svc.cluster.local', 'web.svc.cluster.local', 'web.cluster.local', 'web'], ['web.shop.svc.cluster.local', 'web.svc.cluster.local', 'web.cluster.local', 'web']],
    ['web.other', ['web.other.shop.svc.cluster.local', 'web.other.svc.cluster.local', 'web.other.cluster.local', 'web.other'], null],
    ['example.com', ['example.com.shop.svc.cluster.local', 'example.com.svc.cluster.local', 'example.com.cluster.local', 'example.com'], null],
    ['web.shop.svc.cluster.local', ['web.shop.svc.cluster.local.shop.svc.cluster.local', 'web.shop.svc.cluster.local.svc.cluster.local', 'web.shop.svc.cluster.local.cluster.local', 'web.shop.svc.cluster.local'], null],
    ['a.b.c.d.e.f', ['a.b.c.d.e.f', 'a.b.c.d.e.f.shop.svc.cluster.local', 'a.b.c.d.e.f.svc.cluster.local', 'a.b.c.d.e.f.cluster.local'], ['a.b.c.d.e.f']],
    ['web.shop.svc.cluster.local.', ['web.shop.svc.cluster.local'], ['web.shop.svc.cluster.local']],
  ] as const)('%s', (name, glibc, musl) => {
    expect(searchCandidates(name, search, 5, 'glibc')).toEqual(glibc);
    expect(searchCandidates(name, search, 5, 'musl')).toEqual(musl ?? glibc);
  });

  it('with ndots:1 a dotted name is tried as it is first', () => {
    expect(searchCandidates('web.shop', search, 1)).toEqual(['web.shop', ...search.map((s) => `web.shop.${s}`)]);
    expect(searchCandidates('web', search, 1)).toEqual([...search.map((s) => `web.${s}`), 'web']);
  });

  it('always ends with or starts with the name itself, and never tries a name twice', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,5}(\.[a-z]{1,5}){0,6}$/), fc.integer({ min: 0, max: 15 }), (name, ndots) => {
        const c = searchCandidates(name, search, ndots);
        expect(c.includes(name)).toBe(true);
        expect(new Set(c).size).toBe(c.length);
        expect(c.length).toBe(search.length + 1);
      }),
    );
  });
});
