/**
 * A StatefulSet's volumeClaimTemplates, driven with the real kubectl: each pod gets its own claim
 * `data-<set>-<ordinal>`, which the default class `standard` provisions and binds; a deleted pod
 * comes back with the same claim and so the same data (written and read with `kubectl exec`);
 * under Retain (the default) a set scaled down and up again finds its old claim, and under
 * whenScaled=Delete / whenDeleted=Delete the garbage collector deletes the claims with the
 * condemned pod and with the set.
 */
import { describe, expect, it } from 'vitest';
import type { KnetCluster } from '../../dataplane/index.js';
import { kubectlCluster } from '../support/kubectl-cluster.js';

let cluster!: KnetCluster;
const { ok, kubectl, file } = kubectlCluster({ components: { dns: false, ingress: false, proxy: false } }, { started: (r) => (cluster = r.cluster) });

const statefulSet = (name: string, extra = '') => `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: ${name}}
spec:
  serviceName: ${name}
  replicas: 2
  selector: {matchLabels: {app: ${name}}}
${extra}  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{name: c, image: busybox, command: [sleep, infinity], volumeMounts: [{name: data, mountPath: /data}]}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`;

const jsonpath = (what: string, path: string) => ok('get', what, '-o', `jsonpath=${path}`);

/**
 * Deletes the pod `name` and waits for its successor to be Ready. `kubectl delete` waits for
 * the old pod's uid to go (a wait by name could see the successor already and wait on it).
 */
async function recreate(name: string): Promise<void> {
  await ok('delete', 'pod', name, '--timeout=60s');
  await ok('wait', '--for=create', `pod/${name}`, '--timeout=60s');
  await ok('wait', '--for=condition=Ready', `pod/${name}`, '--timeout=60s');
}

describe('StatefulSet volumeClaimTemplates', () => {
  it('gives each pod its own claim, Bound through the default class', async () => {
    await ok('apply', '-f', file('web.yaml', statefulSet('web')));
    await ok('rollout', 'status', 'statefulset/web', '--timeout=120s');
    await ok('wait', '--for=jsonpath={.status.phase}=Bound', 'pvc/data-web-0', 'pvc/data-web-1', '--timeout=60s');
    const lines = (await ok('get', 'pvc')).trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE$/);
    for (const i of [0, 1]) {
      const uid = await jsonpath(`pvc/data-web-${i}`, '{.metadata.uid}');
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^data-web-${i}\\s+Bound\\s+pvc-${uid}\\s+1Gi\\s+RWO\\s+standard\\s+<unset>\\s+\\d+s$`)));
      expect(await jsonpath(`pod/web-${i}`, '{.spec.volumes[0].name}={.spec.volumes[0].persistentVolumeClaim.claimName}')).toBe(`data=data-web-${i}`);
    }
    // The set's selector labels; Retain/Retain: no owner, the claims outlive pods and set.
    expect(await jsonpath('pvc/data-web-0', '{.metadata.labels}')).toBe('{"app":"web"}');
    expect(await jsonpath('pvc/data-web-0', '{.metadata.ownerReferences}')).toBe('');
    // The event is written beside the claim, not before the rollout ends: waited for.
    const created = () => ok('get', 'events', '--field-selector=involvedObject.name=web,reason=SuccessfulCreate', '-o', 'jsonpath={.items[*].message}');
    await cluster.waitFor(async () => (await created()).includes('create Claim data-web-0 Pod web-0 in StatefulSet web success') || undefined, 'the SuccessfulCreate event of claim data-web-0');
  }, 180_000);

  it('a deleted pod comes back with the same claim and reads what it wrote', async () => {
    await ok('exec', 'web-0', '--', 'sh', '-c', 'echo hi > /data/f');
    expect(await ok('exec', 'web-0', '--', 'cat', '/data/f')).toBe('hi\n');
    // Each pod has storage of its own.
    expect((await kubectl(['exec', 'web-1', '--', 'cat', '/data/f'])).code).not.toBe(0);
    const [podUid, claimUid] = [await jsonpath('pod/web-0', '{.metadata.uid}'), await jsonpath('pvc/data-web-0', '{.metadata.uid}')];

    await recreate('web-0');
    expect(await jsonpath('pod/web-0', '{.metadata.uid}')).not.toBe(podUid);
    expect(await jsonpath('pvc/data-web-0', '{.metadata.uid}')).toBe(claimUid);
    expect(await ok('exec', 'web-0', '--', 'cat', '/data/f')).toBe('hi\n');
  }, 120_000);

  it('Retain: scaled down and up again, a pod finds its old claim and data', async () => {
    await ok('exec', 'web-1', '--', 'sh', '-c', 'echo one > /data/f');
    const claimUid = await jsonpath('pvc/data-web-1', '{.metadata.uid}');
    await ok('scale', 'statefulset/web', '--replicas=1');
    await ok('wait', '--for=delete', 'pod/web-1', '--timeout=60s');
    expect(await jsonpath('pvc/data-web-1', '{.status.phase}')).toBe('Bound');

    await ok('scale', 'statefulset/web', '--replicas=2');
    await ok('wait', '--for=create', 'pod/web-1', '--timeout=60s');
    await ok('wait', '--for=condition=Ready', 'pod/web-1', '--timeout=60s');
    expect(await jsonpath('pvc/data-web-1', '{.metadata.uid}')).toBe(claimUid);
    expect(await ok('exec', 'web-1', '--', 'cat', '/data/f')).toBe('one\n');
  }, 120_000);

  it('Retain: deleting the set leaves its claims', async () => {
    await ok('delete', 'statefulset', 'web', '--cascade=foreground');
    await ok('wait', '--for=delete', 'pod/web-0', 'pod/web-1', '--timeout=60s');
    expect(await ok('get', 'pvc', 'data-web-0', 'data-web-1', '-o', 'jsonpath={.items[*].status.phase}')).toBe('Bound Bound');
  }, 120_000);

  it('whenScaled=Delete: a condemned pod\'s claim goes with it; whenDeleted=Delete: the others go with the set', async () => {
    const policy = '  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenScaled: Delete}\n';
    await ok('apply', '-f', file('db.yaml', statefulSet('db', policy)));
    await ok('rollout', 'status', 'statefulset/db', '--timeout=120s');
    await ok('wait', '--for=jsonpath={.status.phase}=Bound', 'pvc/data-db-0', 'pvc/data-db-1', '--timeout=60s');
    const setUid = await jsonpath('statefulset/db', '{.metadata.uid}');
    expect(await jsonpath('pvc/data-db-0', '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].uid}/{.metadata.ownerReferences[0].controller}')).toBe(`StatefulSet/db/${setUid}/true`);
    const volume1 = await jsonpath('pvc/data-db-1', '{.spec.volumeName}');

    await ok('scale', 'statefulset/db', '--replicas=1');
    await ok('wait', '--for=delete', 'pod/db-1', 'pvc/data-db-1', '--timeout=60s');
    // The standard class's reclaim policy Delete: its volume goes too.
    await ok('wait', '--for=delete', `pv/${volume1}`, '--timeout=60s');
    expect(await jsonpath('pvc/data-db-0', '{.status.phase}')).toBe('Bound');

    await ok('delete', 'statefulset', 'db');
    await ok('wait', '--for=delete', 'pvc/data-db-0', '--timeout=60s');
    // The Retain set's claims are untouched.
    expect(await ok('get', 'pvc', '-o', 'name')).toBe('persistentvolumeclaim/data-web-0\npersistentvolumeclaim/data-web-1\n');
  }, 180_000);
});
