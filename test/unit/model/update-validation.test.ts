import { describe, expect, it } from 'vitest';
import type { Service } from 'kubernetes-types/core/v1.js';
import { applyDefaults, dropTypeDependentFields, normalizeClusterIPs, patchAllocatedValues } from '../../../dataplane/base/model/defaults/index.js';
import type { KObject } from '../../../dataplane/base/model/object.js';
import { validateUpdate } from '../../../dataplane/base/model/validate/index.js';
import { container, pod, podSpec, service, template, workload } from './manifests.js';

const updateMessages = (o: unknown, n: unknown): string[] => validateUpdate(o, n).map((e) => e.message);
const p80 = [{ port: 80 }];
const allocated = service({ clusterIP: '127.96.0.5', ports: p80 });

const rows: [string, unknown, unknown, string[]][] = [
  ['an unchanged object', allocated, allocated, []],
  ['changing the clusterIP', allocated, service({ clusterIP: '127.96.0.6', ports: p80 }), [
    'spec.clusterIPs[0]: Invalid value: []string{"127.96.0.6"}: may not change once set',
  ]],
  ['dropping the clusterIP (without patchAllocatedValues)', allocated, service({ ports: p80 }), [
    'spec.clusterIPs[0]: Invalid value: []string(nil): primary clusterIP can not be unset',
  ]],
  ['from ExternalName to ClusterIP with a chosen IP', service({ type: 'ExternalName', externalName: 'db.example.com' }), allocated, []],
  ['healthCheckNodePort may not change while needed', service({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 30500, ports: p80 }),
    service({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 30501, ports: p80 }), [
      'spec.healthCheckNodePort: Forbidden: field is immutable',
    ]],
  ['healthCheckNodePort goes when Local goes', service({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 30500, ports: p80 }),
    service({ type: 'LoadBalancer', externalTrafficPolicy: 'Cluster', ports: p80 }), []],
  ['Deployment selectors are immutable', workload('Deployment', {}), workload('Deployment', {
    selector: { matchLabels: { app: 'web2' } },
    template: template({ app: 'web2' }),
  }), [
    'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
  ]],
  ['Deployment replicas and template may change', workload('Deployment', {}), workload('Deployment', {
    replicas: 5,
    template: template({ app: 'web', version: 'v2' }),
  }), []],
  ['DaemonSet selectors are immutable', workload('DaemonSet', {}), workload('DaemonSet', { selector: { matchLabels: { app: 'web', tier: 'x' } }, template: template({ app: 'web', tier: 'x' }) }), [
    'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
  ]],
  ['StatefulSet replicas may change', workload('StatefulSet', { serviceName: 'web' }), workload('StatefulSet', { serviceName: 'web', replicas: 3 }), []],
  ['StatefulSet serviceName may not', workload('StatefulSet', { serviceName: 'web' }), workload('StatefulSet', { serviceName: 'other' }), [
    "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  ]],
  ['Pod images may change', pod(podSpec()), pod({ containers: [container({ image: 'nginx:1.28' })] }), []],
  ['Pod ports may not', pod(podSpec()), pod({ containers: [container({ ports: [{ containerPort: 80 }] })] }), [
    'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
  ]],
  ['Pods may not gain containers', pod(podSpec()), pod({ containers: [container(), container({ name: 'b' })] }), [
    'spec.containers: Forbidden: pod updates may not add or remove containers',
  ]],
  ['binding a Pod to a node', pod(podSpec()), pod(podSpec({ nodeName: 'node-1' })), []],
  ['moving a bound Pod', pod(podSpec({ nodeName: 'node-1' })), pod(podSpec({ nodeName: 'node-2' })), [
    'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
  ]],
  ['Secret types are immutable', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { username: 'YQ==' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'kubernetes.io/basic-auth', data: { username: 'YQ==' } }, [
      'type: Invalid value: "kubernetes.io/basic-auth": field is immutable',
    ]],
  ['immutable ConfigMaps keep their data', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, immutable: true, data: { a: '1' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, immutable: true, data: { a: '2' } }, [
      'data: Forbidden: field is immutable when `immutable` is set',
    ]],
  ['EndpointSlice addressType is immutable',
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'e' }, addressType: 'IPv4', endpoints: [] },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'e' }, addressType: 'IPv6', endpoints: [] }, [
      'addressType: Invalid value: "IPv6": field is immutable',
    ]],
  ['IngressClass controller is immutable',
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'c' }, spec: { controller: 'k8s.io/ingress-nginx' } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'c' }, spec: { controller: 'example.com/other' } }, [
      'spec.controller: Invalid value: "example.com/other": field is immutable',
    ]],
  ['names are immutable', allocated, service({ clusterIP: '127.96.0.5', ports: p80 }, { name: 'web2' }), [
    'metadata.name: Invalid value: "web2": field is immutable',
  ]],
  ['the new object is fully validated too', allocated, service({ clusterIP: '127.96.0.5', ports: [{ port: 80 }, { port: 81 }] }), [
    'spec.ports[0].name: Required value',
    'spec.ports[1].name: Required value',
  ]],
  ['a new object that does not decode gets only decode errors', allocated, service({ clusterIP: '127.96.0.5', ports: p80, bogus: 1 }), [
    'unknown field "spec.bogus"',
  ]],
];

describe('validateUpdate', () => {
  it.each(rows)('%s', (_what, o, n, expected) => {
    expect(updateMessages(o, n)).toEqual(expected);
  });
});

describe('Service update preparation (patchAllocatedValues, normalizeClusterIPs, dropTypeDependentFields)', () => {
  const prepare = (o: KObject, n: KObject): Service => {
    const old = applyDefaults(o) as Service;
    return dropTypeDependentFields(old, normalizeClusterIPs(old, patchAllocatedValues(old, applyDefaults(n) as Service)));
  };

  it('a changed clusterIP with clusterIPs left as they were is judged as a change of clusterIP (kubectl apply of clusterIP: None)', () => {
    // What a three-way merge leaves: the manifest's clusterIP, the live clusterIPs.
    const stored = service({ clusterIP: '127.96.0.5', ports: p80 });
    const applied = service({ clusterIP: 'None', clusterIPs: ['127.96.0.5'], ports: p80 });
    expect(prepare(stored, applied).spec?.clusterIPs).toEqual(['None']);
    expect(updateMessages(stored, prepare(stored, applied))).toEqual(['spec.clusterIPs[0]: Invalid value: []string{"None"}: may not change once set']);
    // A client that changes both fields is taken at its word.
    expect(prepare(stored, service({ clusterIP: 'None', clusterIPs: ['None'], ports: p80 })).spec?.clusterIPs).toEqual(['None']);
    // Leaving both as they are changes nothing.
    expect(prepare(stored, service({ clusterIP: '127.96.0.5', clusterIPs: ['127.96.0.5'], ports: p80 })).spec?.clusterIPs).toEqual(['127.96.0.5']);
  });

  it('re-applying a manifest without the allocated values keeps them', () => {
    const stored = service({ type: 'NodePort', clusterIP: '127.96.0.5', ports: [{ name: 'http', port: 80, nodePort: 30080 }] });
    const manifest = service({ type: 'NodePort', ports: [{ name: 'http', port: 80 }] });
    const next = prepare(stored, manifest);
    expect(next.spec?.clusterIP).toBe('127.96.0.5');
    expect(next.spec?.clusterIPs).toEqual(['127.96.0.5']);
    expect(next.spec?.ports?.[0].nodePort).toBe(30080);
    expect(updateMessages(stored, next)).toEqual([]);
  });

  it('does not reuse a nodePort the new spec already gives another port', () => {
    const stored = service({ type: 'NodePort', clusterIP: '127.96.0.5', ports: [{ name: 'a', port: 80, nodePort: 30080 }, { name: 'b', port: 81, nodePort: 30081 }] });
    const manifest = service({ type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81, nodePort: 30080 }] });
    expect(prepare(stored, manifest).spec?.ports?.map((p) => p.nodePort)).toEqual([undefined, 30080]);
  });

  it('switching to ExternalName clears the IP fields', () => {
    const stored = service({ clusterIP: '127.96.0.5', ports: p80 });
    const next = prepare(stored, service({ type: 'ExternalName', externalName: 'db.example.com', clusterIP: '127.96.0.5', ports: p80 }));
    expect(next.spec?.clusterIP).toBeUndefined();
    expect(next.spec?.clusterIPs).toBeUndefined();
    expect(next.spec?.ipFamilies).toBeUndefined();
    expect(next.spec?.ipFamilyPolicy).toBeUndefined();
    expect(updateMessages(stored, next)).toEqual([]);
    // Without the preparation the leftover IP is rejected, as the apiserver would.
    expect(updateMessages(stored, service({ type: 'ExternalName', externalName: 'db.example.com', clusterIP: '127.96.0.5', ports: p80 }))).toEqual([
      'spec.clusterIPs: Forbidden: may not be set for ExternalName services',
    ]);
  });

  it('switching NodePort to ClusterIP drops unchanged nodePorts and the traffic policy', () => {
    const stored = service({ type: 'NodePort', clusterIP: '127.96.0.5', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30080 }] });
    const next = prepare(stored, service({ type: 'ClusterIP', clusterIP: '127.96.0.5', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30080 }] }));
    expect(next.spec?.ports?.[0].nodePort).toBeUndefined();
    expect(next.spec?.externalTrafficPolicy).toBeUndefined();
    expect(updateMessages(stored, next)).toEqual([]);
  });

  it('switching LoadBalancer to ClusterIP clears the load-balancer status and LB-only fields', () => {
    const stored = {
      ...service({ type: 'LoadBalancer', clusterIP: '127.96.0.5', ports: [{ port: 80, nodePort: 30080 }] }),
      status: { loadBalancer: { ingress: [{ ip: '127.18.255.200' }] } },
    };
    const next = prepare(stored, { ...service({ type: 'ClusterIP', ports: p80 }), status: stored.status });
    expect(next.spec?.allocateLoadBalancerNodePorts).toBeUndefined();
    expect(next.status).toEqual({ loadBalancer: {} });
    expect(updateMessages(stored, next)).toEqual([]);
  });

  it('keeps a changed nodePort so validation and allocation see the change', () => {
    const stored = service({ type: 'NodePort', clusterIP: '127.96.0.5', ports: [{ port: 80, nodePort: 30080 }] });
    const next = prepare(stored, service({ type: 'ClusterIP', ports: [{ port: 80, nodePort: 30081 }] }));
    expect(next.spec?.ports?.[0].nodePort).toBe(30081);
    expect(updateMessages(stored, next)).toEqual(["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]);
  });
});
