import { describe, expect, it } from 'vitest';
import { messages, service } from './manifests.js';

const LABEL_1123 =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const CONFIG_KEY =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const secret = (extra: Record<string, unknown>): unknown => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, ...extra });
const configMap = (extra: Record<string, unknown>): unknown => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'conf' }, ...extra });
const namespace = (name: string, extra: Record<string, unknown> = {}): unknown => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name }, ...extra });
const node = (spec: Record<string, unknown>): unknown => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, spec });

const rows: [string, unknown, string[]][] = [
  ['an Opaque secret', secret({ data: { password: b64('hunter2') } }), []],
  ['stringData is folded into data', secret({ stringData: { password: 'hunter2' } }), []],
  ['TLS secrets need tls.crt and tls.key', secret({ type: 'kubernetes.io/tls', data: { 'tls.crt': b64('cert') } }), ['data[tls.key]: Required value']],
  ['TLS secrets via stringData', secret({ type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'c', 'tls.key': 'k' } }), []],
  ['TLS secrets with neither key', secret({ type: 'kubernetes.io/tls' }), ['data[tls.crt]: Required value', 'data[tls.key]: Required value']],
  ['basic-auth secrets need a username or password', secret({ type: 'kubernetes.io/basic-auth', data: {} }), [
    'data[username]: Required value',
    'data[password]: Required value',
  ]],
  ['dockerconfigjson secrets', secret({ type: 'kubernetes.io/dockerconfigjson', data: {} }), ['data[.dockerconfigjson]: Required value']],
  ['secret keys are config keys', secret({ data: { 'bad key': b64('x') } }), [`data[bad key]: Invalid value: "bad key": ${CONFIG_KEY}`]],
  ['secret keys may not be ..', secret({ data: { '..': b64('x') } }), ["data[..]: Invalid value: \"..\": must not be '..'"]],
  ['a ConfigMap', configMap({ data: { 'app.conf': 'x=1' }, binaryData: { blob: b64('\u0000') } }), []],
  ['ConfigMap keys', configMap({ data: { 'a/b': 'x' } }), [`data[a/b]: Invalid value: "a/b": ${CONFIG_KEY}`]],
  ['data and binaryData keys are disjoint', configMap({ data: { k: 'x' }, binaryData: { k: b64('y') } }), [
    'data[k]: Invalid value: "k": duplicate of key present in binaryData',
  ]],
  ['binaryData is base64', configMap({ binaryData: { k: 'not base64!' } }), [
    'binaryData[k]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 3',
  ]],
  ['a Namespace', namespace('team-a'), []],
  ['Namespace names are DNS-1123 labels', namespace('team.a'), ['metadata.name: Invalid value: "team.a": must not contain dots']],
  ['Namespace names are lower case', namespace('Team'), [`metadata.name: Invalid value: "Team": ${LABEL_1123}`]],
  ['Namespace finalizers', namespace('team-a', { spec: { finalizers: ['custom'] } }), [
    'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
  ]],
  ['a Node', node({ podCIDR: '127.244.1.0/24', podCIDRs: ['127.244.1.0/24'] }), []],
  ['Node podCIDRs', node({ podCIDRs: ['127.244.1.0'] }), [
    'spec.podCIDRs[0]: Invalid value: "127.244.1.0": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
  ]],
  ['Node taint effects (a schema enum)', node({ taints: [{ key: 'dedicated', effect: 'NoWay' }] }), [
    'spec.taints[0].effect: Unsupported value: "NoWay": supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"',
  ]],
  // Upstream roots taint paths at metadata (validateNodeTaints is passed the metadata path).
  ['Node taint keys', node({ taints: [{ key: '', effect: 'NoSchedule' }] }), [
    "metadata.taints[0].key: Invalid value: \"\": name part must be non-empty",
    "metadata.taints[0].key: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
  ]],
  ['owner references are complete', service({ ports: [{ port: 80 }] }, { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }] }), [
    'metadata.ownerReferences[0].uid: Invalid value: "": must not be empty',
  ]],
  ['annotation keys are qualified names', service({ ports: [{ port: 80 }] }, { annotations: { 'a/b/c': 'x' } }), [
    "metadata.annotations: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
  ]],
  ['annotations hold at most 256 KiB', service({ ports: [{ port: 80 }] }, { annotations: { big: 'x'.repeat(262142) } }), [
    'metadata.annotations: Too long: may not be more than 262144 bytes',
  ]],
  ['generateName without a name', service({ ports: [{ port: 80 }] }, { name: undefined, generateName: 'web-' }), [
    'metadata.name: Required value: name or generateName is required',
  ]],
];

describe('Secret, ConfigMap, Namespace, Node and metadata validation', () => {
  it.each(rows)('%s', (_what, manifest, expected) => {
    expect(messages(manifest)).toEqual(expected);
  });
});
