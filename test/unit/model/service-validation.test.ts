import type { Service } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { validateObject } from '../../../dataplane/base/model/validate/index.js';
import { validateService } from '../../../dataplane/base/model/validate/service.js';
import { messages, service } from './manifests.js';

const LABEL_1123 =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const LABEL_1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const PORT_RANGE = 'must be between 1 and 65535, inclusive';

const p80 = [{ port: 80 }];

// One row per rule: [what, manifest, exact kubectl lines].
const rows: [string, unknown, string[]][] = [
  ['a minimal service is valid', service({ selector: { app: 'web' }, ports: p80 }), []],
  ['several ports need names', service({ ports: [{ port: 80 }, { port: 81 }] }), [
    'spec.ports[0].name: Required value',
    'spec.ports[1].name: Required value',
  ]],
  ['port names are unique', service({ ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] }), [
    'spec.ports[1].name: Duplicate value: "http"',
  ]],
  ['port names are DNS-1123 labels', service({ ports: [{ name: 'HTTP', port: 80 }] }), [
    `spec.ports[0].name: Invalid value: "HTTP": ${LABEL_1123}`,
  ]],
  ['protocol values', service({ ports: [{ port: 80, protocol: 'ICMP' }] }), [
    'spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
  ]],
  ['an empty protocol defaults to TCP', service({ ports: [{ port: 80, protocol: '' }] }), []],
  ['port 0 (and the targetPort it defaults)', service({ ports: [{ port: 0 }] }), [
    `spec.ports[0].port: Invalid value: 0: ${PORT_RANGE}`,
    `spec.ports[0].targetPort: Invalid value: 0: ${PORT_RANGE}`,
  ]],
  ['port above 65535', service({ ports: [{ port: 70000, targetPort: 8080 }] }), [
    `spec.ports[0].port: Invalid value: 70000: ${PORT_RANGE}`,
  ]],
  ['numeric targetPort range', service({ ports: [{ port: 80, targetPort: 65536 }] }), [
    `spec.ports[0].targetPort: Invalid value: 65536: ${PORT_RANGE}`,
  ]],
  ['named targetPort at most 15 characters', service({ ports: [{ port: 80, targetPort: 'a-very-long-port-name' }] }), [
    'spec.ports[0].targetPort: Invalid value: "a-very-long-port-name": must be no more than 15 characters',
  ]],
  ['named targetPort needs a letter', service({ ports: [{ port: 80, targetPort: '8080' }] }), [
    'spec.ports[0].targetPort: Invalid value: "8080": must contain at least one letter (a-z)',
  ]],
  ['named targetPort charset', service({ ports: [{ port: 80, targetPort: 'http_alt' }] }), [
    'spec.ports[0].targetPort: Invalid value: "http_alt": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
  ]],
  ['named targetPort hyphens', service({ ports: [{ port: 80, targetPort: 'web--x-' }] }), [
    'spec.ports[0].targetPort: Invalid value: "web--x-": must not contain consecutive hyphens',
    'spec.ports[0].targetPort: Invalid value: "web--x-": must not begin or end with a hyphen',
  ]],
  ['sessionAffinity values', service({ ports: p80, sessionAffinity: 'Sticky' }), [
    'spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"',
  ]],
  ['affinity timeout 0', service({ ports: p80, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } }), [
    'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400',
  ]],
  ['affinity timeout 86401', service({ ports: p80, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } } }), [
    'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400',
  ]],
  ['affinity timeout 86400 passes despite the wording', service({ ports: p80, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86400 } } }), []],
  ['ClientIP without config gets the default timeout', service({ ports: p80, sessionAffinity: 'ClientIP' }), []],
  ['nodePort on ClusterIP', service({ ports: [{ port: 80, nodePort: 30080 }] }), [
    "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
  ]],
  ['headless NodePort', service({ type: 'NodePort', clusterIP: 'None', ports: p80 }), [
    `spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for NodePort services`,
  ]],
  ['headless LoadBalancer', service({ type: 'LoadBalancer', clusterIP: 'None', ports: p80 }), [
    `spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for LoadBalancer services`,
  ]],
  ['externalTrafficPolicy on ClusterIP', service({ ports: p80, externalTrafficPolicy: 'Local' }), [
    'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services',
  ]],
  ['externalTrafficPolicy on ClusterIP with externalIPs', service({ ports: p80, externalIPs: ['203.0.113.250'], externalTrafficPolicy: 'Local' }), []],
  ['externalTrafficPolicy values', service({ type: 'NodePort', ports: p80, externalTrafficPolicy: 'Sideways' }), [
    'spec.externalTrafficPolicy: Unsupported value: "Sideways": supported values: "Cluster", "Local"',
  ]],
  ['healthCheckNodePort only for LoadBalancer+Local', service({ type: 'NodePort', externalTrafficPolicy: 'Local', healthCheckNodePort: 30500, ports: p80 }), [
    "spec.healthCheckNodePort: Invalid value: 30500: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
  ]],
  ['healthCheckNodePort on LoadBalancer+Local', service({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 30500, ports: p80 }), []],
  ['ports are required', service({ selector: { app: 'web' } }), ['spec.ports: Required value']],
  ['headless services need no ports', service({ clusterIP: 'None', selector: { app: 'web' } }), []],
  ['ExternalName needs externalName', service({ type: 'ExternalName' }), ['spec.externalName: Required value']],
  ['ExternalName with a trailing dot', service({ type: 'ExternalName', externalName: 'db.example.com.' }), []],
  ['externalName is a DNS subdomain', service({ type: 'ExternalName', externalName: 'Not_Valid' }), [
    `spec.externalName: Invalid value: "Not_Valid": ${SUBDOMAIN}`,
  ]],
  ['ExternalName may not have a clusterIP', service({ type: 'ExternalName', externalName: 'db.example.com', clusterIP: '10.96.0.5' }), [
    'spec.clusterIPs: Forbidden: may not be set for ExternalName services',
  ]],
  ['externalIPs are IPs', service({ ports: p80, externalIPs: ['not-an-ip'] }), [
    'spec.externalIPs[0]: Invalid value: "not-an-ip": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
  ]],
  ['externalIPs not unspecified', service({ ports: p80, externalIPs: ['0.0.0.0'] }), [
    'spec.externalIPs[0]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)',
  ]],
  ['externalIPs not link-local', service({ ports: p80, externalIPs: ['169.254.1.1'] }), [
    'spec.externalIPs[0]: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
  ]],
  // The apiserver's rules alone; knet's stricter ones (given the cluster) are in service-addresses.test.ts.
  ['the apiserver takes loopback externalIPs', service({ ports: p80, externalIPs: ['127.18.0.2'] }), []],
  ['clusterIP must be an IP', service({ ports: p80, clusterIP: '10.96.0.300' }), [
    'spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
  ]],
  ['the same protocol and port twice', service({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] }), [
    'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
  ]],
  ['TCP 53 and UDP 53 together', service({ ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53 }] }), []],
  ['the same nodePort twice', service({ type: 'NodePort', ports: [{ name: 'a', port: 80, nodePort: 30080 }, { name: 'b', port: 81, nodePort: 30080 }] }), [
    'spec.ports[1].nodePort: Duplicate value: 30080',
  ]],
  ['Service names are DNS-1035 labels', service({ ports: p80 }, { name: '1web' }), [`metadata.name: Invalid value: "1web": ${LABEL_1035}`]],
  ['names are required', service({ ports: p80 }, { name: '' }), ['metadata.name: Required value: name or generateName is required']],
  ['namespaces are DNS-1123 labels', service({ ports: p80 }, { namespace: 'Bad_NS' }), [`metadata.namespace: Invalid value: "Bad_NS": ${LABEL_1123}`]],
  ['label values', service({ ports: p80 }, { labels: { app: 'bad value' } }), [
    "metadata.labels: Invalid value: \"bad value\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
  ]],
  ['label keys', service({ ports: p80 }, { labels: { '-bad': 'x' } }), [
    "metadata.labels: Invalid value: \"-bad\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
  ]],
  ['label key prefixes', service({ ports: p80 }, { labels: { 'Example.com/app': 'x' } }), [
    `metadata.labels: Invalid value: "Example.com/app": prefix part ${SUBDOMAIN}`,
  ]],
  ['selector labels', service({ ports: p80, selector: { app: 'a b' } }), [
    "spec.selector: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
  ]],
  ['type values', service({ ports: p80, type: 'Foo' }), [
    'spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
  ]],
  ['allocateLoadBalancerNodePorts only on LoadBalancer', service({ ports: p80, allocateLoadBalancerNodePorts: false }), [
    "spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'",
  ]],
  ['loadBalancerSourceRanges only on LoadBalancer', service({ ports: p80, loadBalancerSourceRanges: ['10.0.0.0/8'] }), [
    "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'",
  ]],
  ['loadBalancerSourceRanges are CIDRs', service({ type: 'LoadBalancer', ports: p80, loadBalancerSourceRanges: ['10.0.0.0'] }), [
    'spec.LoadBalancerSourceRanges[0]: Invalid value: "10.0.0.0": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
  ]],
  ['internalTrafficPolicy values', service({ ports: p80, internalTrafficPolicy: 'Nearby' }), [
    'spec.internalTrafficPolicy: Unsupported value: "Nearby": supported values: "Cluster", "Local"',
  ]],
];

describe('Service validation', () => {
  it.each(rows)('%s', (_what, manifest, expected) => {
    expect(messages(manifest)).toEqual(expected);
  });

  it('requires healthCheckNodePort for LoadBalancer+Local once allocation has run', () => {
    const svc = service({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: p80 });
    expect(messages(svc)).toEqual([]);
    expect(validateObject(svc, { allocated: true }).map((e) => e.message)).toEqual(['spec.healthCheckNodePort: Required value']);
  });

  it('forbids sessionAffinityConfig with affinity None (defaulting clears it first on the API path)', () => {
    const spec = { type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }], sessionAffinity: 'None', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10 } }, internalTrafficPolicy: 'Cluster' };
    const raw = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec };
    expect(validateService(raw as Service).map((e) => e.message)).toEqual([
      'spec.sessionAffinityConfig: Forbidden: must not be set when session affinity is None',
    ]);
    expect(messages(raw)).toEqual([]);
  });

  it('returns structured errors alongside the message', () => {
    const [err] = validateObject(service({ ports: [{ port: 80, nodePort: 30080 }] }));
    expect(err).toEqual({
      field: 'spec.ports[0].nodePort',
      type: 'Forbidden',
      detail: "may not be used when `type` is 'ClusterIP'",
      message: "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    });
  });
});
