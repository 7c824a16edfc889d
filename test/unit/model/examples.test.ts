import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../../../dataplane/base/model/defaults/index.js';
import type { KObject } from '../../../dataplane/base/model/object.js';
import { validateObject } from '../../../dataplane/base/model/validate/index.js';
import { fixtureDocs } from './fixtures.js';

// The Kubernetes documentation's examples (kubernetes/website content/en/examples/service/, as
// published, some in YAML flow style) and one object of every kind knet stores.
const docs = [...fixtureDocs('k8s-doc-examples'), ...fixtureDocs('knet')];

describe('manifests people copy from the docs', () => {
  it('has fixtures to check', () => {
    expect(docs.length).toBeGreaterThanOrEqual(27);
    expect(new Set(docs.map((d) => d.object.kind)).size).toBe(14);
  });

  it.each(docs.map((d) => [`${d.file}#${d.index} ${String(d.object.kind)}`, d.object] as const))('%s validates cleanly', (_name, obj) => {
    expect(validateObject(obj).map((e) => e.message)).toEqual([]);
    const defaulted = applyDefaults(obj as KObject);
    expect(validateObject(defaulted).map((e) => e.message)).toEqual([]);
    expect(validateObject(defaulted, { allocated: true }).filter((e) => e.field !== 'spec.healthCheckNodePort')).toEqual([]);
  });
});
