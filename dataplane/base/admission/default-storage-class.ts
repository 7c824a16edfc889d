/**
 * The apiserver's DefaultStorageClass admission plugin
 * (kubernetes plugin/pkg/admission/storage/storageclass/setdefault/admission.go), pure:
 *
 * - it runs on **create** only; an update never gains a class this way;
 * - a PersistentVolumeClaim that has `spec.storageClassName` (the empty string too: "no class"),
 *   or the deprecated `volume.beta.kubernetes.io/storage-class` annotation, is left alone;
 * - otherwise it gets the name of the default StorageClass: one annotated
 *   `storageclass.kubernetes.io/is-default-class: "true"` (or the beta annotation); with several,
 *   the newest by creationTimestamp, ties broken by name (volume/util's GetDefaultClass);
 * - with no default StorageClass nothing changes.
 *
 * apply.ts and writes.ts call it for every claim they create.
 */
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { ANNOTATION_BETA_STORAGE_CLASS, ANNOTATION_BETA_DEFAULT_STORAGE_CLASS, ANNOTATION_DEFAULT_STORAGE_CLASS } from '../model/well-known.js';
import { newestDefault } from './default-class.js';

/** The default StorageClass among `classes`, as GetDefaultClass picks it. */
export function defaultStorageClass(classes: Iterable<StorageClass>): StorageClass | undefined {
  return newestDefault(classes, (c) => {
    const a = c.metadata?.annotations;
    return a?.[ANNOTATION_DEFAULT_STORAGE_CLASS] === 'true' || a?.[ANNOTATION_BETA_DEFAULT_STORAGE_CLASS] === 'true';
  });
}

/** Whether the plugin would look for a default class for this claim on create (PersistentVolumeClaimHasClass is false). */
export function wantsDefaultStorageClass(claim: PersistentVolumeClaim): boolean {
  if (claim.spec?.storageClassName != null) return false;
  const annotations = claim.metadata?.annotations;
  return !(annotations && Object.hasOwn(annotations, ANNOTATION_BETA_STORAGE_CLASS));
}

/** The claim to create: with the default class's name when the plugin would set it. */
export function admitDefaultStorageClass(claim: PersistentVolumeClaim, classes: Iterable<StorageClass>): PersistentVolumeClaim {
  if (!wantsDefaultStorageClass(claim)) return claim;
  const name = defaultStorageClass(classes)?.metadata?.name;
  if (!name) return claim;
  return { ...claim, spec: { ...claim.spec, storageClassName: name } };
}
