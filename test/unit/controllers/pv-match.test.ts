/**
 * The PV controller's matching and decisions, with cases after upstream's index_test.go
 * (TestMatchVolume, TestFindingVolumeWithDifferentAccessModes, TestFindingPreboundVolumes,
 * TestVolumeModeCheck) and pv_controller's syncClaim/syncVolume outcomes.
 */
import { describe, expect, it } from 'vitest';
import type { ObjectReference, PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { findBestMatchForClaim } from '../../../dataplane/controllers/pv-match.js';
import { syncClaim, syncVolume, type ClaimWorld } from '../../../dataplane/controllers/pv-sync.js';
import { podClaimsProblem } from '../../../dataplane/controllers/pod-claims.js';
import { admitDefaultStorageClass } from '../../../dataplane/base/admission/default-storage-class.js';

type PVOpts = { modes?: string[]; cls?: string; labels?: Record<string, string>; phase?: string; claimRef?: ObjectReference; mode?: string; deleting?: boolean; reclaim?: string };
function pv(name: string, size: string, o: PVOpts = {}): PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, uid: `pv-${name}`, labels: o.labels, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { capacity: { storage: size }, accessModes: o.modes ?? ['ReadWriteOnce'], storageClassName: o.cls, claimRef: o.claimRef, volumeMode: o.mode, persistentVolumeReclaimPolicy: o.reclaim ?? 'Retain', hostPath: { path: `/tmp/${name}` } },
    status: { phase: o.phase ?? 'Available' },
  };
}
function pvc(name: string, size: string, o: { modes?: string[]; cls?: string; selector?: Record<string, string>; mode?: string; volumeName?: string; annotations?: Record<string, string> } = {}): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default', uid: `claim-${name}`, annotations: o.annotations },
    spec: { accessModes: o.modes ?? ['ReadWriteOnce'], resources: { requests: { storage: size } }, storageClassName: o.cls, selector: o.selector && { matchLabels: o.selector }, volumeMode: o.mode, volumeName: o.volumeName },
    status: { phase: 'Pending' },
  };
}
const name = (v: PersistentVolume | undefined) => v?.metadata?.name;

// index_test.go's createTestVolumes, reduced: GCE-like (RWO+ROX), AWS-like (RWO), NFS-like (RWO+ROX+RWX).
const VOLUMES = [
  pv('gce-1g', '1G', { modes: ['ReadWriteOnce', 'ReadOnlyMany'] }),
  pv('gce-5g', '5G', { modes: ['ReadWriteOnce', 'ReadOnlyMany'] }),
  pv('gce-10g', '10G', { modes: ['ReadWriteOnce', 'ReadOnlyMany'] }),
  pv('aws-8g', '8G', { modes: ['ReadWriteOnce'] }),
  pv('nfs-5g', '5G', { modes: ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany'] }),
  pv('nfs-1t', '1T', { modes: ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany'] }),
  pv('gold-1g', '1G', { modes: ['ReadWriteOnce'], cls: 'gold', labels: { tier: 'gold' } }),
  pv('silver-1g', '1G', { modes: ['ReadWriteOnce'], cls: 'silver', labels: { tier: 'silver' } }),
];

describe('findBestMatchForClaim', () => {
  it.each([
    ['the fewest access modes first, whatever the size: RWO → aws-8g', pvc('c', '1G'), 'aws-8g'],
    ['RWO+ROX: the smallest GCE volume', pvc('c', '1G', { modes: ['ReadWriteOnce', 'ReadOnlyMany'] }), 'gce-1g'],
    ['RWO+ROX, 3G: the next size up', pvc('c', '3G', { modes: ['ReadOnlyMany', 'ReadWriteOnce'] }), 'gce-5g'],
    ['RWX: only NFS has it; the smallest that fits', pvc('c', '4G', { modes: ['ReadWriteMany'] }), 'nfs-5g'],
    ['RWX, 100G: the 1T volume', pvc('c', '100G', { modes: ['ReadWriteMany'] }), 'nfs-1t'],
    ['too big for all: none', pvc('c', '2T', { modes: ['ReadWriteMany'] }), undefined],
    ['class gold: only gold', pvc('c', '1G', { cls: 'gold' }), 'gold-1g'],
    ['class unknown: none', pvc('c', '1G', { cls: 'bronze' }), undefined],
    ['selector tier=silver in class silver', pvc('c', '1G', { cls: 'silver', selector: { tier: 'silver' } }), 'silver-1g'],
    ['selector tier=silver in class gold: none', pvc('c', '1G', { cls: 'gold', selector: { tier: 'silver' } }), undefined],
    ['Block mode: no Filesystem volume matches', pvc('c', '1G', { mode: 'Block' }), undefined],
    ['ReadWriteOncePod: none offers it', pvc('c', '1G', { modes: ['ReadWriteOncePod'] }), undefined],
  ])('%s', (_what, claim, want) => {
    expect(name(findBestMatchForClaim(claim, VOLUMES))).toBe(want);
  });

  it('requests and capacities compare as quantities (1Gi > 1G)', () => {
    expect(name(findBestMatchForClaim(pvc('c', '1Gi'), [pv('a', '1G'), pv('b', '2Gi')]))).toBe('b');
    expect(name(findBestMatchForClaim(pvc('c', '1000Mi'), [pv('a', '1Gi')]))).toBe('a');
  });

  it('skips volumes not Available, being deleted, or claimed by another claim', () => {
    const other = { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'other', uid: 'x' };
    const vs = [pv('released', '1G', { phase: 'Released' }), pv('deleting', '1G', { deleting: true }), pv('taken', '1G', { claimRef: other }), pv('free', '9G')];
    expect(name(findBestMatchForClaim(pvc('c', '1G'), vs))).toBe('free');
  });

  it('a volume pre-bound to the claim wins over a smaller free one, even not yet Available, in another class', () => {
    const ref = { namespace: 'default', name: 'c' };
    const vs = [pv('small', '1G'), pv('mine', '5G', { claimRef: ref, phase: 'Pending', cls: 'other' })];
    expect(name(findBestMatchForClaim(pvc('c', '1G'), vs))).toBe('mine');
    // A claimRef with another claim's uid (a Released volume of an older claim of the same name) does not.
    expect(name(findBestMatchForClaim(pvc('c', '1G'), [pv('old', '5G', { claimRef: { ...ref, uid: 'older' }, phase: 'Released' })]))).toBeUndefined();
  });

  it('WaitForFirstConsumer (delayBinding): only a pre-bound volume', () => {
    expect(findBestMatchForClaim(pvc('c', '1G'), [pv('free', '1G')], true)).toBeUndefined();
    expect(name(findBestMatchForClaim(pvc('c', '1G'), [pv('pre', '1G', { claimRef: { namespace: 'default', name: 'c' } })], true))).toBe('pre');
  });
});

function world(volumes: PersistentVolume[], classes: StorageClass[] = [], consumer = false): ClaimWorld {
  return {
    volume: (n) => volumes.find((v) => v.metadata?.name === n),
    volumes: () => volumes,
    storageClass: (n) => classes.find((c) => c.metadata?.name === n),
    hasConsumer: () => consumer,
  };
}
const sc = (n: string, provisioner: string, mode?: string, isDefault = false): StorageClass => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: n, creationTimestamp: '2026-01-01T00:00:00Z', ...(isDefault ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}) },
  provisioner,
  volumeBindingMode: mode,
});

describe('syncClaim', () => {
  it('binds to the match', () => {
    expect(syncClaim(pvc('c', '1G'), world([pv('a', '1G')]))).toEqual({ bind: expect.objectContaining({ metadata: expect.objectContaining({ name: 'a' }) }) });
  });
  it('no match, no class: FailedBinding', () => {
    expect(syncClaim(pvc('c', '5G'), world([pv('a', '1G')]))).toEqual({
      pending: true,
      event: { type: 'Normal', reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set' },
    });
  });
  it('no match, a class whose provisioner knet lacks: ExternalProvisioning', () => {
    const d = syncClaim(pvc('c', '5G', { cls: 'fast' }), world([], [sc('fast', 'example.com/none')]));
    expect(d).toMatchObject({ pending: true, provisioner: 'example.com/none', event: { reason: 'ExternalProvisioning' } });
    expect('event' in d && d.event?.message).toBe(
      "Waiting for a volume to be created either by the external provisioner 'example.com/none' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
    );
  });
  it('a class that does not exist: ProvisioningFailed', () => {
    expect(syncClaim(pvc('c', '5G', { cls: 'nope' }), world([]))).toMatchObject({ event: { type: 'Warning', reason: 'ProvisioningFailed', message: 'storageclass.storage.k8s.io "nope" not found' } });
  });
  it('WaitForFirstConsumer: Pending with its event until a pod uses the claim', () => {
    const classes = [sc('local', 'kubernetes.io/no-provisioner', 'WaitForFirstConsumer')];
    const volumes = [pv('a', '1G', { cls: 'local' })];
    expect(syncClaim(pvc('c', '1G', { cls: 'local' }), world(volumes, classes))).toEqual({
      pending: true,
      event: { type: 'Normal', reason: 'WaitForFirstConsumer', message: 'waiting for first consumer to be created before binding' },
    });
    expect(syncClaim(pvc('c', '1G', { cls: 'local' }), world(volumes, classes, true))).toMatchObject({ bind: { metadata: { name: 'a' } } });
  });
  it('a claim naming a volume too small for it: VolumeMismatch', () => {
    expect(syncClaim(pvc('c', '5G', { volumeName: 'a' }), world([pv('a', '1G')]))).toMatchObject({ event: { reason: 'VolumeMismatch', message: 'Cannot bind to requested volume "a": requested PV is too small' } });
  });
  it('a bound claim whose volume is gone: Lost', () => {
    expect(syncClaim(pvc('c', '1G', { volumeName: 'a', annotations: { 'pv.kubernetes.io/bind-completed': 'yes' } }), world([]))).toMatchObject({ lost: true, event: { reason: 'ClaimLost' } });
  });
});

describe('syncVolume', () => {
  const ref = { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'c', uid: 'claim-c' };
  it('unclaimed or pre-bound without uid: Available', () => {
    expect(syncVolume(pv('a', '1G', { phase: 'Pending' }), undefined)).toEqual({ phase: 'Available' });
    expect(syncVolume(pv('a', '1G', { claimRef: { namespace: 'default', name: 'c' } }), undefined)).toEqual({ phase: 'Available' });
  });
  it('its claim bound to it: Bound', () => {
    expect(syncVolume(pv('a', '1G', { claimRef: ref }), pvc('c', '1G', { volumeName: 'a' }))).toEqual({ phase: 'Bound' });
  });
  it('its claim gone: Released (Retain) or removed (Delete); a new claim of the same name is not its claim', () => {
    expect(syncVolume(pv('a', '1G', { claimRef: ref, phase: 'Bound' }), undefined)).toEqual({ phase: 'Released' });
    expect(syncVolume(pv('a', '1G', { claimRef: ref, phase: 'Bound' }), { ...pvc('c', '1G'), metadata: { name: 'c', namespace: 'default', uid: 'new' } })).toEqual({ phase: 'Released' });
    expect(syncVolume(pv('a', '1G', { claimRef: ref, phase: 'Bound', reclaim: 'Delete' }), undefined)).toEqual({ remove: true });
  });
});

describe('DefaultStorageClass admission', () => {
  const classes = [sc('old', 'p', undefined, true), { ...sc('new', 'p', undefined, true), metadata: { ...sc('new', 'p', undefined, true).metadata, creationTimestamp: '2026-02-01T00:00:00Z' } }, sc('plain', 'p')];
  it('a claim without a class gets the newest default', () => {
    expect(admitDefaultStorageClass(pvc('c', '1G'), classes).spec?.storageClassName).toBe('new');
  });
  it('an explicit class, the empty class, or the beta annotation is left alone; no default: unchanged', () => {
    expect(admitDefaultStorageClass(pvc('c', '1G', { cls: 'plain' }), classes).spec?.storageClassName).toBe('plain');
    expect(admitDefaultStorageClass(pvc('c', '1G', { cls: '' }), classes).spec?.storageClassName).toBe('');
    expect(admitDefaultStorageClass(pvc('c', '1G', { annotations: { 'volume.beta.kubernetes.io/storage-class': 'x' } }), classes).spec?.storageClassName).toBeUndefined();
    expect(admitDefaultStorageClass(pvc('c', '1G'), [sc('plain', 'p')]).spec?.storageClassName).toBeUndefined();
  });
});

describe("the scheduler's claim check", () => {
  const pod = (claim: string) => ({ metadata: { name: 'p', namespace: 'default' }, spec: { containers: [], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: claim } }] } });
  const lookup = (claims: PersistentVolumeClaim[], classes: StorageClass[] = []) => ({
    claim: (_ns: string, n: string) => claims.find((c) => c.metadata?.name === n),
    storageClass: (n: string) => classes.find((c) => c.metadata?.name === n),
  });
  it('missing, unbound immediate, bound, WaitForFirstConsumer', () => {
    expect(podClaimsProblem(pod('x'), lookup([]))).toBe('persistentvolumeclaim "x" not found');
    expect(podClaimsProblem(pod('c'), lookup([pvc('c', '1G')]))).toBe('pod has unbound immediate PersistentVolumeClaims');
    expect(podClaimsProblem(pod('c'), lookup([pvc('c', '1G', { volumeName: 'a' })]))).toBeUndefined();
    expect(podClaimsProblem(pod('c'), lookup([pvc('c', '1G', { cls: 'l' })], [sc('l', 'p', 'WaitForFirstConsumer')]))).toBeUndefined();
  });
});
