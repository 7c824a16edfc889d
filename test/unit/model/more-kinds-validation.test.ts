// Validation and defaulting of the kinds knet stores without acting on them, as the apiserver
// does them (pkg/apis/{core,rbac,policy,autoscaling,scheduling,storage}).
import { describe, expect, it } from 'vitest';
import { messages } from './manifests.js';
import { applyDefaults } from '../../../dataplane/base/model/defaults/index.js';
import { validateUpdate } from '../../../dataplane/base/model/validate/index.js';
import type { KObject } from '../../../dataplane/base/model/object.js';

const obj = (apiVersion: string, kind: string, body: Record<string, unknown>, namespace: string | undefined = 'x'): KObject =>
  ({ apiVersion, kind, metadata: { name: 'o', ...(namespace ? { namespace } : {}) }, ...body }) as KObject;
const rbac = (kind: string, body: Record<string, unknown>) => obj('rbac.authorization.k8s.io/v1', kind, body, kind.startsWith('Cluster') ? undefined : 'x');
const template = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };

describe('validation of the stored-only kinds', () => {
  it.each([
    ['a PVC with no access modes or storage', obj('v1', 'PersistentVolumeClaim', { spec: {} }), ['spec.accessModes: Required value: at least 1 access mode is required', 'spec.resources[storage]: Required value']],
    ['a PV with no source', obj('v1', 'PersistentVolume', { spec: { accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } } }, undefined), ['spec: Required value: must specify a volume type']],
    ['a StorageClass with no provisioner', obj('storage.k8s.io/v1', 'StorageClass', {}, undefined), ['provisioner: Required value']],
    ['an RC whose selector misses its template', obj('v1', 'ReplicationController', { spec: { selector: { app: 'b' }, template } }), ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"a"}: `selector` does not match template `labels`']],
    ['a PDB with both bounds', obj('policy/v1', 'PodDisruptionBudget', { spec: { minAvailable: 1, maxUnavailable: '10%' } }), ['spec: Invalid value: policy.PodDisruptionBudgetSpec: minAvailable and maxUnavailable cannot be both set']],
    ['a PDB over 100%', obj('policy/v1', 'PodDisruptionBudget', { spec: { maxUnavailable: '150%' } }), ['spec.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%']],
    ['an HPA with maxReplicas under minReplicas', obj('autoscaling/v2', 'HorizontalPodAutoscaler', { spec: { scaleTargetRef: { kind: 'Deployment', name: 'w' }, minReplicas: 3, maxReplicas: 2 } }), ['spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`']],
    ['a user PriorityClass named system-', obj('scheduling.k8s.io/v1', 'PriorityClass', { value: 5 }, undefined), []],
    ['a Role rule without verbs or groups', rbac('Role', { rules: [{ resources: ['pods'] }] }), ['rules[0].verbs: Required value: verbs must contain at least one value', 'rules[0].apiGroups: Required value: resource rules must supply at least one api group']],
    ['a namespaced rule on URLs', rbac('Role', { rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] }), ['rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs']],
    ['a ClusterRole rule on URLs', rbac('ClusterRole', { rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] }), []],
    ['a ClusterRoleBinding to a Role', rbac('ClusterRoleBinding', { roleRef: { kind: 'Role', name: 'r' } }), ['roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"']],
    ['a binding of a service account without its namespace', rbac('ClusterRoleBinding', { roleRef: { kind: 'ClusterRole', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }] }), ['subjects[0].namespace: Required value']],
  ])('%s', (_what, o, expected) => expect(messages(o)).toEqual(expected));

  it('reserves system- names and caps user priorities', () => {
    const pc = (name: string, value: number) => ({ ...obj('scheduling.k8s.io/v1', 'PriorityClass', { value }, undefined), metadata: { name } });
    expect(messages(pc('system-mine', 1))).toEqual(["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved"]);
    expect(messages(pc('high', 2000000000))).toEqual(['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']);
    expect(messages(pc('system-cluster-critical', 2000000000))).toEqual([]);
  });

  it('keeps a binding’s roleRef and a PriorityClass’s value on update', () => {
    const b = rbac('RoleBinding', { roleRef: { kind: 'Role', name: 'a' } });
    const changed = { ...b, roleRef: { kind: 'Role', name: 'b' } };
    expect(validateUpdate(b, changed).map((e) => e.message)).toEqual(['roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"b"}: cannot change roleRef']);
    const pc = obj('scheduling.k8s.io/v1', 'PriorityClass', { value: 1 }, undefined);
    expect(validateUpdate(pc, { ...pc, value: 2 } as KObject).map((e) => e.message)).toEqual(['value: Forbidden: may not be changed in an update.']);
  });
});

describe('defaulting of the stored-only kinds', () => {
  const spec = (o: KObject) => (applyDefaults(o) as unknown as { spec: Record<string, unknown> }).spec;
  it('an HPA gets minReplicas 1 and an 80% CPU target; a given behavior its unset rules', () => {
    const s = spec(obj('autoscaling/v2', 'HorizontalPodAutoscaler', { spec: { scaleTargetRef: { kind: 'Deployment', name: 'w' }, maxReplicas: 3, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } } }));
    expect(s.minReplicas).toBe(1);
    expect(s.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
    expect(s.behavior).toEqual({
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    });
  });

  it('an RC takes its selector and labels from its template, and one replica', () => {
    const o = applyDefaults(obj('v1', 'ReplicationController', { spec: { template } })) as unknown as { metadata: { labels: unknown }; spec: { selector: unknown; replicas: number } };
    expect([o.spec.selector, o.metadata.labels, o.spec.replicas]).toEqual([{ app: 'a' }, { app: 'a' }, 1]);
    expect(messages(o)).toEqual([]);
  });

  it('a LimitRange container item: default from max, defaultRequest from default then min', () => {
    const lr = applyDefaults(obj('v1', 'LimitRange', { spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '1Mi', cpu: '100m' } }] } })) as unknown as { spec: { limits: unknown[] } };
    expect(lr.spec.limits[0]).toMatchObject({ default: { cpu: '2' }, defaultRequest: { cpu: '2', memory: '1Mi' } });
  });

  it('bindings, storage and priority classes get their API defaults', () => {
    const b = applyDefaults(rbac('RoleBinding', { roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'u' }, { kind: 'ServiceAccount', name: 's', namespace: 'x' }] })) as unknown as Record<string, unknown>;
    expect(b.roleRef).toEqual({ kind: 'Role', name: 'r', apiGroup: 'rbac.authorization.k8s.io' });
    expect(b.subjects).toEqual([{ kind: 'User', name: 'u', apiGroup: 'rbac.authorization.k8s.io' }, { kind: 'ServiceAccount', name: 's', namespace: 'x' }]);
    expect(applyDefaults(obj('storage.k8s.io/v1', 'StorageClass', { provisioner: 'p' }, undefined))).toMatchObject({ reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' });
    expect(spec(obj('v1', 'PersistentVolume', { spec: { hostPath: { path: '/d' } } }, undefined))).toMatchObject({ persistentVolumeReclaimPolicy: 'Retain', volumeMode: 'Filesystem' });
    expect(applyDefaults(obj('scheduling.k8s.io/v1', 'PriorityClass', { value: 1 }, undefined))).toMatchObject({ preemptionPolicy: 'PreemptLowerPriority' });
  });
});
