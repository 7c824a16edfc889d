/**
 * The garbage collector's decisions for one object, pure (kube-controller-manager's
 * garbagecollector: attemptToDeleteItem, processDeletingDependentsItem, attemptToOrphan).
 *
 * An object being deleted with a finalizer of the garbage collector:
 *  - `orphan`: its dependents lose their reference to it, then the finalizer goes;
 *  - `foregroundDeletion` ("deleting dependents"): its dependents are deleted; the finalizer
 *    goes once no dependent with blockOwnerDeletion=true is left.
 * An object with owners, each owner classified as
 *  - solid: it exists (same uid) and is not deleting its dependents;
 *  - waiting: it exists and is deleting its dependents in the foreground;
 *  - dangling: it does not exist (the caller has confirmed that with a live read);
 * keeps its solid owners (references to the others are removed), or — with none — is deleted:
 * in the foreground when an owner waits for it and it has dependents itself, else as its own
 * finalizers say (orphan, foreground) or in the background.
 * Owners of kinds knet does not store are never judged (the object stays), as an owner the
 * garbage collector cannot resolve is never taken for gone upstream.
 */
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { KINDS, isKind, type KObject } from '../base/model/object.js';
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN, type PropagationPolicy } from '../base/admission/write-plan.js';

export type OwnerState = 'solid' | 'waiting' | 'dangling';

export interface ClassifiedOwner {
  ref: OwnerReference;
  state: OwnerState;
}

export type GcDecision =
  | { action: 'none' }
  /** Remove these owners' references from the object (it keeps a solid owner). */
  | { action: 'removeReferences'; uids: string[] }
  | { action: 'delete'; policy: PropagationPolicy }
  /** Orphan: take the object's uid out of each dependent's references, then drop `orphan`. */
  | { action: 'orphanDependents'; dependents: KObject[] }
  /** Foreground: the dependents still to go (each is judged on its own); none blocking: drop the finalizer. */
  | { action: 'deleteDependents'; dependents: KObject[] }
  | { action: 'removeFinalizer'; finalizer: string };

export function hasFinalizer(obj: KObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

/** Deleting in the foreground and waiting for its dependents (the owner state "waiting"). */
export function isDeletingDependents(obj: KObject): boolean {
  return !!obj.metadata?.deletionTimestamp && hasFinalizer(obj, FINALIZER_FOREGROUND);
}

/** Where an owner is looked up: its kind (if knet stores it), and the dependent's namespace unless cluster-scoped. */
export function ownerLocation(ref: OwnerReference, dependent: KObject): { kind: keyof typeof KINDS; namespace: string | undefined } | undefined {
  if (!isKind(ref.kind)) return undefined;
  return { kind: ref.kind, namespace: KINDS[ref.kind].namespaced ? dependent.metadata?.namespace || 'default' : undefined };
}

/**
 * An owner reference against the cached owner: solid, waiting, or `absent` from the cache
 * (which trails the store: the caller confirms absence with a live read before calling it
 * dangling). `unknown` for a kind knet does not store.
 */
export function classifyOwner(ref: OwnerReference, dependent: KObject, cached: KObject | undefined): OwnerState | 'absent' | 'unknown' {
  const where = ownerLocation(ref, dependent);
  if (!where) return 'unknown';
  // A namespaced owner of a cluster-scoped object cannot exist (upstream: OwnerRefInvalidNamespace).
  if (where.namespace !== undefined && !KINDS[dependent.kind as keyof typeof KINDS]?.namespaced) return 'absent';
  if (!cached || cached.metadata?.uid !== ref.uid) return 'absent';
  return isDeletingDependents(cached) ? 'waiting' : 'solid';
}

/** What to do about an object that is not being deleted, from its classified owners. */
export function decideForOwners(obj: KObject, owners: ClassifiedOwner[], hasDependents: boolean): GcDecision {
  if (owners.length === 0) return { action: 'none' };
  const solid = owners.filter((o) => o.state === 'solid');
  const others = owners.filter((o) => o.state !== 'solid');
  if (solid.length > 0) return others.length ? { action: 'removeReferences', uids: others.map((o) => o.ref.uid) } : { action: 'none' };
  if (owners.some((o) => o.state === 'waiting') && hasDependents) return { action: 'delete', policy: 'Foreground' };
  return { action: 'delete', policy: hasFinalizer(obj, FINALIZER_ORPHAN) ? 'Orphan' : hasFinalizer(obj, FINALIZER_FOREGROUND) ? 'Foreground' : 'Background' };
}

/** What to do about an object being deleted, given its dependents (objects referring to its uid). */
export function decideForDeleting(obj: KObject, dependents: KObject[]): GcDecision {
  if (!obj.metadata?.deletionTimestamp) return { action: 'none' };
  const uid = obj.metadata.uid;
  if (hasFinalizer(obj, FINALIZER_ORPHAN)) {
    return dependents.length ? { action: 'orphanDependents', dependents } : { action: 'removeFinalizer', finalizer: FINALIZER_ORPHAN };
  }
  if (hasFinalizer(obj, FINALIZER_FOREGROUND)) {
    const blocking = dependents.filter((d) => d.metadata?.ownerReferences?.some((r) => r.uid === uid && r.blockOwnerDeletion === true));
    if (blocking.length === 0) return { action: 'removeFinalizer', finalizer: FINALIZER_FOREGROUND };
    // Those not yet going (each a dependent with this owner waiting: deleted by its own decision).
    return { action: 'deleteDependents', dependents: dependents.filter((d) => !d.metadata?.deletionTimestamp || isDeletingDependents(d)) };
  }
  return { action: 'none' };
}

/** The object's references without those to `uids` (orphaning, or dropping dangling owners). */
export function withoutReferences<T extends KObject>(obj: T, uids: readonly string[]): T {
  const refs = (obj.metadata?.ownerReferences ?? []).filter((r) => !uids.includes(r.uid));
  const { ownerReferences: _old, ...md } = obj.metadata ?? {};
  return { ...obj, metadata: refs.length ? { ...md, ownerReferences: refs } : md };
}

export function withoutFinalizer<T extends KObject>(obj: T, finalizer: string): T {
  const finalizers = (obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer);
  const { finalizers: _old, ...md } = obj.metadata ?? {};
  return { ...obj, metadata: finalizers.length ? { ...md, finalizers } : md };
}
