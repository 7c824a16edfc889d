/**
 * Controller references (metadata.ownerReferences with controller: true): how a Pod knows
 * its ReplicaSet and a ReplicaSet its Deployment, for ownership, adoption checks, garbage
 * collection and the ObjectStore's cascading delete.
 */
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { KObject } from '../base/model/object.js';

export function controllerRefOf(obj: KObject | undefined): OwnerReference | undefined {
  return obj?.metadata?.ownerReferences?.find((r) => r.controller);
}

export function isControlledBy(obj: KObject, owner: KObject): boolean {
  const ref = controllerRefOf(obj);
  return ref !== undefined && ref.uid === owner.metadata?.uid;
}

export function newControllerRef(owner: KObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion ?? '',
    kind: owner.kind ?? '',
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}
