/**
 * Strategic merge patch with the real kinds' metadata (api-schema.json from k8s.io/api
 * v0.32.3): the merge keys and strategies kubectl and the apiserver use.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kindRef, fieldOf } from '../../../dataplane/base/patch/api-schema.js';
import { applyStrategicMergePatch } from '../../../dataplane/base/patch/strategic-merge.js';
import { createThreeWayMergePatch } from '../../../dataplane/base/patch/strategic-diff.js';
import type { JsonMap } from '../../../dataplane/base/patch/json-value.js';

const y = (s: string): JsonMap => parse(s) as JsonMap;
const apply = (kind: string, o: string, p: string) => applyStrategicMergePatch(y(o), y(p), kindRef(kind));

const POD = `
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, finalizers: [a/x], ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: rs, uid: u1}]}
spec:
  containers:
    - name: web
      image: nginx:1.27
      command: [nginx, -g]
      ports: [{containerPort: 80, protocol: TCP}]
      env: [{name: A, value: "1"}, {name: B, value: "2"}]
      volumeMounts: [{name: data, mountPath: /data}]
    - name: sidecar
      image: busybox
  tolerations: [{key: k1, operator: Exists}]
  volumes: [{name: data, emptyDir: {}}]
status:
  conditions: [{type: Ready, status: "True"}, {type: PodScheduled, status: "True"}]
`;

describe('strategic merge patch on the kinds knet serves', () => {
  it('the merge keys and strategies come from upstream', () => {
    const pod = kindRef('Pod');
    expect(pod).toBe('io.k8s.api.core.v1.Pod');
    const spec = fieldOf(pod, 'spec').type;
    expect(fieldOf(spec, 'containers')).toMatchObject({ patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] });
    expect(fieldOf(spec, 'volumes')).toMatchObject({ patchStrategy: 'merge,retainKeys', patchMergeKey: 'name' });
    expect(fieldOf(spec, 'tolerations')).toEqual({ type: '[]io.k8s.api.core.v1.Toleration', listType: 'atomic' });
    const container = 'io.k8s.api.core.v1.Container';
    expect(fieldOf(container, 'ports')).toMatchObject({ patchMergeKey: 'containerPort', listMapKeys: ['containerPort', 'protocol'] });
    expect(fieldOf(container, 'volumeMounts')).toMatchObject({ patchMergeKey: 'mountPath' });
    expect(fieldOf(container, 'command')).toEqual({ type: '[]string', listType: 'atomic' });
    expect(fieldOf('io.k8s.api.core.v1.ServiceSpec', 'ports')).toMatchObject({ patchMergeKey: 'port', listMapKeys: ['port', 'protocol'] });
    expect(fieldOf('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'finalizers')).toMatchObject({ patchStrategy: 'merge', listType: 'set' });
    expect(fieldOf('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'ownerReferences')).toMatchObject({ patchMergeKey: 'uid' });
    expect(fieldOf('io.k8s.api.apps.v1.DeploymentSpec', 'strategy')).toMatchObject({ patchStrategy: 'retainKeys' });
    expect(fieldOf('io.k8s.api.core.v1.PodStatus', 'conditions')).toMatchObject({ patchMergeKey: 'type' });
  });

  it('containers merge by name: a new image for one keeps the others', () => {
    const out = apply('Pod', POD, 'spec: {containers: [{name: web, image: nginx:1.28}]}');
    const containers = (out.spec as JsonMap).containers as JsonMap[];
    expect(containers.map((c) => [c.name, c.image])).toEqual([
      ['web', 'nginx:1.28'],
      ['sidecar', 'busybox'],
    ]);
    expect(containers[0]!.ports).toEqual([{ containerPort: 80, protocol: 'TCP' }]);
  });

  it('container ports merge by containerPort, env by name, volumeMounts by mountPath', () => {
    const out = apply(
      'Pod',
      POD,
      `spec:
        containers:
          - name: web
            ports: [{containerPort: 9090, name: metrics}]
            env: [{name: B, $patch: delete}, {name: C, value: "3"}]
            volumeMounts: [{mountPath: /data, readOnly: true}]`,
    );
    const web = ((out.spec as JsonMap).containers as JsonMap[])[0]!;
    expect(web.ports).toEqual([{ containerPort: 9090, name: 'metrics' }, { containerPort: 80, protocol: 'TCP' }]);
    expect(web.env).toEqual([
      { name: 'C', value: '3' },
      { name: 'A', value: '1' },
    ]);
    expect(web.volumeMounts).toEqual([{ name: 'data', mountPath: '/data', readOnly: true }]);
  });

  it('atomic lists (tolerations, command) are replaced', () => {
    const out = apply('Pod', POD, 'spec: {tolerations: [{key: k2, operator: Exists}], containers: [{name: web, command: [sh]}]}');
    expect((out.spec as JsonMap).tolerations).toEqual([{ key: 'k2', operator: 'Exists' }]);
    expect(((out.spec as JsonMap).containers as JsonMap[])[0]!.command).toEqual(['sh']);
  });

  it('finalizers are a union, removed with $deleteFromPrimitiveList; ownerReferences merge by uid', () => {
    const out = apply('Pod', POD, 'metadata: {finalizers: [b/y], ownerReferences: [{uid: u1, controller: true}]}');
    // Without $setElementOrder the patch's items come first (upstream mergeSlice's order).
    expect((out.metadata as JsonMap).finalizers).toEqual(['b/y', 'a/x']);
    expect((out.metadata as JsonMap).ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true }]);
    const removed = apply('Pod', POD, 'metadata: {$deleteFromPrimitiveList/finalizers: [a/x]}');
    expect((removed.metadata as JsonMap).finalizers).toEqual([]);
  });

  it('status conditions merge by type', () => {
    const out = apply('Pod', POD, 'status: {conditions: [{type: Ready, status: "False", reason: Down}]}');
    expect((out.status as JsonMap).conditions).toEqual([
      { type: 'Ready', status: 'False', reason: 'Down' },
      { type: 'PodScheduled', status: 'True' },
    ]);
  });

  it('Service ports merge by port', () => {
    const svc = 'spec: {ports: [{name: http, port: 80, targetPort: 8080}, {name: https, port: 443}]}';
    const out = apply('Service', svc, 'spec: {ports: [{port: 80, targetPort: 9090}]}');
    expect((out.spec as JsonMap).ports).toEqual([
      { name: 'http', port: 80, targetPort: 9090 },
      { name: 'https', port: 443 },
    ]);
  });

  it('labels merge, a null label is removed', () => {
    const out = apply('ConfigMap', 'metadata: {name: c, labels: {a: "1", b: "2"}}\ndata: {k: v}', 'metadata: {labels: {b: null, c: "3"}}\ndata: {k2: v2}');
    expect(out).toEqual({ metadata: { name: 'c', labels: { a: '1', c: '3' } }, data: { k: 'v', k2: 'v2' } });
  });
});

describe('kubectl apply three-way patches on real kinds', () => {
  const DEPLOY = (image: string, extra = '') => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web${extra}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "${image}"}]`;

  it('changing one image and adding a label gives the patch kubectl sends', () => {
    const original = y(DEPLOY('nginx:1.27'));
    const modified = y(DEPLOY('nginx:1.28', ', labels: {tier: fe}'));
    // The live object: defaulted by the server, scaled by someone else, with a status.
    const current = y(DEPLOY('nginx:1.27'));
    const spec = current.spec as JsonMap;
    spec.replicas = 3;
    spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
    (((spec.template as JsonMap).spec as JsonMap).containers as JsonMap[])[0]!.imagePullPolicy = 'IfNotPresent';
    current.status = { replicas: 3 };
    const patch = createThreeWayMergePatch(original, modified, current, kindRef('Deployment'));
    expect(patch).toEqual({
      metadata: { labels: { tier: 'fe' } },
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }], containers: [{ name: 'web', image: 'nginx:1.28' }] } } },
    });
    const result = applyStrategicMergePatch(current, patch, kindRef('Deployment'));
    const c = ((((result.spec as JsonMap).template as JsonMap).spec as JsonMap).containers as JsonMap[])[0]!;
    expect(c).toEqual({ name: 'web', image: 'nginx:1.28', imagePullPolicy: 'IfNotPresent' });
    expect((result.spec as JsonMap).replicas).toBe(3);
  });

  it('re-applying an unchanged manifest gives an empty patch', () => {
    const m = y(DEPLOY('nginx:1.27'));
    const current = { ...y(DEPLOY('nginx:1.27')), status: { replicas: 1 } };
    expect(createThreeWayMergePatch(m, m, current, kindRef('Deployment'))).toEqual({});
  });

  it('switching a Deployment to Recreate clears the defaulted rollingUpdate ($retainKeys)', () => {
    const original = y(DEPLOY('nginx:1.27'));
    const modified = y(DEPLOY('nginx:1.27'));
    (modified.spec as JsonMap).strategy = { type: 'Recreate' };
    const current = y(DEPLOY('nginx:1.27'));
    (current.spec as JsonMap).strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
    const patch = createThreeWayMergePatch(original, modified, current, kindRef('Deployment'));
    expect(patch).toEqual({ spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } });
    expect((applyStrategicMergePatch(current, patch, kindRef('Deployment')).spec as JsonMap).strategy).toEqual({ type: 'Recreate' });
  });

  it('replacing a volume source keeps only the new one ($retainKeys on volumes)', () => {
    const pod = (source: string) => `spec: {containers: [{name: a, image: b}], volumes: [{name: data, ${source}}]}`;
    const original = y(pod('emptyDir: {}'));
    const modified = y(pod('hostPath: {path: /x}'));
    const patch = createThreeWayMergePatch(original, modified, original, kindRef('Pod'));
    expect(patch).toEqual({
      spec: {
        '$setElementOrder/volumes': [{ name: 'data' }],
        volumes: [{ $retainKeys: ['hostPath', 'name'], name: 'data', hostPath: { path: '/x' }, emptyDir: null }],
      },
    });
    expect((applyStrategicMergePatch(original, patch, kindRef('Pod')).spec as JsonMap).volumes).toEqual([{ name: 'data', hostPath: { path: '/x' } }]);
  });

  it('a container dropped from the manifest is deleted; one added by someone else stays', () => {
    const pod = (names: string[]) => y(`spec: {containers: [${names.map((n) => `{name: ${n}, image: i}`).join(', ')}]}`);
    const patch = createThreeWayMergePatch(pod(['a', 'b']), pod(['a']), pod(['a', 'b', 'injected']), kindRef('Pod'));
    expect(patch).toEqual({ spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ name: 'b', $patch: 'delete' }] } });
    expect(applyStrategicMergePatch(pod(['a', 'b', 'injected']), patch, kindRef('Pod'))).toEqual(pod(['a', 'injected']));
  });
});
