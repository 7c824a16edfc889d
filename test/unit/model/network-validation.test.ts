import { describe, expect, it } from 'vitest';
import { messages } from './manifests.js';

const SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const WILDCARD =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function slice(extra: Record<string, unknown>): unknown {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['127.244.1.5'], conditions: { ready: true }, nodeName: 'node-1' }],
    ports: [{ name: 'http', port: 8080 }],
    ...extra,
  };
}

function endpoints(subsets: unknown[]): unknown {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web' }, subsets };
}

const backend = { service: { name: 'web', port: { number: 80 } } };
function ingress(spec: Record<string, unknown>, annotations?: Record<string, string>): unknown {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', annotations }, spec };
}
function rule(host: string | undefined, paths: unknown[]): Record<string, unknown> {
  return { ...(host === undefined ? {} : { host }), http: { paths } };
}
const prefix = (path: string, b: unknown = backend): Record<string, unknown> => ({ path, pathType: 'Prefix', backend: b });

const rows: [string, unknown, string[]][] = [
  ['a valid EndpointSlice', slice({}), []],
  ['addressType is required', slice({ addressType: undefined }), ['addressType: Required value']],
  ['addressType values', slice({ addressType: 'IPv5' }), ['addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"']],
  ['endpoints need an address', slice({ endpoints: [{ addresses: [] }] }), ['endpoints[0].addresses: Required value: must contain at least 1 address']],
  ['addresses match the addressType', slice({ endpoints: [{ addresses: ['fd00::1'] }] }), [
    'endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address',
  ]],
  ['IPv6 slices', slice({ addressType: 'IPv6', endpoints: [{ addresses: ['fd00::1'] }] }), []],
  ['FQDN slices take domain names', slice({ addressType: 'FQDN', endpoints: [{ addresses: ['localhost'] }] }), [
    'endpoints[0].addresses[0]: Invalid value: "localhost": should be a domain with at least two segments separated by dots',
  ]],
  ['slice port names are unique', slice({ ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] }), ['ports[1].name: Duplicate value: "http"']],
  ['unnamed slice ports are unique too', slice({ ports: [{ port: 80 }, { port: 81 }] }), ['ports[1].name: Duplicate value: ""']],
  ['slice port protocols', slice({ ports: [{ name: 'x', port: 80, protocol: 'ICMP' }] }), [
    'ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
  ]],
  ['slice nodeName', slice({ endpoints: [{ addresses: ['10.1.2.3'], nodeName: 'Node_1' }] }), [
    `endpoints[0].nodeName: Invalid value: "Node_1": ${SUBDOMAIN}`,
  ]],
  ['a valid Endpoints', endpoints([{ addresses: [{ ip: '127.244.1.5' }], ports: [{ port: 8080 }] }]), []],
  ['Endpoints subsets need addresses', endpoints([{ ports: [{ port: 80 }] }]), [
    'subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`',
  ]],
  ['Endpoints addresses are IPs', endpoints([{ addresses: [{ ip: 'web' }] }]), [
    'subsets[0].addresses[0].ip: Invalid value: "web": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    'subsets[0].addresses[0].ip: Invalid value: "web": must be a valid IP address',
  ]],
  ['Endpoints ports need names when several', endpoints([{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }, { name: 'b', port: 81 }] }]), [
    'subsets[0].ports[0].name: Required value',
  ]],
  ['a valid Ingress', ingress({ rules: [rule('web.example.com', [prefix('/')])] }), []],
  ['rules or a default backend', ingress({}), [
    'spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified',
  ]],
  ['a default backend alone', ingress({ defaultBackend: backend }), []],
  ['pathType is required', ingress({ rules: [rule(undefined, [{ path: '/', backend }])] }), [
    'spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
  ]],
  ['pathType values', ingress({ rules: [rule(undefined, [{ path: '/', pathType: 'Regex', backend }])] }), [
    'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
  ]],
  ['Prefix paths are absolute', ingress({ rules: [rule(undefined, [prefix('api')])] }), [
    'spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path',
  ]],
  ['Exact paths have no //', ingress({ rules: [rule(undefined, [{ path: '/a//b', pathType: 'Exact', backend }])] }), [
    "spec.rules[0].http.paths[0].path: Invalid value: \"/a//b\": must not contain '//'",
  ]],
  ['ImplementationSpecific may be empty', ingress({ rules: [rule(undefined, [{ pathType: 'ImplementationSpecific', backend }])] }), []],
  ['http rules need paths', ingress({ rules: [{ host: 'a.example.com', http: { paths: [] } }] }), ['spec.rules[0].http.paths: Required value']],
  ['a backend is required', ingress({ rules: [rule(undefined, [prefix('/', {})])] }), [
    'spec.rules[0].http.paths[0].backend: Invalid value: "": resource or service backend is required',
  ]],
  ['not both service and resource', ingress({ rules: [rule(undefined, [prefix('/', { ...backend, resource: { kind: 'Bucket', name: 'b' } })])] }), [
    'spec.rules[0].http.paths[0].backend: Invalid value: "": cannot set both resource and service backends',
  ]],
  ['service backends need a port', ingress({ defaultBackend: { service: { name: 'web' } } }), [
    'spec.defaultBackend: Required value: port name or number is required',
  ]],
  ['not both port name and number', ingress({ defaultBackend: { service: { name: 'web', port: { name: 'http', number: 80 } } } }), [
    'spec.defaultBackend: Invalid value: "": cannot set both port name & port number',
  ]],
  ['backend service names are DNS-1035 labels', ingress({ defaultBackend: { service: { name: '1web', port: { number: 80 } } } }), [
    "spec.defaultBackend.service.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
  ]],
  ['hosts are DNS names', ingress({ rules: [rule('Web.example.com', [prefix('/')])] }), [
    `spec.rules[0].host: Invalid value: "Web.example.com": ${SUBDOMAIN}`,
  ]],
  ['hosts are not IPs', ingress({ rules: [rule('10.0.0.1', [prefix('/')])] }), [
    'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
  ]],
  ['a leading wildcard', ingress({ rules: [rule('*.example.com', [prefix('/')])] }), []],
  ['wildcards only as the first label', ingress({ rules: [rule('web.*.com', [prefix('/')])] }), [
    `spec.rules[0].host: Invalid value: "web.*.com": ${WILDCARD}`,
  ]],
  ['TLS hosts', ingress({ rules: [rule('a.example.com', [prefix('/')])], tls: [{ hosts: ['A.example.com'], secretName: 'tls' }] }), [
    `spec.tls[0].hosts[0]: Invalid value: "A.example.com": ${SUBDOMAIN}`,
  ]],
  ['class annotation and field together', ingress({ ingressClassName: 'nginx', defaultBackend: backend }, { 'kubernetes.io/ingress.class': 'nginx' }), [
    'annotations.kubernetes.io/ingress.class: Invalid value: "nginx": can not be set when the class field is also set',
  ]],
  ['a valid IngressClass', { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } }, []],
  ['IngressClass controllers are domain-prefixed paths', { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'nginx' } }, [
    'spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")',
  ]],
  ['IngressClass is cluster-scoped: a namespace is dropped', { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx', namespace: 'x' }, spec: { controller: 'k8s.io/ingress-nginx' } }, []],
];

describe('Endpoints, EndpointSlice, Ingress and IngressClass validation', () => {
  it.each(rows)('%s', (_what, manifest, expected) => {
    expect(messages(manifest)).toEqual(expected);
  });
});
