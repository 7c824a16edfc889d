/**
 * PersistentVolumes and claims bound by knet's PV controller, driven with the real kubectl:
 * a claim binds to the matching volume (kubectl's VOLUME/CAPACITY/ACCESS MODES and CLAIM
 * columns), a claim with no match stays Pending with upstream's event, a class-less claim gets
 * the default StorageClass, a pod using a missing or unbound claim stays Pending with the
 * scheduler's message, deleting a claim releases its volume, and the cluster's own default class
 * `standard` provisions a volume for a claim once a pod uses it. A bound claim's volume is its
 * PersistentVolume's directory in the cluster's state dir (never the hostPath): what one busybox
 * pod wrote, the next pod reads with `kubectl exec`; a Delete volume's directory goes with it, a
 * Retain volume's stays; a Deployment's new pod after a rollout sees its old pod's data; a pod
 * placed on a node with an unbound claim waits with FailedMount.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KnetCluster } from '../../dataplane/index.js';
import { kubectlCluster } from '../support/kubectl-cluster.js';

let cluster: KnetCluster;
const { ok, kubectl, file } = kubectlCluster({}, { started: (k) => ({ cluster } = k) });

const PV_AND_CLAIM = `
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-small}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/knet-never-written}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-big}
spec:
  capacity: {storage: 5Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/knet-never-written-big}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: x}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 500Mi}}
  storageClassName: ""
`;

const lines = async (...args: string[]) => (await ok('get', ...args)).trim().split('\n');

describe('PersistentVolume binding', () => {
  it('binds a claim to the smallest matching volume; kubectl get pvc and pv show it', async () => {
    await ok('apply', '-f', file('pv.yaml', PV_AND_CLAIM));
    await ok('wait', '--for=jsonpath={.status.phase}=Bound', 'pvc/x', '--timeout=30s');
    expect(await lines('pvc', 'x')).toEqual([
      expect.stringMatching(/^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE$/),
      expect.stringMatching(/^x\s+Bound\s+pv-small\s+1Gi\s+RWO\s+<unset>\s+\d+s$/),
    ]);
    await ok('wait', '--for=jsonpath={.status.phase}=Bound', 'pv/pv-small', '--timeout=30s');
    const pvs = await lines('pv');
    expect(pvs[0]).toMatch(/^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE$/);
    expect(pvs).toContainEqual(expect.stringMatching(/^pv-small\s+1Gi\s+RWO\s+Retain\s+Bound\s+default\/x\s+<unset>\s+\d+s$/));
    await ok('wait', '--for=jsonpath={.status.phase}=Available', 'pv/pv-big', '--timeout=30s');
    expect(await ok('get', 'pvc', 'x', '-o', 'jsonpath={.metadata.annotations}')).toMatch(/"pv.kubernetes.io\/bind-completed":"yes".*"pv.kubernetes.io\/bound-by-controller":"yes"/);
    expect(await ok('get', 'pv', 'pv-small', '-o', 'jsonpath={.spec.claimRef.name}/{.metadata.annotations.pv\\.kubernetes\\.io/bound-by-controller}')).toBe('x/yes');
  });

  it('a claim with no match stays Pending with FailedBinding; a pod using it waits with the scheduler message', async () => {
    const claim = `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: huge}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Ti}}\n  storageClassName: ""\n`;
    await ok('apply', '-f', file('huge.yaml', claim));
    await ok('wait', '--for=jsonpath={.reason}=FailedBinding', 'event', '--field-selector=involvedObject.name=huge', '--timeout=30s');
    expect(await ok('get', 'events', '--field-selector=involvedObject.name=huge', '-o', 'jsonpath={.items[0].message}')).toBe('no persistent volumes available for this claim and no storage class is set');
    expect(await ok('get', 'pvc', 'huge', '-o', 'jsonpath={.status.phase}')).toBe('Pending');

    const pods = ['huge', 'missing']
      .map((c) => `apiVersion: v1\nkind: Pod\nmetadata: {name: uses-${c}}\nspec:\n  containers: [{name: c, image: busybox, command: [sleep, infinity]}]\n  volumes: [{name: d, persistentVolumeClaim: {claimName: ${c}}}]\n`)
      .join('---\n');
    await ok('apply', '-f', file('pods.yaml', pods));
    await ok('wait', '--for=condition=PodScheduled=False', 'pod/uses-huge', 'pod/uses-missing', '--timeout=30s');
    expect(await ok('get', 'pod', 'uses-huge', '-o', 'jsonpath={.status.conditions[0].message}')).toMatch(/^0\/\d+ nodes are available: pod has unbound immediate PersistentVolumeClaims\. preemption: 0\/\d+ nodes are available: \d+ Preemption is not helpful for scheduling\.\.$/);
    expect(await ok('get', 'pod', 'uses-missing', '-o', 'jsonpath={.status.conditions[0].message}')).toMatch(/^0\/\d+ nodes are available: persistentvolumeclaim "missing" not found\. preemption: 0\/\d+ nodes are available: \d+ Preemption is not helpful for scheduling\.\.$/);
    await ok('delete', 'pod', 'uses-huge', 'uses-missing', '--wait=false');
  });

  it('a claim without a class gets the default one; with a provisioner knet lacks it waits with ExternalProvisioning', async () => {
    const docs = `apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: std\n  annotations: {storageclass.kubernetes.io/is-default-class: "true"}\nprovisioner: example.com/csi\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: dyn}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n`;
    await ok('apply', '-f', file('dyn.yaml', docs));
    expect(await ok('get', 'pvc', 'dyn', '-o', 'jsonpath={.spec.storageClassName}')).toBe('std');
    await ok('wait', '--for=jsonpath={.reason}=ExternalProvisioning', 'event', '--field-selector=involvedObject.name=dyn', '--timeout=30s');
    expect(await ok('get', 'pvc', 'dyn', '-o', 'jsonpath={.status.phase}/{.metadata.annotations.volume\\.kubernetes\\.io/storage-provisioner}')).toBe('Pending/example.com/csi');
    await ok('delete', 'sc', 'std');
  });

  it('deleting the claim releases its volume (Retain)', async () => {
    await ok('delete', 'pvc', 'x');
    await ok('wait', '--for=jsonpath={.status.phase}=Released', 'pv/pv-small', '--timeout=30s');
    expect(await lines('pv', 'pv-small')).toEqual([expect.stringMatching(/^NAME/), expect.stringMatching(/^pv-small\s+1Gi\s+RWO\s+Retain\s+Released\s+default\/x\s+<unset>\s+\d+s$/)]);
  });

  it('a claim without a class gets a volume of its own from the default class standard once a pod uses it, as on kind', async () => {
    const claim = `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 2Gi}}\n`;
    await ok('apply', '-f', file('data.yaml', claim));
    expect(await ok('get', 'pvc', 'data', '-o', 'jsonpath={.spec.storageClassName}')).toBe('standard');
    await ok('wait', '--for=jsonpath={.reason}=WaitForFirstConsumer', 'event', '--field-selector=involvedObject.name=data', '--timeout=30s');
    expect(await ok('get', 'pvc', 'data', '-o', 'jsonpath={.status.phase}')).toBe('Pending');
    const pod = `apiVersion: v1\nkind: Pod\nmetadata: {name: uses-data}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers: [{name: c, image: busybox, command: [sleep, infinity], volumeMounts: [{name: d, mountPath: /data}]}]\n  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]\n`;
    await ok('apply', '-f', file('uses-data.yaml', pod));
    await ok('wait', '--for=jsonpath={.status.phase}=Bound', 'pvc/data', '--timeout=30s');
    const uid = await ok('get', 'pvc', 'data', '-o', 'jsonpath={.metadata.uid}');
    expect(await ok('get', 'pvc', 'data', '-o', 'jsonpath={.spec.volumeName}')).toBe(`pvc-${uid}`);
    expect(await lines('pv', `pvc-${uid}`)).toEqual([
      expect.stringMatching(/^NAME/),
      expect.stringMatching(new RegExp(`^pvc-${uid}\\s+2Gi\\s+RWO\\s+Delete\\s+Bound\\s+default/data\\s+standard\\s+<unset>\\s+\\d+s$`)),
    ]);
    expect(await ok('get', 'pv', `pvc-${uid}`, '-o', 'jsonpath={.metadata.annotations.pv\\.kubernetes\\.io/provisioned-by}')).toBe('knet.dev/local-path');
    await ok('wait', '--for=condition=Ready', 'pod/uses-data', '--timeout=60s');
    // Its storage: a directory in the cluster's state dir (not the hostPath the volume shows).
    const dir = path.join(cluster.stateDir, 'volumes', `pvc-${uid}`);
    await until('the provisioned volume\'s directory', () => existsSync(dir));
    // Reclaim policy Delete: the volume goes with its claim, and its directory.
    await ok('delete', 'pod', 'uses-data');
    await ok('delete', 'pvc', 'data');
    await ok('wait', '--for=delete', `pv/pvc-${uid}`, '--timeout=30s');
    await until('the deleted volume\'s directory to go', () => !existsSync(dir));
  });
});

const DATA = `
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-data}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  hostPath: {path: /tmp/knet-never-written-data}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: kept}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
  storageClassName: ""
  volumeName: pv-data
`;

const podUsingData = (name: string, script: string, claimName = 'kept', nodeName?: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 0\n${nodeName ? `  nodeName: ${nodeName}\n` : ''}  containers: [{name: c, image: busybox, command: [sh, -c, '${script}'], volumeMounts: [{name: d, mountPath: /data}]}]\n  volumes: [{name: d, persistentVolumeClaim: {claimName: ${claimName}}}]\n`;

/** Resolves once `check` holds (the node agent and the controller write the disk after the API says so); `poll` runs before each check. */
async function until(what: string, check: () => boolean, timeoutMs = 30_000, poll?: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await poll?.();
    if (check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * `kubectl exec ARGS` until it prints `want` (the last output otherwise): a container is Ready
 * once started, its script's write may come a moment later, as on a cluster.
 */
async function execPrints(want: string, ...args: string[]): Promise<string> {
  let last = '';
  await until(`kubectl exec ${args.join(' ')} to print ${JSON.stringify(want)}`, () => last === want, 30_000, async () => {
    const r = await kubectl(['exec', ...args]);
    last = r.code === 0 ? r.stdout : `(exit ${r.code}) ${r.stderr}`;
  }).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; it printed ${JSON.stringify(last)}`);
  });
  return last;
}

describe('a claim\'s volume is its PersistentVolume\'s directory', () => {
  const pvDir = () => path.join(cluster.stateDir, 'volumes', 'pv-data');

  it('what one pod wrote, the next pod mounting the claim reads (kubectl exec)', async () => {
    await ok('apply', '-f', file('kept.yaml', DATA));
    await ok('wait', '--for=jsonpath={.status.phase}=Bound', 'pvc/kept', '--timeout=30s');
    await ok('apply', '-f', file('writer.yaml', podUsingData('writer', 'echo hi > /data/f && sleep infinity')));
    await ok('wait', '--for=condition=Ready', 'pod/writer', '--timeout=60s');
    await execPrints('hi\n', 'writer', '--', 'cat', '/data/f');
    expect(readFileSync(path.join(pvDir(), 'f'), 'utf8')).toBe('hi\n');
    // Never the volume's hostPath on the machine.
    expect(existsSync('/tmp/knet-never-written-data')).toBe(false);
    await ok('delete', 'pod', 'writer', '--wait=true');

    await ok('apply', '-f', file('reader.yaml', podUsingData('reader', 'sleep infinity')));
    await ok('wait', '--for=condition=Ready', 'pod/reader', '--timeout=60s');
    expect(await ok('exec', 'reader', '--', 'cat', '/data/f')).toBe('hi\n');
    await ok('delete', 'pod', 'reader', '--wait=true');
  });

  it('deleting the claim of a Delete volume deletes the volume and its directory', async () => {
    expect(existsSync(pvDir())).toBe(true);
    await ok('delete', 'pvc', 'kept');
    await ok('wait', '--for=delete', 'pv/pv-data', '--timeout=30s');
    await until('the volume\'s directory to go', () => !existsSync(pvDir()));
  });

  it('a pod placed on a node with an unbound claim waits with FailedMount, starts once bound; Retain keeps the data', async () => {
    const node = await ok('get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}');
    // Pre-bound to a volume that does not exist yet: Pending until it does.
    const claim = `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: later}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n  storageClassName: ""\n  volumeName: pv-later\n`;
    await ok('apply', '-f', file('later.yaml', claim));
    // spec.nodeName: past the scheduler, which would hold it Pending.
    await ok('apply', '-f', file('late.yaml', podUsingData('late', 'echo later > /data/f && sleep infinity', 'later', node)));
    await ok('wait', '--for=jsonpath={.reason}=FailedMount', 'event', '--field-selector=involvedObject.name=late', '--timeout=30s');
    expect(await ok('get', 'events', '--field-selector=involvedObject.name=late,reason=FailedMount', '-o', 'jsonpath={.items[0].message}')).toMatch(/error processing PVC default\/later: PVC is not bound$/);
    expect(await ok('get', 'pod', 'late', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.reason}')).toBe('ContainerCreating');

    const pv = `apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv-later}\nspec:\n  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n  hostPath: {path: /tmp/knet-never-written-later}\n`;
    await ok('apply', '-f', file('pv-later.yaml', pv));
    await ok('wait', '--for=condition=Ready', 'pod/late', '--timeout=60s');
    const dir = path.join(cluster.stateDir, 'volumes', 'pv-later');
    await until('the file in the volume', () => existsSync(path.join(dir, 'f')) && readFileSync(path.join(dir, 'f'), 'utf8') === 'later\n');

    await ok('delete', 'pod', 'late', '--wait=true');
    await ok('delete', 'pvc', 'later');
    await ok('wait', '--for=jsonpath={.status.phase}=Released', 'pv/pv-later', '--timeout=30s');
    expect(readFileSync(path.join(dir, 'f'), 'utf8')).toBe('later\n');
  });

  it('a Deployment rollout keeps the data: the new pod sees what the old one wrote', async () => {
    const docs = `apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-app}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/knet-never-written-app}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: app}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
  storageClassName: ""
  volumeName: pv-app
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  replicas: 1
  strategy: {type: Recreate}
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{name: c, image: busybox, command: [sh, -c, 'echo start >> /data/log && sleep infinity'], volumeMounts: [{name: d, mountPath: /data}]}]
      volumes: [{name: d, persistentVolumeClaim: {claimName: app}}]
`;
    await ok('apply', '-f', file('app.yaml', docs));
    await ok('rollout', 'status', 'deployment/app', '--timeout=60s');
    await execPrints('start\n', 'deploy/app', '--', 'cat', '/data/log');
    await ok('rollout', 'restart', 'deployment/app');
    await ok('rollout', 'status', 'deployment/app', '--timeout=60s');
    // The new pod's line after the old one's: a fresh directory would hold one line only.
    await execPrints('start\nstart\n', 'deploy/app', '--', 'cat', '/data/log');
    await ok('delete', 'deployment', 'app', '--wait=true');
  });
});
