/**
 * Which PersistentVolume a claim binds to, as the PV controller's index finds it
 * (pkg/controller/volume/persistentvolume/index.go findByClaim, and component-helpers'
 * FindMatchingVolume):
 *
 * - volumes are grouped by their set of access modes; the groups holding every mode the claim
 *   asks for are tried fewest modes first (a ReadWriteOnce claim takes an RWO volume before an
 *   RWO+ROX one, whatever their sizes);
 * - within a group: a volume pre-bound to this claim (`claimRef` naming it, uid empty or its own)
 *   wins if it is large enough and of the same volumeMode; otherwise the smallest volume that is
 *   `Available`, not deleting, not claimed, at least the requested size, of the claim's class and
 *   volumeMode, and matched by the claim's selector;
 * - with `delayBinding` (WaitForFirstConsumer) only a pre-bound volume is taken: the scheduler
 *   binds the rest once a pod uses the claim.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../base/model/quantity.js';
import { matchesLabelSelector } from '../base/model/selector.js';
import { ANNOTATION_BETA_STORAGE_CLASS } from '../base/model/well-known.js';

/** GetPersistentVolumeClaimClass: the beta annotation, else spec.storageClassName, else "". */
export function claimClass(claim: PersistentVolumeClaim): string {
  const beta = claim.metadata?.annotations?.[ANNOTATION_BETA_STORAGE_CLASS];
  if (beta !== undefined) return beta;
  return claim.spec?.storageClassName ?? '';
}

/** GetPersistentVolumeClass: the beta annotation, else spec.storageClassName, else "". */
export function volumeClass(volume: PersistentVolume): string {
  const beta = volume.metadata?.annotations?.[ANNOTATION_BETA_STORAGE_CLASS];
  if (beta !== undefined) return beta;
  return volume.spec?.storageClassName ?? '';
}

/** IsVolumeBoundToClaim: the volume's claimRef names this claim (and its uid, once set). */
export function isVolumeBoundToClaim(volume: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = volume.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata?.name || ref.namespace !== claim.metadata?.namespace) return false;
  return !ref.uid || ref.uid === claim.metadata?.uid;
}

/** CheckVolumeModeMismatches: both default to Filesystem. */
export function volumeModeMismatch(claim: PersistentVolumeClaim, volume: PersistentVolume): boolean {
  return (claim.spec?.volumeMode ?? 'Filesystem') !== (volume.spec?.volumeMode ?? 'Filesystem');
}

export function requestedBytes(claim: PersistentVolumeClaim): number {
  return parseQuantity(claim.spec?.resources?.requests?.storage) ?? 0;
}

export function volumeBytes(volume: PersistentVolume): number {
  return parseQuantity(volume.spec?.capacity?.storage) ?? 0;
}

/**
 * checkVolumeSatisfyClaim, for a claim that names its volume: why the volume cannot serve it
 * (upstream's wording), or undefined. Access modes are not checked on this path, as upstream.
 */
export function volumeSatisfyClaimProblem(volume: PersistentVolume, claim: PersistentVolumeClaim): string | undefined {
  if (volumeBytes(volume) < requestedBytes(claim)) return 'requested PV is too small';
  if (volumeClass(volume) !== claimClass(claim)) return 'storageClassName does not match';
  if (volumeModeMismatch(claim, volume)) return 'incompatible volumeMode';
  return undefined;
}

/** findByClaim: the volume to bind `claim` to, or undefined. */
export function findBestMatchForClaim(claim: PersistentVolumeClaim, volumes: Iterable<PersistentVolume>, delayBinding = false): PersistentVolume | undefined {
  const groups = new Map<string, PersistentVolume[]>();
  for (const v of volumes) {
    const key = [...new Set(v.spec?.accessModes ?? [])].sort().join(',');
    const group = groups.get(key);
    if (group) group.push(v);
    else groups.set(key, [v]);
  }
  const wanted = claim.spec?.accessModes ?? [];
  const candidates = [...groups.entries()]
    .map(([key, vs]) => ({ modes: key ? key.split(',') : [], vs }))
    .filter(({ modes }) => wanted.every((m) => modes.includes(m)))
    .sort((a, b) => a.modes.length - b.modes.length);
  for (const { vs } of candidates) {
    const best = findMatchingVolume(claim, vs, delayBinding);
    if (best) return best;
  }
  return undefined;
}

/** FindMatchingVolume without a node (the controller's path): pre-bound first, else the smallest fit. */
export function findMatchingVolume(claim: PersistentVolumeClaim, volumes: PersistentVolume[], delayBinding: boolean): PersistentVolume | undefined {
  const requested = requestedBytes(claim);
  const cls = claimClass(claim);
  let smallest: PersistentVolume | undefined;
  for (const v of volumes) {
    if (v.spec?.claimRef && !isVolumeBoundToClaim(v, claim)) continue;
    if (volumeBytes(v) < requested) continue;
    if (volumeModeMismatch(claim, v)) continue;
    if (v.metadata?.deletionTimestamp) continue;
    if (isVolumeBoundToClaim(v, claim)) return v;
    if (delayBinding) continue;
    if (v.status?.phase !== 'Available') continue;
    if (claim.spec?.selector && !matchesLabelSelector(claim.spec.selector, v.metadata?.labels)) continue;
    if (volumeClass(v) !== cls) continue;
    if (!smallest || volumeBytes(smallest) > volumeBytes(v)) smallest = v;
  }
  return smallest;
}
