// knet's dynamic provisioner decides from the claim and its class alone: a volume pre-bound to a
// claim the PV controller marked for it, shaped as the claim asks, never for another provisioner.
import { describe, expect, it } from 'vitest';
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { volumeForClaim, ANN_PROVISIONED_BY } from '../../../dataplane/controllers/local-path-provisioner.js';
import { ANN_STORAGE_PROVISIONER } from '../../../dataplane/controllers/pv-sync.js';
import { LOCAL_PATH_PROVISIONER } from '../../../dataplane/base/model/well-known.js';

const standard: StorageClass = { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'standard' }, provisioner: LOCAL_PATH_PROVISIONER, reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer' };
const claim = (extra: Partial<PersistentVolumeClaim> = {}, provisioner = LOCAL_PATH_PROVISIONER): PersistentVolumeClaim => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name: 'data', namespace: 'shop', uid: 'u-1', resourceVersion: '7', annotations: { [ANN_STORAGE_PROVISIONER]: provisioner } },
  spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '3Gi' } }, storageClassName: 'standard' },
  status: { phase: 'Pending' },
  ...extra,
});

describe('local-path provisioner', () => {
  it('makes a volume pre-bound to the claim, sized and shaped as it asks, with the class reclaim policy', () => {
    expect(volumeForClaim(claim(), standard)).toMatchObject({
      metadata: { name: 'pvc-u-1', annotations: { [ANN_PROVISIONED_BY]: LOCAL_PATH_PROVISIONER } },
      spec: {
        capacity: { storage: '3Gi' },
        accessModes: ['ReadWriteMany'],
        persistentVolumeReclaimPolicy: 'Delete',
        storageClassName: 'standard',
        volumeMode: 'Filesystem',
        claimRef: { kind: 'PersistentVolumeClaim', namespace: 'shop', name: 'data', uid: 'u-1' },
      },
      status: { phase: 'Pending' },
    });
    expect(volumeForClaim(claim(), { ...standard, reclaimPolicy: 'Retain' })?.spec?.persistentVolumeReclaimPolicy).toBe('Retain');
  });

  it('leaves claims that are not its own, not marked yet, bound, or going', () => {
    expect(volumeForClaim(claim({}, 'example.com/csi'), standard)).toBeUndefined();
    expect(volumeForClaim(claim(), { ...standard, provisioner: 'example.com/csi' })).toBeUndefined();
    expect(volumeForClaim(claim(), undefined)).toBeUndefined();
    expect(volumeForClaim({ ...claim(), metadata: { ...claim().metadata, annotations: {} } }, standard)).toBeUndefined();
    expect(volumeForClaim(claim({ spec: { ...claim().spec, volumeName: 'pv-1' } }), standard)).toBeUndefined();
    expect(volumeForClaim(claim({ status: { phase: 'Bound' } }), standard)).toBeUndefined();
    expect(volumeForClaim({ ...claim(), metadata: { ...claim().metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }, standard)).toBeUndefined();
  });
});
