/**
 * Server-side apply and managedFields, mirroring structured-merge-diff's behaviour (its merge/
 * tests: multiple appliers, shared ownership, conflicts, force, pruning dropped fields) and the
 * apiserver's texts (managedfields conflict.go, PatchOptions validation).
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KObject } from '../../../dataplane/base/model/object.js';
import { applyServerSide, ApplyConflictError, ApplyInvalidError } from '../../../dataplane/base/patch/server-side-apply.js';
import { recordUpdate, type ManagedFieldsEntry } from '../../../dataplane/base/patch/managed-fields.js';
import { FieldSet, pathString } from '../../../dataplane/base/patch/field-set.js';
import { PatchError } from '../../../dataplane/base/patch/patch-error.js';

const y = (s: string) => parse(s) as KObject;
const T0 = '2025-01-01T00:00:00Z';
const T1 = '2025-01-01T00:01:00Z';
const T2 = '2025-01-01T00:02:00Z';

const deploy = (extra = '', image = 'nginx', replicas = 2) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: ${image}
        ports: [{containerPort: 80}]${extra}`;

const apply = (live: KObject | undefined, cfg: string, manager: string, opts: { force?: boolean; now?: string } = {}) =>
  applyServerSide(live, y(cfg), { fieldManager: manager, apiVersion: 'apps/v1', kind: 'Deployment', now: opts.now ?? T1, force: opts.force });
const entries = (o: KObject) => (o.metadata?.managedFields ?? []) as unknown as ManagedFieldsEntry[];
const spec = (o: KObject) => o.spec as { replicas?: number; template: { spec: { containers: Array<{ name: string; image: string }> } } };

describe('server-side apply', () => {
  it('creates the object with an Apply entry in FieldsV1, container ports keyed by containerPort and protocol', () => {
    const out = apply(undefined, deploy(), 'kubectl', { now: T0 });
    expect(entries(out)).toEqual([
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"web"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
    expect(spec(out).replicas).toBe(2);
  });

  it('removes a field the applier dropped when nobody else owns it', () => {
    const first = apply(undefined, deploy(), 'kubectl');
    const second = apply(first, deploy().replace('  replicas: 2\n', ''), 'kubectl', { now: T2 });
    expect(spec(second).replicas).toBeUndefined();
    expect(JSON.stringify(entries(second)[0]!.fieldsV1)).not.toContain('f:replicas');
    expect(entries(second)[0]!.time).toBe(T2);
  });

  it('keeps a dropped field another applier also set (shared ownership), with no conflict for the same value', () => {
    const a = apply(undefined, deploy(), 'alice');
    const both = apply(a, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 2}', 'bob');
    expect(entries(both).map((e) => e.manager)).toEqual(['alice', 'bob']);
    const dropped = apply(both, deploy().replace('  replicas: 2\n', ''), 'alice', { now: T2 });
    expect(spec(dropped).replicas).toBe(2);
  });

  it('a changed value owned by an Update manager is a 409 with upstream message and causes', () => {
    const a = apply(undefined, deploy(), 'kubectl', { now: T0 });
    const scaled = recordUpdate(a, { ...a, spec: { ...(a.spec as object), replicas: 5 } }, 'kubectl-scale', 'Update', undefined, T1);
    expect(entries(scaled).map((e) => [e.manager, e.operation, e.fieldsV1])).toEqual([
      ['kubectl', 'Apply', expect.not.objectContaining({ 'f:spec': expect.objectContaining({ 'f:replicas': {} }) })],
      ['kubectl-scale', 'Update', { 'f:spec': { 'f:replicas': {} } }],
    ]);
    let err: unknown;
    try {
      apply(scaled, deploy('', 'nginx', 3), 'kubectl', { now: T2 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApplyConflictError);
    const conflict = err as ApplyConflictError;
    expect(conflict.code).toBe(409);
    expect(conflict.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: .spec.replicas');
    expect(conflict.causes).toEqual([{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-scale" using apps/v1', field: '.spec.replicas' }]);
    // Re-applying the value the other manager set is no conflict: both own it.
    expect(() => apply(scaled, deploy('', 'nginx', 5), 'kubectl', { now: T2 })).not.toThrow();
  });

  it('several conflicts are grouped by manager', () => {
    const a = apply(undefined, deploy(), 'kubectl', { now: T0 });
    const changed = JSON.parse(JSON.stringify(a)) as KObject;
    spec(changed).replicas = 7;
    spec(changed).template.spec.containers[0]!.image = 'nginx:edited';
    const edited = recordUpdate(a, changed, 'kubectl-edit', 'Update', undefined, T1);
    expect(() => apply(edited, deploy('', 'nginx:1.28', 3), 'kubectl')).toThrow(
      'Apply failed with 2 conflicts: conflicts with "kubectl-edit" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="web"].image',
    );
  });

  it('force takes the conflicting fields over; the other manager keeps the rest or disappears', () => {
    const a = apply(undefined, deploy(), 'kubectl', { now: T0 });
    const scaled = recordUpdate(a, { ...a, spec: { ...(a.spec as object), replicas: 5 } }, 'kubectl-scale', 'Update', undefined, T1);
    const forced = apply(scaled, deploy('', 'nginx', 3), 'kubectl', { force: true, now: T2 });
    expect(spec(forced).replicas).toBe(3);
    expect(entries(forced).map((e) => e.manager)).toEqual(['kubectl']);
    expect(entries(forced)[0]!.fieldsV1['f:spec']).toMatchObject({ 'f:replicas': {} });
  });

  it('a container the applier dropped is removed; one another manager added stays', () => {
    const a = apply(undefined, deploy('\n      - {name: log, image: busybox}'), 'kubectl', { now: T0 });
    const injected = JSON.parse(JSON.stringify(a)) as KObject;
    spec(injected).template.spec.containers.push({ name: 'proxy', image: 'envoy' });
    const withProxy = recordUpdate(a, injected, 'webhook', 'Update', undefined, T1);
    const out = apply(withProxy, deploy(), 'kubectl', { now: T2 });
    expect(spec(out).template.spec.containers.map((c) => c.name)).toEqual(['web', 'proxy']);
  });

  it('validates like the apiserver: field manager, version, managedFields, list keys', () => {
    const run = (cfg: string, manager: string | undefined) => () => applyServerSide(undefined, y(cfg), { fieldManager: manager, apiVersion: 'apps/v1', kind: 'Deployment' });
    let err: unknown;
    try {
      run(deploy(), undefined)();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApplyInvalidError);
    expect((err as ApplyInvalidError).message).toBe('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    expect((err as ApplyInvalidError).code).toBe(422);
    expect((err as ApplyInvalidError).details.causes).toEqual([{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }]);
    expect(run(deploy().replace('apps/v1', 'apps/v1beta1'), 'm')).toThrow('Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1');
    expect(run(deploy().replace('namespace: default,', 'namespace: default, managedFields: [],'), 'm')).toThrow('metadata.managedFields must be nil');
    const noKey = deploy().replace('- name: web\n        image: nginx', '- image: nginx');
    expect(run(noKey, 'm')).toThrow(PatchError);
    expect(run(noKey, 'm')).toThrow('associative list with keys has an element that omits key field "name"');
  });
});

describe('managedFields for other writes (recordUpdate)', () => {
  it('a create owns every field it set; maps it created carry "."', () => {
    const cm = y('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default, labels: {x: y}}\ndata: {a: "1"}');
    const out = recordUpdate(undefined, cm, 'kubectl-create', 'Update', undefined, T0);
    expect(out.metadata?.managedFields).toEqual([
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'v1',
        time: T0,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { '.': {}, 'f:a': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:x': {} } } },
      },
    ]);
  });

  it('a write that changes nothing leaves the entries and their times alone', () => {
    const cm = recordUpdate(undefined, y('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: "1"}'), 'creator', 'Update', undefined, T0);
    const same = recordUpdate(cm, cm, 'other', 'Update', undefined, T1);
    expect(same.metadata?.managedFields).toEqual(cm.metadata?.managedFields);
  });

  it('the main resource never owns status; the status subresource only status', () => {
    const pod = y('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: b}]}\nstatus: {phase: Running}');
    const main = recordUpdate(undefined, pod, 'kubectl', 'Update', undefined, T0);
    expect(JSON.stringify(main.metadata?.managedFields)).not.toContain('f:status');
    const status = recordUpdate(main, { ...main, status: { phase: 'Succeeded' } }, 'kubelet', 'Update', 'status', T1);
    const kubelet = (status.metadata!.managedFields as unknown as ManagedFieldsEntry[]).find((e) => e.manager === 'kubelet')!;
    expect(kubelet).toMatchObject({ subresource: 'status', fieldsV1: { 'f:status': { 'f:phase': {} } } });
  });

  it('keeps ten Update managers and merges older ones into ancient-changes', () => {
    let cm = y('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {}');
    for (let i = 0; i < 12; i++) {
      cm = recordUpdate(cm, { ...cm, data: { ...(cm as { data?: object }).data, [`k${i}`]: 'v' } } as KObject, `writer-${String(i).padStart(2, '0')}`, 'Update', undefined, `2025-01-01T00:00:${String(i).padStart(2, '0')}Z`);
    }
    const names = (cm.metadata!.managedFields as unknown as ManagedFieldsEntry[]).map((e) => e.manager);
    expect(names).toHaveLength(10);
    expect(names).toContain('ancient-changes');
    expect(names).not.toContain('writer-00');
    expect(names).toContain('writer-11');
  });
});

describe('field sets', () => {
  it('round-trip FieldsV1 and print paths as conflicts do', () => {
    const v1 = { 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } }, 'f:finalizers': { 'v:"a"': {} } } };
    const set = FieldSet.fromFieldsV1(v1);
    expect(set.toFieldsV1()).toEqual(v1);
    expect(set.paths().map(pathString)).toEqual(['.spec.finalizers[="a"]', '.spec.ports[port=80,protocol="TCP"]', '.spec.ports[port=80,protocol="TCP"].port']);
    expect(() => FieldSet.fromFieldsV1({ bogus: {} })).toThrow('invalid path element');
  });

  it('orders keys numerically, fields before keys', () => {
    const set = FieldSet.of([['f:ports', 'k:{"port":8080}'], ['f:ports', 'k:{"port":443}'], ['f:a'], ['f:ports', 'f:x']]);
    expect(Object.keys(set.toFieldsV1()['f:ports'] as object)).toEqual(['f:x', 'k:{"port":443}', 'k:{"port":8080}']);
  });
});
