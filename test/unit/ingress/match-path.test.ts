import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { matchesExact, matchesPrefix, orderLocations, selectLocation, type PathType } from '../../../ingress/match-path.js';
import { route } from '../../../ingress/route.js';
import { ingress, path, rule, tableFor } from './fixtures.js';

/**
 * The Kubernetes docs' path-matching examples (concepts/services-networking/ingress.md,
 * "Examples"), every row, run through the whole pipeline: Ingress → route table → route.
 * Backends are named after their path so the expected column reads like the docs.
 */
type Row = { paths: Array<[PathType, string]>; request: string; expect: string | null };

const name = (type: PathType, p: string) => `${type.toLowerCase()}${p.replace(/\//g, '-') || '-root'}`;
const ex = (p: string) => name('Exact', p);
const px = (p: string) => name('Prefix', p);

const rows: Row[] = [
  { paths: [['Prefix', '/']], request: '/', expect: px('/') },
  { paths: [['Prefix', '/']], request: '/anything/at/all', expect: px('/') },
  { paths: [['Exact', '/foo']], request: '/foo', expect: ex('/foo') },
  { paths: [['Exact', '/foo']], request: '/bar', expect: null },
  { paths: [['Exact', '/foo']], request: '/foo/', expect: null },
  { paths: [['Exact', '/foo/']], request: '/foo', expect: null },
  { paths: [['Prefix', '/foo']], request: '/foo', expect: px('/foo') },
  { paths: [['Prefix', '/foo']], request: '/foo/', expect: px('/foo') },
  { paths: [['Prefix', '/foo/']], request: '/foo', expect: px('/foo/') },
  { paths: [['Prefix', '/foo/']], request: '/foo/', expect: px('/foo/') },
  { paths: [['Prefix', '/aaa/bb']], request: '/aaa/bbb', expect: null },
  { paths: [['Prefix', '/aaa/bbb']], request: '/aaa/bbb', expect: px('/aaa/bbb') },
  { paths: [['Prefix', '/aaa/bbb/']], request: '/aaa/bbb', expect: px('/aaa/bbb/') },
  { paths: [['Prefix', '/aaa/bbb']], request: '/aaa/bbb/', expect: px('/aaa/bbb') },
  { paths: [['Prefix', '/aaa/bbb']], request: '/aaa/bbb/ccc', expect: px('/aaa/bbb') },
  { paths: [['Prefix', '/aaa/bbb']], request: '/aaa/bbbxyz', expect: null },
  { paths: [['Prefix', '/'], ['Prefix', '/aaa']], request: '/aaa/ccc', expect: px('/aaa') },
  { paths: [['Prefix', '/'], ['Prefix', '/aaa'], ['Prefix', '/aaa/bbb']], request: '/aaa/bbb', expect: px('/aaa/bbb') },
  { paths: [['Prefix', '/'], ['Prefix', '/aaa'], ['Prefix', '/aaa/bbb']], request: '/ccc', expect: px('/') },
  { paths: [['Prefix', '/aaa']], request: '/ccc', expect: null },
  { paths: [['Prefix', '/foo'], ['Exact', '/foo']], request: '/foo', expect: ex('/foo') },
  // Order in the Ingress does not matter for "Exact before Prefix".
  { paths: [['Exact', '/foo'], ['Prefix', '/foo']], request: '/foo', expect: ex('/foo') },
  { paths: [['Prefix', '/foo'], ['Exact', '/foo']], request: '/foo/bar', expect: px('/foo') },
  // ImplementationSpecific is Prefix in ingress-nginx (element-wise here).
  { paths: [['ImplementationSpecific', '/foo']], request: '/foo/x', expect: name('ImplementationSpecific', '/foo') },
  { paths: [['ImplementationSpecific', '/foo']], request: '/foobar', expect: null },
  // Case-sensitive.
  { paths: [['Prefix', '/Foo']], request: '/foo', expect: null },
  // Matching uses the normalized path.
  { paths: [['Prefix', '/aaa/bbb']], request: '/aaa/./x/../bbb//c?q=1', expect: px('/aaa/bbb') },
];

describe('Ingress v1 path matching (docs examples table)', () => {
  it.each(rows)('$paths → $request', (row) => {
    const ing = ingress('paths', [rule('example.com', ...row.paths.map(([t, p]) => path(p, t, name(t, p))))]);
    const d = route(tableFor({ ingresses: [ing] }), { host: 'example.com', path: row.request, clientIp: '127.0.0.1', scheme: 'http' });
    if (row.expect === null) {
      expect(d.action).toBe('respond');
      if (d.action === 'respond') {
        expect(d.status).toBe(404);
        expect(d.defaultBackend).toBe(true);
      }
    } else {
      expect(d.action).toBe('proxy');
      expect(d.info.service).toBe(row.expect);
    }
  });
});

describe('matchesPrefix / matchesExact', () => {
  it.each([
    ['/', '/', true],
    ['/', '/x', true],
    ['/foo', '/foo', true],
    ['/foo', '/foo/', true],
    ['/foo', '/foo/bar', true],
    ['/foo', '/foobar', false],
    ['/foo/', '/foo', true],
    ['/foo/', '/foobar', false],
    ['/foo//', '/foo', true],
    ['/foo/bar', '/foo', false],
  ])('Prefix %s vs %s → %s', (p, r, want) => expect(matchesPrefix(p, r)).toBe(want));

  it.each([
    ['/foo', '/foo', true],
    ['/foo', '/foo/', false],
    ['/foo/', '/foo', false],
    ['/foo', '/FOO', false],
  ])('Exact %s vs %s → %s', (p, r, want) => expect(matchesExact(p, r)).toBe(want));

  it('longest match wins regardless of declaration order', () => {
    const locs = orderLocations(
      [
        { path: '/', pathType: 'Prefix' as PathType },
        { path: '/a/b', pathType: 'Prefix' as PathType },
        { path: '/a', pathType: 'Prefix' as PathType },
        { path: '/a/b', pathType: 'Exact' as PathType },
      ],
      false,
    );
    expect(selectLocation(locs, '/a/b', false)).toEqual({ path: '/a/b', pathType: 'Exact' });
    expect(selectLocation(locs, '/a/b/c', false)).toEqual({ path: '/a/b', pathType: 'Prefix' });
    expect(selectLocation(locs, '/a/x', false)).toEqual({ path: '/a', pathType: 'Prefix' });
    expect(selectLocation(locs, '/z', false)).toEqual({ path: '/', pathType: 'Prefix' });
  });

  it('never throws and agrees with a naive element-wise definition (property)', () => {
    const seg = fc.constantFrom('a', 'b', 'aa', 'ab', '');
    const pathArb = fc.array(seg, { maxLength: 4 }).map((s) => '/' + s.join('/'));
    fc.assert(
      fc.property(pathArb, pathArb, (p, r) => {
        const pe = p.split('/').filter(Boolean);
        const re = r.split('/').filter(Boolean);
        const naive = pe.every((e, i) => re[i] === e);
        // Empty inner segments ("//") are never produced by normalization; skip them.
        fc.pre(!r.includes('//') && !p.includes('//'));
        expect(matchesPrefix(p, r)).toBe(naive);
      }),
    );
  });
});
