import { describe, expect, it } from 'vitest';
import { applyDefaults, normalizeManifest } from '../../../dataplane/base/model/defaults/index.js';
import { imageTag } from '../../../dataplane/base/model/defaults/pod.js';
import type { KObject } from '../../../dataplane/base/model/object.js';
import { container, pod, podSpec, service, workload } from './manifests.js';

/** Read a dotted path with [i] indices out of an object. */
function at(obj: unknown, path: string): unknown {
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .reduce<unknown>((cur, step) => (cur === undefined || cur === null ? undefined : (cur as Record<string, unknown>)[step]), obj);
}

const rows: [string, unknown, string, unknown][] = [
  ['Service type', service({ ports: [{ port: 80 }] }), 'spec.type', 'ClusterIP'],
  ['Service sessionAffinity', service({ ports: [{ port: 80 }] }), 'spec.sessionAffinity', 'None'],
  ['port protocol', service({ ports: [{ port: 80 }] }), 'spec.ports[0].protocol', 'TCP'],
  ['targetPort = port', service({ ports: [{ port: 80 }] }), 'spec.ports[0].targetPort', 80],
  ['targetPort 0 = port', service({ ports: [{ port: 80, targetPort: 0 }] }), 'spec.ports[0].targetPort', 80],
  ['a named targetPort stays', service({ ports: [{ port: 80, targetPort: 'http' }] }), 'spec.ports[0].targetPort', 'http'],
  ['externalTrafficPolicy for NodePort', service({ type: 'NodePort', ports: [{ port: 80 }] }), 'spec.externalTrafficPolicy', 'Cluster'],
  ['externalTrafficPolicy for LoadBalancer', service({ type: 'LoadBalancer', ports: [{ port: 80 }] }), 'spec.externalTrafficPolicy', 'Cluster'],
  ['externalTrafficPolicy for ClusterIP with externalIPs', service({ ports: [{ port: 80 }], externalIPs: ['203.0.113.250'] }), 'spec.externalTrafficPolicy', 'Cluster'],
  ['no externalTrafficPolicy for plain ClusterIP', service({ ports: [{ port: 80 }] }), 'spec.externalTrafficPolicy', undefined],
  ['internalTrafficPolicy', service({ ports: [{ port: 80 }] }), 'spec.internalTrafficPolicy', 'Cluster'],
  ['no internalTrafficPolicy for ExternalName', service({ type: 'ExternalName', externalName: 'a.example.com' }), 'spec.internalTrafficPolicy', undefined],
  ['ClientIP timeout', service({ ports: [{ port: 80 }], sessionAffinity: 'ClientIP' }), 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', 10800],
  ['a chosen ClientIP timeout stays', service({ ports: [{ port: 80 }], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 125 } } }), 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', 125],
  ['affinity None drops its config', service({ ports: [{ port: 80 }], sessionAffinityConfig: { clientIP: { timeoutSeconds: 125 } } }), 'spec.sessionAffinityConfig', undefined],
  ['allocateLoadBalancerNodePorts', service({ type: 'LoadBalancer', ports: [{ port: 80 }] }), 'spec.allocateLoadBalancerNodePorts', true],
  ['ipFamilies', service({ ports: [{ port: 80 }] }), 'spec.ipFamilies', ['IPv4']],
  ['ipFamilyPolicy', service({ ports: [{ port: 80 }] }), 'spec.ipFamilyPolicy', 'SingleStack'],
  ['no ipFamilies for ExternalName', service({ type: 'ExternalName', externalName: 'a.example.com' }), 'spec.ipFamilies', undefined],
  ['clusterIPs follow clusterIP', service({ clusterIP: 'None' }), 'spec.clusterIPs', ['None']],
  ['LB ingress ipMode', { ...service({ type: 'LoadBalancer', ports: [{ port: 80 }] }), status: { loadBalancer: { ingress: [{ ip: '127.18.255.200' }] } } }, 'status.loadBalancer.ingress[0].ipMode', 'VIP'],
  ['namespace default', service({ ports: [{ port: 80 }] }), 'metadata.namespace', 'default'],
  ['a chosen namespace stays', service({ ports: [{ port: 80 }] }, { namespace: 'prod' }), 'metadata.namespace', 'prod'],
  ['Pod restartPolicy', pod(podSpec()), 'spec.restartPolicy', 'Always'],
  ['Pod dnsPolicy', pod(podSpec()), 'spec.dnsPolicy', 'ClusterFirst'],
  ['Pod terminationGracePeriodSeconds', pod(podSpec()), 'spec.terminationGracePeriodSeconds', 30],
  ['a chosen grace period of 0 stays', pod(podSpec({ terminationGracePeriodSeconds: 0 })), 'spec.terminationGracePeriodSeconds', 0],
  ['Pod schedulerName', pod(podSpec()), 'spec.schedulerName', 'default-scheduler'],
  ['Pod enableServiceLinks', pod(podSpec()), 'spec.enableServiceLinks', true],
  ['Pod securityContext', pod(podSpec()), 'spec.securityContext', {}],
  ['container imagePullPolicy for a tag', pod(podSpec()), 'spec.containers[0].imagePullPolicy', 'IfNotPresent'],
  ['container imagePullPolicy for latest', pod({ containers: [container({ image: 'nginx' })] }), 'spec.containers[0].imagePullPolicy', 'Always'],
  ['container terminationMessagePath', pod(podSpec()), 'spec.containers[0].terminationMessagePath', '/dev/termination-log'],
  ['container terminationMessagePolicy', pod(podSpec()), 'spec.containers[0].terminationMessagePolicy', 'File'],
  ['containerPort protocol', pod({ containers: [container({ ports: [{ containerPort: 8080 }] })] }), 'spec.containers[0].ports[0].protocol', 'TCP'],
  ['hostNetwork pods expose host ports', pod({ hostNetwork: true, containers: [container({ ports: [{ containerPort: 8080 }] })] }), 'spec.containers[0].ports[0].hostPort', 8080],
  ['probe timeoutSeconds', pod({ containers: [container({ readinessProbe: { tcpSocket: { port: 80 } } })] }), 'spec.containers[0].readinessProbe.timeoutSeconds', 1],
  ['probe periodSeconds', pod({ containers: [container({ livenessProbe: { tcpSocket: { port: 80 } } })] }), 'spec.containers[0].livenessProbe.periodSeconds', 10],
  ['probe successThreshold', pod({ containers: [container({ startupProbe: { tcpSocket: { port: 80 } } })] }), 'spec.containers[0].startupProbe.successThreshold', 1],
  ['probe failureThreshold', pod({ containers: [container({ readinessProbe: { tcpSocket: { port: 80 } } })] }), 'spec.containers[0].readinessProbe.failureThreshold', 3],
  ['httpGet path and scheme', pod({ containers: [container({ readinessProbe: { httpGet: { port: 80 } } })] }), 'spec.containers[0].readinessProbe.httpGet', { port: 80, path: '/', scheme: 'HTTP' }],
  ['limits become requests', pod({ containers: [container({ resources: { limits: { cpu: '500m' } } })] }), 'spec.containers[0].resources.requests', { cpu: '500m' }],
  ['fieldRef apiVersion', pod({ containers: [container({ env: [{ name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] })] }), 'spec.containers[0].env[0].valueFrom.fieldRef.apiVersion', 'v1'],
  ['secret volume mode', pod(podSpec({ volumes: [{ name: 'v', secret: { secretName: 's' } }] })), 'spec.volumes[0].secret.defaultMode', 420],
  ['a sourceless volume is an emptyDir', pod(podSpec({ volumes: [{ name: 'v' }] })), 'spec.volumes[0].emptyDir', {}],
  ['DefaultTolerationSeconds: not-ready and unreachable for 300 s', pod(podSpec()), 'spec.tolerations', [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ]],
  ['DefaultTolerationSeconds: a pod tolerating one keeps its own', pod(podSpec({ tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }] })), 'spec.tolerations', [
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ]],
  ['DefaultTolerationSeconds: tolerating everything adds nothing', pod(podSpec({ tolerations: [{ operator: 'Exists' }] })), 'spec.tolerations', [{ operator: 'Exists' }]],
  ['Priority: 0 without a class', pod(podSpec()), 'spec.priority', 0],
  ['Priority: preemptionPolicy', pod(podSpec()), 'spec.preemptionPolicy', 'PreemptLowerPriority'],
  ['Priority: a built-in class', pod(podSpec({ priorityClassName: 'system-node-critical' })), 'spec.priority', 2000001000],
  ['templates get no tolerations', workload('Deployment', {}), 'spec.template.spec.tolerations', undefined],
  ['templates get no priority', workload('Deployment', {}), 'spec.template.spec.priority', undefined],
  ['Deployment replicas', workload('Deployment', {}), 'spec.replicas', 1],
  ['Deployment strategy', workload('Deployment', {}), 'spec.strategy', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } }],
  ['Recreate gets no rollingUpdate', workload('Deployment', { strategy: { type: 'Recreate' } }), 'spec.strategy', { type: 'Recreate' }],
  ['Deployment revisionHistoryLimit', workload('Deployment', {}), 'spec.revisionHistoryLimit', 10],
  ['Deployment progressDeadlineSeconds', workload('Deployment', {}), 'spec.progressDeadlineSeconds', 600],
  ['template pods get pod defaults', workload('Deployment', {}), 'spec.template.spec.restartPolicy', 'Always'],
  ['template pods do not get enableServiceLinks', workload('Deployment', {}), 'spec.template.spec.enableServiceLinks', undefined],
  ['ReplicaSet replicas', workload('ReplicaSet', {}), 'spec.replicas', 1],
  ['StatefulSet podManagementPolicy', workload('StatefulSet', {}), 'spec.podManagementPolicy', 'OrderedReady'],
  ['StatefulSet updateStrategy', workload('StatefulSet', {}), 'spec.updateStrategy', { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }],
  ['StatefulSet OnDelete stays bare', workload('StatefulSet', { updateStrategy: { type: 'OnDelete' } }), 'spec.updateStrategy', { type: 'OnDelete' }],
  ['StatefulSet PVC retention', workload('StatefulSet', {}), 'spec.persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' }],
  ['DaemonSet updateStrategy', workload('DaemonSet', {}), 'spec.updateStrategy', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }],
  ['Secret type', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }, 'type', 'Opaque'],
  ['Namespace name label', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } }, 'metadata.labels', { 'kubernetes.io/metadata.name': 'team-a' }],
  ['no namespace on cluster-scoped kinds', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', namespace: 'default' } }, 'metadata.namespace', undefined],
  ['EndpointSlice port protocol', { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'e' }, addressType: 'IPv4', endpoints: [], ports: [{ port: 80 }] }, 'ports[0]', { port: 80, name: '', protocol: 'TCP' }],
  ['Endpoints port protocol', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'e' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }] }, 'subsets[0].ports[0].protocol', 'TCP'],
  ['nulls mean unset', service({ ports: [{ port: 80 }], type: null, selector: null }), 'spec', {
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
    sessionAffinity: 'None',
    type: 'ClusterIP',
    internalTrafficPolicy: 'Cluster',
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
  }],
];

describe('applyDefaults', () => {
  it.each(rows)('%s', (_what, obj, path, expected) => {
    expect(at(applyDefaults(obj as KObject), path)).toEqual(expected);
  });

  it('is pure: the input is left alone', () => {
    const input = workload('Deployment', {});
    const copy = structuredClone(input);
    applyDefaults(input);
    expect(input).toEqual(copy);
  });

  it('is idempotent', () => {
    for (const [, obj] of rows) {
      const once = applyDefaults(obj as KObject);
      expect(applyDefaults(once)).toEqual(once);
    }
  });

  it('passes unknown kinds and non-objects through', () => {
    expect(applyDefaults({ kind: 'Widget', spec: { a: null } })).toEqual({ kind: 'Widget', spec: {} });
    expect(applyDefaults('x' as unknown as KObject)).toBe('x');
  });
});

describe('normalizeManifest', () => {
  it('folds Secret stringData into base64 data, stringData winning', () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { a: 'b2xk', keep: 'eA==' }, stringData: { a: 'new', b: 'héllo' } };
    expect(normalizeManifest(secret)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { a: Buffer.from('new').toString('base64'), keep: 'eA==', b: Buffer.from('héllo').toString('base64') },
    });
    expect(secret.stringData).toEqual({ a: 'new', b: 'héllo' });
  });

  it('leaves other kinds alone apart from nulls', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: null }, stringData: { a: 'b' } };
    expect(normalizeManifest(cm)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, stringData: { a: 'b' } });
  });
});

describe('imageTag (for the default pull policy)', () => {
  const images: [string, string][] = [
    ['nginx', 'latest'],
    ['nginx:latest', 'latest'],
    ['nginx:1.27', '1.27'],
    ['registry.k8s.io/e2e-test-images/agnhost:2.53', '2.53'],
    ['localhost:5000/app', 'latest'],
    ['localhost:5000/app:v1', 'v1'],
    ['nginx@sha256:0123456789abcdef', ''],
    ['nginx:1.27@sha256:0123456789abcdef', '1.27'],
  ];
  it.each(images)('%s', (image, tag) => {
    expect(imageTag(image)).toBe(tag);
  });
});
