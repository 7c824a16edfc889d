/**
 * knet's own dynamic provisioner, as the local-path provisioner kind ships (and minikube's
 * hostpath one): every cluster starts with the default StorageClass `standard`
 * (cluster/bootstrap.ts) naming `knet.dev/local-path`, so a claim without a class gets a volume
 * of its own, as on those clusters, instead of waiting for an administrator.
 *
 * It works as an external provisioner does (sig-storage-lib-external-provisioner): the PV
 * controller marks a claim it cannot match with `volume.kubernetes.io/storage-provisioner` (for
 * a WaitForFirstConsumer class, once a pod uses the claim); for a claim marked with this
 * provisioner the controller here creates a PersistentVolume `pvc-<claim uid>` pre-bound to it
 * (`claimRef`), sized and shaped as the claim asks, with the class's reclaim policy; the PV
 * controller then binds the two. The volume's storage is a directory in the cluster's state dir
 * (the node agent's business): the `hostPath` it shows is a name, never written on the machine.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { Controller, ControllerContext } from './controller-context.js';
import { WorkQueue } from '../base/work-queue.js';
import { StoreError } from '../base/store/errors.js';
import { ANN_STORAGE_PROVISIONER } from './pv-sync.js';
import { LOCAL_PATH_PROVISIONER } from '../base/model/well-known.js';

/** Who made a volume (upstream's annotation, read by `kubectl describe pv`). */
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';

/** The volume to create for `claim`, or undefined when it is not this provisioner's to serve. */
export function volumeForClaim(claim: PersistentVolumeClaim, cls: StorageClass | undefined): PersistentVolume | undefined {
  const meta = claim.metadata ?? {};
  if (meta.annotations?.[ANN_STORAGE_PROVISIONER] !== LOCAL_PATH_PROVISIONER || cls?.provisioner !== LOCAL_PATH_PROVISIONER) return undefined;
  if (claim.spec?.volumeName || claim.status?.phase === 'Bound' || meta.deletionTimestamp || !meta.uid) return undefined;
  const name = `pvc-${meta.uid}`;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, annotations: { [ANN_PROVISIONED_BY]: LOCAL_PATH_PROVISIONER } },
    spec: {
      capacity: { storage: claim.spec?.resources?.requests?.storage ?? '1Gi' },
      accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: (cls.reclaimPolicy as 'Delete' | 'Retain' | undefined) ?? 'Delete',
      storageClassName: cls.metadata?.name,
      volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: meta.namespace ?? 'default', name: meta.name, uid: meta.uid, resourceVersion: meta.resourceVersion },
      hostPath: { path: `/var/local-path-provisioner/${name}_${meta.namespace ?? 'default'}_${meta.name}`, type: 'DirectoryOrCreate' },
    },
    status: { phase: 'Pending' },
  };
}

export function startLocalPathProvisioner(ctx: ControllerContext): Controller {
  const log = ctx.log.child('local-path-provisioner');
  const events = ctx.recorder(LOCAL_PATH_PROVISIONER);
  const claims = ctx.informers.informer<PersistentVolumeClaim>('PersistentVolumeClaim');
  const classes = ctx.informers.informer<StorageClass>('StorageClass');
  const volumes = ctx.informers.informer<PersistentVolume>('PersistentVolume');
  const queue = new WorkQueue('local-path-provisioner', reconcile, { log, concurrency: 2 });
  const key = (c: PersistentVolumeClaim) => `${c.metadata?.namespace}/${c.metadata?.name}`;
  const unsubscribe = [claims.on({ add: (c) => queue.add(key(c)), update: (_o, c) => queue.add(key(c)) })];

  async function reconcile(k: string) {
    const [ns, name] = k.split('/') as [string, string];
    const expectKey = `provision/${k}`;
    // A volume created a moment ago may not be cached yet: the claim's own updates meanwhile
    // (the PV controller's annotations and status) would provision, and announce it, twice.
    if (!ctx.writes.expectations.satisfied(expectKey)) return { requeueAfterMs: ctx.writes.expectations.remainingMs(expectKey) + 10 };
    const claim = claims.get(ns, name);
    if (!claim) return ctx.writes.expectations.forget(expectKey);
    const volume = volumeForClaim(claim, classes.get(undefined, claim.spec?.storageClassName ?? ''));
    if (!volume || volumes.get(undefined, volume.metadata!.name!)) return;
    events.record(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${k}"`);
    try {
      await ctx.writes.create(expectKey, volume);
    } catch (err) {
      if (err instanceof StoreError && err.reason === 'AlreadyExists') return;
      events.record(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${claim.spec?.storageClassName}": ${(err as Error).message}`);
      throw err;
    }
    events.record(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${volume.metadata!.name}`);
    log.info('provisioned a volume', { claim: k, volume: volume.metadata!.name });
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      await queue.close();
    },
  };
}
