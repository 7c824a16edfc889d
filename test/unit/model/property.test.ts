import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../../../dataplane/base/model/defaults/index.js';
import { KINDS, type KObject } from '../../../dataplane/base/model/object.js';
import { validateObject, validateUpdate } from '../../../dataplane/base/model/validate/index.js';
import { fixtureDocs } from './fixtures.js';

// Validation must answer every input with a list of errors, never an exception: manifests come
// from users, and one that crashes the validator would take `knet apply` down with it.

const valid = [...fixtureDocs('knet'), ...fixtureDocs('k8s-doc-examples')].map((d) => d.object);

/** Values of every JSON shape, biased towards the ones manifests hold. */
const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom('', 'None', 'TCP', 'Local', 'ClientIP', 'LoadBalancer', '10.0.0.1', '*.a.com', '/x', '25%', 'a=b', '0', -1, 0, 1, 65536, 1.5, 86400, null, {}, []),
  fc.string(),
  fc.integer(),
);

type Path = (string | number)[];

/** Every path inside a JSON value, containers included. */
function paths(v: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(v)) v.forEach((e, i) => out.push(...paths(e, [...prefix, i])));
  else if (v && typeof v === 'object') for (const [k, e] of Object.entries(v)) out.push(...paths(e, [...prefix, k]));
  return out;
}

function isObjectAt(obj: unknown, path: Path): boolean {
  const v = path.reduce<unknown>((cur, step) => (cur as Record<string | number, unknown>)[step], obj);
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A copy of `obj` with the value at `path` replaced (or removed when `value` is undefined). */
function mutate(obj: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(obj) as Record<string | number, unknown>;
  let cur: Record<string | number, unknown> = copy;
  for (const step of path.slice(0, -1)) cur = cur[step] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (replacement === undefined && !Array.isArray(cur)) delete cur[last];
  else cur[last] = replacement;
  return copy;
}

/** A valid manifest with a few of its values replaced, removed, or joined by new fields. */
const mutated: fc.Arbitrary<unknown> = fc
  .tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.option(value, { nil: undefined }), fc.boolean()), { minLength: 1, maxLength: 4 }))
  .map(([base, edits]) =>
    edits.reduce<unknown>((obj, [pick, replacement, addField]) => {
      const all = paths(obj);
      if (!addField) return mutate(obj, all[pick % all.length], replacement);
      const objects = all.filter((p) => isObjectAt(obj, p));
      return objects.length ? mutate(obj, [...objects[pick % objects.length], 'extra'], replacement) : obj;
    }, base),
  );

const strings = fc.oneof(
  fc.constantFrom('', 'None', 'TCP', 'UDP', 'Local', 'Cluster', 'ClientIP', 'NodePort', 'LoadBalancer', 'ExternalName', 'Prefix', 'Exact', 'IPv6', 'FQDN'),
  fc.constantFrom('10.0.0.1', '127.96.0.5', 'fd00::1', '0.0.0.0', '*.a.com', 'a..b', '/x/../y', '25%', '120%', 'http', 'In', 'Exists', 'Always', 'Never'),
  fc.string({ maxLength: 70 }),
);

/**
 * Type-preserving edits (a string for a string, an integer for a number, a removed field), so
 * most results still decode and the kind validators, not the schema check, see them.
 */
const retyped: fc.Arbitrary<unknown> = fc
  .tuple(
    fc.constantFrom(...valid),
    fc.array(fc.tuple(fc.nat(), strings, fc.integer({ min: -5, max: 100000 }), fc.boolean(), fc.nat(9)), { minLength: 1, maxLength: 5 }),
  )
  .map(([base, edits]) =>
    edits.reduce<unknown>((obj, [pick, str, int, bool, how]) => {
      const all = paths(obj).filter((p) => p.length > 0 && p[0] !== 'apiVersion' && p[0] !== 'kind');
      if (all.length === 0) return obj;
      const target = all[pick % all.length];
      const current = target.reduce<unknown>((cur, step) => (cur as Record<string | number, unknown>)[step], obj);
      if (how === 0) return mutate(obj, target, undefined);
      if (typeof current === 'string') return mutate(obj, target, str);
      if (typeof current === 'number') return mutate(obj, target, int);
      if (typeof current === 'boolean') return mutate(obj, target, bool);
      if (Array.isArray(current)) return mutate(obj, target, how < 5 ? [] : [...current, ...current]);
      return mutate(obj, target, how < 5 ? {} : current);
    }, base),
  );

/** Objects of a known kind and version with arbitrary contents. */
const kindShaped: fc.Arbitrary<unknown> = fc
  .tuple(fc.constantFrom(...(Object.keys(KINDS) as (keyof typeof KINDS)[])), fc.dictionary(fc.constantFrom('metadata', 'spec', 'status', 'data', 'subsets', 'endpoints', 'ports', 'addressType', 'type'), value))
  .map(([kind, body]) => ({ ...body, apiVersion: KINDS[kind].apiVersion, kind }));

function checkErrors(errs: unknown): void {
  expect(Array.isArray(errs)).toBe(true);
  for (const e of errs as { field: unknown; message: unknown }[]) {
    expect(typeof e.field).toBe('string');
    expect(typeof e.message).toBe('string');
  }
}

describe('validation never throws', () => {
  it('on arbitrary JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => checkErrors(validateObject(v))), { numRuns: 300 });
  });

  it('on anything at all', () => {
    fc.assert(fc.property(fc.anything(), (v) => checkErrors(validateObject(v))), { numRuns: 300 });
  });

  it('on objects of a known kind with arbitrary contents', () => {
    fc.assert(fc.property(kindShaped, (v) => checkErrors(validateObject(v))), { numRuns: 500 });
  });

  it('on valid manifests with random edits', () => {
    fc.assert(
      fc.property(mutated, (v) => {
        checkErrors(validateObject(v));
        checkErrors(validateObject(v, { allocated: true }));
      }),
      { numRuns: 1500 },
    );
  });

  it('on valid manifests with type-preserving edits', () => {
    fc.assert(
      fc.property(retyped, (v) => {
        checkErrors(validateObject(v));
        checkErrors(validateObject(v, { allocated: true }));
      }),
      { numRuns: 1500 },
    );
  });

  it('on updates between edited manifests', () => {
    fc.assert(fc.property(mutated, mutated, (a, b) => checkErrors(validateUpdate(a, b))), { numRuns: 300 });
    fc.assert(fc.property(retyped, retyped, (a, b) => checkErrors(validateUpdate(a, b))), { numRuns: 500 });
  });

  it('defaulting never throws and is idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(mutated, retyped, kindShaped), (v) => {
        const once = applyDefaults(v as KObject);
        expect(applyDefaults(once)).toEqual(once);
      }),
      { numRuns: 500 },
    );
  });
});

describe('messages read well', () => {
  it('never print JavaScript artefacts', () => {
    fc.assert(
      fc.property(fc.oneof(retyped, mutated, kindShaped), (v) => {
        for (const e of [...validateObject(v), ...validateObject(v, { allocated: true })]) {
          expect(e.message).not.toMatch(/undefined|NaN|\[object /);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
