import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  formatLabelSelector,
  formatRequirements,
  matchesLabelSelector,
  matchesRequirements,
  matchesServiceSelector,
  parseSelector,
  SelectorParseError,
} from '../../../dataplane/base/model/selector.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';

const labels = { app: 'web', tier: 'front', version: '3', 'example.com/team': 'net' };

describe('LabelSelector objects', () => {
  const cases: Array<[string, LabelSelector | undefined, boolean]> = [
    ['missing selector matches nothing', undefined, false],
    ['empty selector matches everything', {}, true],
    ['matchLabels all present', { matchLabels: { app: 'web', tier: 'front' } }, true],
    ['matchLabels one differs', { matchLabels: { app: 'web', tier: 'back' } }, false],
    ['matchLabels key missing', { matchLabels: { zone: 'a' } }, false],
    ['In hit', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, true],
    ['In miss', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] }, false],
    ['In on a missing key', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
    ['NotIn hit', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['back'] }] }, true],
    ['NotIn miss', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, false],
    ['NotIn on a missing key holds', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'example.com/team', operator: 'Exists' }] }, true],
    ['Exists miss', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
    ['DoesNotExist miss', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    ['labels and expressions are ANDed', { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] }, false],
    ['In without values is invalid: matches nothing', { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] }, false],
    ['Exists with values is invalid', { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] }, false],
    ['unknown operator matches nothing', { matchExpressions: [{ key: 'app', operator: 'Gt', values: ['1'] }] }, false],
  ];
  it.each(cases)('%s', (_name, sel, want) => {
    expect(matchesLabelSelector(sel, labels)).toBe(want);
  });

  it('formats like kubectl', () => {
    expect(formatLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 't', operator: 'NotIn', values: ['a', 'b'] }, { key: 'x', operator: 'DoesNotExist' }] })).toBe(
      'app=web,t notin (a,b),!x',
    );
    expect(formatLabelSelector(undefined)).toBe('<none>');
    expect(formatLabelSelector({})).toBe('<none>');
  });
});

describe('Service selectors', () => {
  const cases: Array<[string, Record<string, string> | undefined, boolean]> = [
    ['missing selects nothing', undefined, false],
    ['empty selects nothing', {}, false],
    ['all pairs present', { app: 'web', tier: 'front' }, true],
    ['one pair differs', { app: 'web', tier: 'back' }, false],
    ['key missing', { zone: 'a' }, false],
  ];
  it.each(cases)('%s', (_name, sel, want) => {
    expect(matchesServiceSelector(sel, labels)).toBe(want);
  });
});

describe('parseSelector (kubectl -l)', () => {
  const cases: Array<[string, boolean]> = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app = web , tier=front', true],
    ['app!=api', true],
    ['app!=web', false],
    ['zone!=a', true],
    ['tier in (front,back)', true],
    ['tier in (back)', false],
    ['tier notin (back)', true],
    ['tier notin (front, back)', false],
    ['app', true],
    ['zone', false],
    ['!zone', true],
    ['!app', false],
    ['version>2', true],
    ['version>3', false],
    ['version<4', true],
    ['example.com/team=net', true],
    ['app=web,!zone,tier in (front)', true],
    ['app=web,zone', false],
    ['app=', false],
    ['zone=', false],
  ];
  it.each(cases)('%j matches=%s', (input, want) => {
    expect(matchesRequirements(parseSelector(input), labels)).toBe(want);
  });

  it('keeps a missing value apart from any value: "a=" requires the empty string', () => {
    expect(matchesRequirements(parseSelector('a='), { a: '' })).toBe(true);
    expect(matchesRequirements(parseSelector('a in (,x)'), { a: '' })).toBe(true);
  });

  const errors: Array<[string, RegExp]> = [
    ['app in web', /found 'web', expected: '\('/],
    ['app in (a', /expected: ',' or '\)'/],
    ['=web', /found '=', expected: identifier/],
    ['app=web,', /found end of string, expected: identifier/],
    ['app web', /found 'web', expected:/],
    ['!app=web', /expected: ',' or end of string/],
    ['ver>x', /expected: an integer/],
    ['-bad=x', /invalid label key "-bad"/],
    ['Bad.Prefix/x=y', /prefix part/],
    ['a=-x', /invalid label value/],
    [`${'k'.repeat(64)}=v`, /no more than 63/],
  ];
  it.each(errors)('rejects %j', (input, want) => {
    expect(() => parseSelector(input)).toThrow(SelectorParseError);
    expect(() => parseSelector(input)).toThrow(want);
  });

  it('round-trips through formatRequirements', () => {
    for (const s of ['app=web', 'app!=web', 'tier in (a,b)', 'tier notin (a,b)', 'app', '!app', 'v>3', 'v<3', 'a=b,!c,d in (e,f)']) {
      expect(formatRequirements(parseSelector(s))).toBe(s);
    }
  });

  it('never crashes on arbitrary input: it parses or throws SelectorParseError', () => {
    const alphabet = fc.constantFrom(...'ab=!(),<> inotx-_./1 '.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(alphabet, { maxLength: 30 }).map((a) => a.join(''))), (s) => {
        try {
          const reqs = parseSelector(s);
          expect(Array.isArray(reqs)).toBe(true);
          matchesRequirements(reqs, labels);
        } catch (err) {
          expect(err).toBeInstanceOf(SelectorParseError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
