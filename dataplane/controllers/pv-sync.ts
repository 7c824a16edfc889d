/**
 * The PV controller's decisions (pkg/controller/volume/persistentvolume/pv_controller.go
 * syncClaim and syncVolume), pure: what to do with one claim or one volume, given the caches.
 * The shell (persistentvolume.ts) writes what is decided.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { claimClass, findBestMatchForClaim, isVolumeBoundToClaim, volumeSatisfyClaimProblem } from './pv-match.js';

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';

export interface ClaimEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export type ClaimDecision =
  /** Bind (or finish binding) the claim to this volume. */
  | { bind: PersistentVolume }
  /** Stays Pending; `provisioner`: the annotations naming who should provision it. */
  | { pending: true; event?: ClaimEvent; provisioner?: string }
  /** A bound claim whose volume went: Lost. */
  | { lost: true; event: ClaimEvent };

export interface ClaimWorld {
  volume(name: string): PersistentVolume | undefined;
  volumes(): Iterable<PersistentVolume>;
  storageClass(name: string): StorageClass | undefined;
  /** Whether a pod uses the claim (a first consumer for WaitForFirstConsumer). */
  hasConsumer(claim: PersistentVolumeClaim): boolean;
}

/** IsDelayBindingMode: the claim's class exists and binds on first consumer. */
export function isDelayBinding(claim: PersistentVolumeClaim, world: Pick<ClaimWorld, 'storageClass'>): boolean {
  const name = claimClass(claim);
  return !!name && world.storageClass(name)?.volumeBindingMode === 'WaitForFirstConsumer';
}

/** syncClaim. */
export function syncClaim(claim: PersistentVolumeClaim, world: ClaimWorld): ClaimDecision {
  if (claim.metadata?.annotations?.[ANN_BIND_COMPLETED] !== undefined) return syncBoundClaim(claim, world);
  const volumeName = claim.spec?.volumeName;
  if (volumeName) return syncPreBoundClaim(claim, volumeName, world);
  // knet has no scheduler-side volume binder: a delayed claim binds here once a pod uses it.
  const delay = isDelayBinding(claim, world) && !world.hasConsumer(claim);
  const volume = findBestMatchForClaim(claim, world.volumes(), delay);
  if (volume) return { bind: volume };
  if (delay) return { pending: true, event: { type: 'Normal', reason: 'WaitForFirstConsumer', message: 'waiting for first consumer to be created before binding' } };
  const className = claimClass(claim);
  if (!className) return { pending: true, event: { type: 'Normal', reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set' } };
  const cls = world.storageClass(className);
  if (!cls) return { pending: true, event: { type: 'Warning', reason: 'ProvisioningFailed', message: `storageclass.storage.k8s.io "${className}" not found` } };
  // knet has no provisioner of its own: every class's provisioner is an external one that is not running.
  const message =
    `Waiting for a volume to be created either by the external provisioner '${cls.provisioner}' or manually by the system administrator. ` +
    'If volume creation is delayed, please verify that the provisioner is running and correctly registered.';
  return { pending: true, provisioner: cls.provisioner, event: { type: 'Normal', reason: 'ExternalProvisioning', message } };
}

/** The user named the volume (spec.volumeName) before binding. */
function syncPreBoundClaim(claim: PersistentVolumeClaim, volumeName: string, world: ClaimWorld): ClaimDecision {
  const volume = world.volume(volumeName);
  if (!volume) return { pending: true };
  if (!volume.spec?.claimRef) {
    const problem = volumeSatisfyClaimProblem(volume, claim);
    if (problem) return { pending: true, event: { type: 'Warning', reason: 'VolumeMismatch', message: `Cannot bind to requested volume "${volumeName}": ${problem}` } };
    return { bind: volume };
  }
  if (isVolumeBoundToClaim(volume, claim)) return { bind: volume };
  return { pending: true };
}

/** syncBoundClaim: keep the binding whole, or report it lost. */
function syncBoundClaim(claim: PersistentVolumeClaim, world: ClaimWorld): ClaimDecision {
  const volumeName = claim.spec?.volumeName;
  if (!volumeName) return { lost: true, event: { type: 'Warning', reason: 'ClaimLost', message: 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!' } };
  const volume = world.volume(volumeName);
  if (!volume) return { lost: true, event: { type: 'Warning', reason: 'ClaimLost', message: 'Bound claim has lost its PersistentVolume. Data on the volume is lost!' } };
  if (!volume.spec?.claimRef || isVolumeBoundToClaim(volume, claim)) return { bind: volume };
  return { lost: true, event: { type: 'Warning', reason: 'ClaimMisbound', message: 'Two claims are bound to the same volume, this one is bound incorrectly' } };
}

export type VolumeDecision =
  | { phase: 'Available' | 'Bound' | 'Released' }
  /** The claim is gone and the policy is Delete: Released, then removed. */
  | { remove: true }
  /** The controller bound it to a claim that took another volume: free it again. */
  | { unbind: true }
  /** Nothing to do here (the claim's sync finishes the binding). */
  | { none: true };

/** syncVolume. `claim`: the claim its claimRef names (by namespace/name), if cached. */
export function syncVolume(volume: PersistentVolume, claim: PersistentVolumeClaim | undefined): VolumeDecision {
  const ref = volume.spec?.claimRef;
  if (!ref || !ref.uid) return { phase: 'Available' };
  const theClaim = claim && claim.metadata?.uid === ref.uid ? claim : undefined;
  if (!theClaim) {
    if (volume.spec?.persistentVolumeReclaimPolicy === 'Delete') return { remove: true };
    // Retain (and the deprecated Recycle, which knet does not scrub): Released, kept for its data.
    return volume.status?.phase === 'Failed' ? { none: true } : { phase: 'Released' };
  }
  const bound = theClaim.spec?.volumeName;
  if (!bound) return { none: true };
  if (bound === volume.metadata?.name) return { phase: 'Bound' };
  if (volume.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER] !== undefined) return { unbind: true };
  return { none: true };
}
