import { describe, expect, it } from 'vitest';
import { base64Error } from '../../../dataplane/base/model/validate/base64.js';
import { formatErrors, validateObject } from '../../../dataplane/base/model/validate/index.js';
import { unknownFields } from '../../../dataplane/base/model/schema/strict-fields.js';
import { messages, pod, service, workload } from './manifests.js';

describe('strict fields (unknown field "…")', () => {
  const rows: [string, unknown, string[]][] = [
    ['a top-level typo', { ...service({ ports: [{ port: 80 }] }), specs: {} }, ['unknown field "specs"']],
    ['a spec field', service({ ports: [{ port: 80 }], foo: 1 }), ['unknown field "spec.foo"']],
    ['inside a list', service({ ports: [{ port: 80, targetport: 8080 }] }), ['unknown field "spec.ports[0].targetport"']],
    ['deep in a pod template', workload('Deployment', {
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx', foo: 'bar' }] } },
    }), ['unknown field "spec.template.spec.containers[0].foo"']],
    ['in metadata', service({ ports: [{ port: 80 }] }, { lables: { app: 'web' } }), ['unknown field "metadata.lables"']],
    ['several at once, in document order', pod({ containers: [{ name: 'c', image: 'x', bogus: 1 }], extra: true }), [
      'unknown field "spec.containers[0].bogus"',
      'unknown field "spec.extra"',
    ]],
    ['real but rarely used fields are known', pod({
      containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: '1' } }, securityContext: { runAsNonRoot: true }, resizePolicy: [] }],
      tolerations: [{ operator: 'Exists' }],
      affinity: { nodeAffinity: {} },
      topologySpreadConstraints: [],
    }), []],
    ['a StatefulSet\'s volumeClaimTemplates are claims (kubernetes-models inlines their type)', workload('StatefulSet', {
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }, bogus: 1 }],
    }), ['unknown field "spec.volumeClaimTemplates[0].bogus"']],
    ['map values are free: labels take any key', service({ ports: [{ port: 80 }] }, { labels: { 'anything.io/x': 'y' } }), []],
    ['status fields are known', { ...service({ ports: [{ port: 80 }] }), status: { loadBalancer: { ingress: [{ ip: '127.18.255.200' }] } } }, []],
    ['managedFields are free-form below fieldsV1', service({ ports: [{ port: 80 }] }, {
      managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:anything': {} } } }],
    }), []],
  ];
  it.each(rows)('%s', (_what, manifest, expected) => {
    expect(messages(manifest)).toEqual(expected);
  });

  it('reports paths for every kind knet stores', () => {
    for (const kind of ['Namespace', 'Node', 'Pod', 'Service', 'Endpoints', 'EndpointSlice', 'Ingress', 'IngressClass', 'Secret', 'ConfigMap', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet']) {
      expect(unknownFields(kind, { metadata: { name: 'x', nope: 1 } })).toEqual(['metadata.nope']);
    }
    expect(unknownFields('Widget', { foo: 1 })).toEqual([]);
  });
});

describe('types and formats', () => {
  const rows: [string, unknown, string[]][] = [
    ['an integer field given a string', service({ ports: [{ port: 'abc' }] }), [
      'spec.ports[0].port: Invalid value: "abc": spec.ports[0].port in body must be of type integer',
    ]],
    ['a string field given a number', service({ ports: [{ port: 80 }] }, { labels: { app: 1 } }), [
      'metadata.labels[app]: Invalid value: 1: metadata.labels[app] in body must be of type string',
    ]],
    ['an object field given a string', service('ClusterIP' as unknown as Record<string, unknown>), [
      'spec: Invalid value: "ClusterIP": spec in body must be of type object',
    ]],
    ['a list field given an object', service({ ports: { port: 80 } }), [
      'spec.ports: Invalid value: {"port":80}: spec.ports in body must be of type array',
    ]],
    ['IntOrString given a float', service({ ports: [{ port: 80, targetPort: 1.5 }] }), [
      'spec.ports[0].targetPort: Invalid value: 1.5: spec.ports[0].targetPort in body must be of type integer or string',
    ]],
    ['int32 overflow', service({ ports: [{ port: 3000000000 }] }), [
      'spec.ports[0].port: Invalid value: 3000000000: spec.ports[0].port in body must be of type int32',
    ]],
    ['quantities', pod({ containers: [{ name: 'c', image: 'x', resources: { requests: { memory: '1 GB' } } }] }), [
      "spec.containers[0].resources.requests[memory]: Invalid value: \"1 GB\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    ]],
    ['timestamps', service({ ports: [{ port: 80 }] }, { creationTimestamp: 'yesterday' }), [
      'metadata.creationTimestamp: Invalid value: "yesterday": metadata.creationTimestamp in body must be of type date-time',
    ]],
    ['unknown fields and type errors together', service({ ports: [{ port: 'x' }], foo: 1 }), [
      'unknown field "spec.foo"',
      'spec.ports[0].port: Invalid value: "x": spec.ports[0].port in body must be of type integer',
    ]],
  ];
  it.each(rows)('%s', (_what, manifest, expected) => {
    expect(messages(manifest)).toEqual(expected);
  });

  it('stops at the decode stage: no semantic errors on an object that does not decode', () => {
    // Two unnamed ports would also fail validation, but the bad type wins.
    expect(messages(service({ ports: [{ port: 'x' }, { port: 81 }] }))).toEqual([
      'spec.ports[0].port: Invalid value: "x": spec.ports[0].port in body must be of type integer',
    ]);
  });
});

describe('kinds and versions', () => {
  const rows: [string, unknown, string[]][] = [
    ['not an object', 'hello', ['Invalid value: "string": must be a JSON object']],
    ['null', null, ['Invalid value: null: must be a JSON object']],
    ['an array', [], ['Invalid value: "array": must be a JSON object']],
    ['no kind', { apiVersion: 'v1', metadata: { name: 'x' } }, ['kind: Required value']],
    ['no apiVersion', { kind: 'Service', metadata: { name: 'x' } }, ['apiVersion: Required value']],
    ['an unknown kind', { apiVersion: 'v1', kind: 'Widget', metadata: { name: 'x' } }, ['no matches for kind "Widget" in version "v1"']],
    ['a kind in the wrong group', { apiVersion: 'v1', kind: 'Deployment', metadata: { name: 'x' } }, ['no matches for kind "Deployment" in version "v1"']],
    ['an old version', { apiVersion: 'extensions/v1beta1', kind: 'Ingress', metadata: { name: 'x' } }, [
      'no matches for kind "Ingress" in version "extensions/v1beta1"',
    ]],
  ];
  it.each(rows)('%s', (_what, manifest, expected) => {
    expect(messages(manifest)).toEqual(expected);
  });
});

describe('base64 in Secret data', () => {
  const rows: [string, string, string | undefined][] = [
    ['valid', 'aGVsbG8=', undefined],
    ['valid without padding need', 'aGVsbG8h', undefined],
    ['empty', '', undefined],
    ['line breaks are skipped', 'aGVs\nbG8=', undefined],
    ['a bad character', 'aGV$bG8=', 'illegal base64 data at input byte 3'],
    ['missing padding', 'aGVsbG8', 'illegal base64 data at input byte 4'],
    ['padding too early', 'a===', 'illegal base64 data at input byte 1'],
    ['data after padding', 'aGk=aGk=', 'illegal base64 data at input byte 4'],
    ['plain text', 'hello world', 'illegal base64 data at input byte 5'],
  ];
  it.each(rows)('%s', (_what, value, expected) => {
    expect(base64Error(value)).toBe(expected);
    if (expected === undefined) expect(() => Buffer.from(value, 'base64')).not.toThrow();
  });

  it('rejects a Secret whose data is not base64', () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password: 'hunter2!' } };
    expect(messages(secret)).toEqual(['data[password]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 7']);
  });
});

describe('formatErrors', () => {
  it('prints one error as kubectl does', () => {
    const svc = service({ ports: [{ port: 80 }, { port: 81 }] });
    expect(formatErrors(svc, validateObject(svc))).toBe(
      'The Service "web" is invalid: \n* spec.ports[0].name: Required value\n* spec.ports[1].name: Required value',
    );
    const one = service({ ports: [{ port: 80, nodePort: 30080 }] });
    expect(formatErrors(one, validateObject(one))).toBe(
      "The Service \"web\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    );
  });

  it('prints unknown fields as a strict decoding error', () => {
    const svc = service({ ports: [{ port: 80 }], foo: 1 });
    expect(formatErrors(svc, validateObject(svc))).toBe(
      'Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.foo"',
    );
  });
});

describe('the generated field tree', () => {
  it('matches the installed kubernetes-models schema (npm run gen:schema)', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, ['scripts/gen-known-fields.mjs', '--check'], { encoding: 'utf8' });
    expect(out).toContain('up to date');
  });
});
