/**
 * A pod's `persistentVolumeClaim` volume → the claim (in the pod's namespace) → its
 * `spec.volumeName` → the PersistentVolume whose directory the pod mounts
 * (base/persistent-volume-dir.ts). A claim that is missing, being deleted, or not Bound keeps the
 * pod in ContainerCreating with the kubelet's FailedMount text (volume-sources.ts) — the
 * scheduler already holds such pods, but one can reach the node anyway (a claim deleted after
 * scheduling, a pod created with `nodeName`). Pure: the claim comes from the lookup.
 */
import type { Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { ObjectLookup } from './container-env.js';

export type ClaimResolution = { volumeName: string } | { problem: string };

/** undefined: not a claim volume, or the node does not back claims (no claim lookup). */
export function resolveClaim(pod: Pod, volume: Volume, lookup: ObjectLookup): ClaimResolution | undefined {
  const source = volume.persistentVolumeClaim;
  if (!source || !lookup.persistentVolumeClaim) return undefined;
  const ns = pod.metadata?.namespace ?? 'default';
  const name = source.claimName;
  const claim = lookup.persistentVolumeClaim(ns, name);
  // The kubelet's volume manager (desired_state_of_world_populator.go getPVCExtractPV), its words.
  const failed = (why: string) => ({ problem: `Unable to attach or mount volumes: unmounted volumes=[${volume.name}], failed to process volumes=[${volume.name}]: error processing PVC ${ns}/${name}: ${why}` });
  if (!claim) return failed(`failed to fetch PVC from API server: persistentvolumeclaims "${name}" not found`);
  if (claim.metadata?.deletionTimestamp) return failed('can\'t start pod because PVC is being deleted');
  const volumeName = claim.spec?.volumeName;
  if (claim.status?.phase !== 'Bound' || !volumeName) return failed('PVC is not bound');
  return { volumeName };
}
