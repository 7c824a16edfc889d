/**
 * The kinds knet stores without acting on them (RBAC, storage, quota, autoscaling, priority
 * classes), a disruption budget with no pods (its controller: kubectl-disruption.test.ts), and
 * ReplicationControllers, which the ReplicaSet controller keeps, driven with the real kubectl: what failed
 * with "no matches for kind" or "the server doesn't have a resource type" now answers as a
 * cluster does, with upstream's columns and short names.
 */
import { describe, expect, it } from 'vitest';
import { kubectlCluster } from '../support/kubectl-cluster.js';

const { ok, kubectl, file } = kubectlCluster();

const configMaps = (...names: string[]) =>
  names.map((n) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${n}\n  labels:\n    app: p\ndata:\n  k: v\n`).join('---\n');

const BUNDLE = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: op-reader}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: op-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: op-reader}
subjects:
- {kind: ServiceAccount, name: op, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: op-leases}
rules:
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: ['*']
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: op-leases}
roleRef: {kind: Role, name: op-leases}
subjects:
- {kind: User, name: alice}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: web}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
  storageClassName: fast
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fast
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: example.com/none
`;

describe('kinds knet stores without a controller', () => {
  it('kubectl get pvc finds none, as on a cluster', async () => {
    const r = await kubectl(['get', 'pvc']);
    expect(r.code).toBe(0);
    expect(r.stderr.trim()).toBe('No resources found in default namespace.');
    for (const name of ['rc', 'pv', 'hpa', 'pdb', 'limitrange', 'resourcequota', 'role', 'pc']) {
      const each = await kubectl(['get', name]);
      expect(each.code, `kubectl get ${name}: ${each.stderr}`).toBe(0);
      expect(each.stderr).toMatch(/^No resources found/);
    }
  });

  it('kubectl apply --prune -l prunes a labelled ConfigMap no longer in the file, without an allowlist', async () => {
    expect(await ok('apply', '--prune', '-l', 'app=p', '-f', file('both.yaml', configMaps('p-a', 'p-b')))).toMatch(/configmap\/p-b created/);
    const out = await ok('apply', '--prune', '-l', 'app=p', '-f', file('one.yaml', configMaps('p-a')));
    expect(out).toContain('configmap/p-a unchanged');
    expect(out).toContain('configmap/p-b pruned');
    expect(await ok('get', 'cm', '-l', 'app=p', '-o', 'name')).toBe('configmap/p-a\n');
  });

  it("applies an operator's RBAC, a PDB, an HPA, a PVC and a StorageClass, and gets each with upstream's columns", async () => {
    const applied = await ok('apply', '-f', file('bundle.yaml', BUNDLE));
    expect(applied.trim().split('\n')).toEqual([
      'clusterrole.rbac.authorization.k8s.io/op-reader created',
      'clusterrolebinding.rbac.authorization.k8s.io/op-reader created',
      'role.rbac.authorization.k8s.io/op-leases created',
      'rolebinding.rbac.authorization.k8s.io/op-leases created',
      'poddisruptionbudget.policy/web created',
      'horizontalpodautoscaler.autoscaling/web created',
      'persistentvolumeclaim/data created',
      'storageclass.storage.k8s.io/fast created',
    ]);
    const lines = async (...args: string[]) => (await ok('get', ...args)).trim().split('\n');
    expect(await lines('clusterrole', 'op-reader')).toEqual([expect.stringMatching(/^NAME\s+CREATED AT$/), expect.stringMatching(/^op-reader\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)]);
    expect(await lines('clusterrolebinding', 'op-reader', '-o', 'wide')).toEqual([
      expect.stringMatching(/^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS$/),
      expect.stringMatching(/^op-reader\s+ClusterRole\/op-reader\s+\d+s\s+default\/op$/),
    ]);
    expect(await lines('role')).toEqual([expect.stringMatching(/^NAME\s+CREATED AT$/), expect.stringMatching(/^op-leases\s+\S+Z$/)]);
    expect(await lines('rolebinding', '-o', 'wide')).toEqual([
      expect.stringMatching(/^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS$/),
      expect.stringMatching(/^op-leases\s+Role\/op-leases\s+\d+s\s+alice\s*$/),
    ]);
    expect(await lines('pdb')).toEqual([expect.stringMatching(/^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE$/), expect.stringMatching(/^web\s+1\s+N\/A\s+0\s+\d+s$/)]);
    // Defaulted as upstream: minReplicas 1, an 80% CPU target (no metrics: <unknown> current).
    expect(await lines('hpa')).toEqual([
      expect.stringMatching(/^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE$/),
      expect.stringMatching(/^web\s+Deployment\/web\s+cpu: <unknown>\/80%\s+1\s+5\s+0\s+\d+s$/),
    ]);
    // No provisioner binds it: Pending, as on a cluster without one.
    expect(await lines('pvc')).toEqual([
      expect.stringMatching(/^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE$/),
      expect.stringMatching(/^data\s+Pending\s+fast\s+<unset>\s+\d+s$/),
    ]);
    // Beside the cluster's own default class, as kind's `standard`.
    expect(await lines('sc')).toEqual([
      expect.stringMatching(/^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE$/),
      expect.stringMatching(/^fast \(default\)\s+example\.com\/none\s+Delete\s+Immediate\s+false\s+\d+s$/),
      expect.stringMatching(/^standard \(default\)\s+knet\.dev\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s+\d+s$/),
    ]);
  });

  it('rejects what the apiserver rejects, with its messages', async () => {
    const bad = `apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: both}\nspec: {minAvailable: 1, maxUnavailable: 1}\n`;
    const r = await kubectl(['apply', '-f', file('bad.yaml', bad)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('minAvailable and maxUnavailable cannot be both set');
  });

  it('a ReplicationController keeps its pods, scales, and takes them along when deleted', async () => {
    const rc = `apiVersion: v1\nkind: ReplicationController\nmetadata: {name: old}\nspec:\n  replicas: 2\n  template:\n    metadata: {labels: {app: old}}\n    spec:\n      terminationGracePeriodSeconds: 1\n      containers: [{name: c, image: busybox, command: [sleep, infinity]}]\n`;
    expect(await ok('apply', '-f', file('rc.yaml', rc))).toContain('replicationcontroller/old created');
    // The selector and labels defaulted from the template, as the apiserver does.
    expect(await ok('get', 'rc', 'old', '-o', 'jsonpath={.spec.selector.app}/{.metadata.labels.app}')).toBe('old/old');
    await ok('wait', '--for=jsonpath={.status.readyReplicas}=2', 'rc/old', '--timeout=60s');
    expect((await ok('get', 'rc', 'old')).trim().split('\n')).toEqual([expect.stringMatching(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE$/), expect.stringMatching(/^old\s+2\s+2\s+2\s+\d+s$/)]);
    const owners = await ok('get', 'pods', '-l', 'app=old', '-o', 'jsonpath={.items[*].metadata.ownerReferences[0].kind}');
    expect(owners.split(' ')).toEqual(['ReplicationController', 'ReplicationController']);
    expect(await ok('scale', 'rc', 'old', '--replicas=1')).toContain('replicationcontroller/old scaled');
    await ok('wait', '--for=jsonpath={.status.replicas}=1', 'rc/old', '--timeout=60s');
    await ok('delete', 'rc', 'old');
    await ok('wait', '--for=delete', 'pod', '-l', 'app=old', '--timeout=60s');
    expect(await ok('get', 'pods', '-l', 'app=old', '-o', 'name')).toBe('');
  });

  it('kubectl api-resources lists the new kinds with their short names', async () => {
    const resources = await ok('api-resources');
    for (const line of [
      /^persistentvolumeclaims\s+pvc\s+v1\s+true\s+PersistentVolumeClaim$/m,
      /^persistentvolumes\s+pv\s+v1\s+false\s+PersistentVolume$/m,
      /^replicationcontrollers\s+rc\s+v1\s+true\s+ReplicationController$/m,
      /^limitranges\s+limits\s+v1\s+true\s+LimitRange$/m,
      /^resourcequotas\s+quota\s+v1\s+true\s+ResourceQuota$/m,
      /^horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler$/m,
      /^poddisruptionbudgets\s+pdb\s+policy\/v1\s+true\s+PodDisruptionBudget$/m,
      /^clusterroles\s+rbac\.authorization\.k8s\.io\/v1\s+false\s+ClusterRole$/m,
      /^rolebindings\s+rbac\.authorization\.k8s\.io\/v1\s+true\s+RoleBinding$/m,
      /^priorityclasses\s+pc\s+scheduling\.k8s\.io\/v1\s+false\s+PriorityClass$/m,
      /^storageclasses\s+sc\s+storage\.k8s\.io\/v1\s+false\s+StorageClass$/m,
    ]) expect(resources).toMatch(line);
  });
});
