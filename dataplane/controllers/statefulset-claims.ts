/**
 * A StatefulSet's PersistentVolumeClaims, as kube-controller-manager 1.32 makes and owns them
 * (pkg/controller/statefulset: stateful_set_utils.go, stateful_pod_control.go). Pure: the
 * StatefulSet controller (statefulset.ts) plans with these and writes what they say.
 *
 * - Each pod ordinal gets one claim per `volumeClaimTemplates` entry, named
 *   `<template>-<set>-<ordinal>` (getPersistentVolumeClaimName), in the set's namespace, labelled
 *   with the template's labels and the set's `selector.matchLabels` over them
 *   (getPersistentVolumeClaims). It is created before the pod when missing and never updated
 *   when present, so a recreated pod, or a pod of a set scaled up again, finds its old claim and
 *   its data.
 * - The pod gets a `persistentVolumeClaim` volume per template, replacing a template volume of
 *   the same name (updateStorage).
 * - `persistentVolumeClaimRetentionPolicy` decides the claims' ownerReferences
 *   (isClaimOwnerUpToDate, updateClaimOwnerRefForSetAndPod), and the garbage collector does
 *   the rest: whenDeleted=Delete makes the set the claim's controller, so the claim goes with
 *   the set; whenScaled=Delete makes a condemned pod (ordinal ≥ replicas) the controller, so the
 *   claim goes with that pod. Retain/Retain (the default) leaves no reference of ours.
 * - A claim that still names, as its owner, an earlier pod of the same name (whenScaled=Delete)
 *   is about to be collected: the pod is not created over it until it is gone (PodClaimIsStale).
 */
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { applyDefaults } from '../base/model/defaults/index.js';

/** Reads a claim of the set's namespace by name (the informer's cache). */
export type ClaimLookup = (name: string) => PersistentVolumeClaim | undefined;

/** A claim to create before the pod it is for. */
export interface ClaimToCreate {
  claim: PersistentVolumeClaim;
  pod: string;
}

/** A claim whose ownerReferences do not say what the retention policy says, and what they should be. */
export interface ClaimOwnership {
  claim: string;
  /** The pod the claim is for; its uid is what a whenScaled=Delete reference names. */
  pod: Pod;
  /** The pod's ordinal is ≥ replicas (upstream's !podInOrdinalRange). */
  scaledDown: boolean;
  ownerReferences: OwnerReference[];
  /** Another controller owns the claim: our references go and none are added (upstream's ConflictingController). */
  conflicting: boolean;
}

const RETAIN = 'Retain';
const DELETE = 'Delete';
const SET_KIND = { apiVersion: 'apps/v1', kind: 'StatefulSet' };
const POD_KIND = { apiVersion: 'v1', kind: 'Pod' };

/** The set's policy, Retain/Retain when it has none (getPersistentVolumeClaimRetentionPolicy). */
export function retentionPolicy(sts: StatefulSet): { whenDeleted: string; whenScaled: string } {
  const p = sts.spec?.persistentVolumeClaimRetentionPolicy;
  return { whenDeleted: p?.whenDeleted ?? RETAIN, whenScaled: p?.whenScaled ?? RETAIN };
}

/** `<template>-<set>-<ordinal>` (getPersistentVolumeClaimName). */
export function claimName(sts: StatefulSet, template: PersistentVolumeClaim, ordinal: number): string {
  return `${template.metadata?.name}-${sts.metadata?.name}-${ordinal}`;
}

/** Whether `name` is the claim of one of the set's templates for some ordinal (a claim event's set). */
export function isClaimOfSet(sts: StatefulSet, name: string): boolean {
  return (sts.spec?.volumeClaimTemplates ?? []).some((t) => {
    const prefix = `${t.metadata?.name}-${sts.metadata?.name}-`;
    return name.startsWith(prefix) && /^(0|[1-9]\d*)$/.test(name.slice(prefix.length));
  });
}

/** The claims of one ordinal, one per template in template order (getPersistentVolumeClaims). */
export function claimsForOrdinal(sts: StatefulSet, ordinal: number): PersistentVolumeClaim[] {
  return (sts.spec?.volumeClaimTemplates ?? []).map((t) => {
    const md = t.metadata ?? {};
    return applyDefaults<PersistentVolumeClaim>({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: claimName(sts, t, ordinal),
        namespace: sts.metadata?.namespace,
        // The selector's labels over the template's, as upstream (a claim found by the set's selector).
        labels: { ...md.labels, ...sts.spec?.selector?.matchLabels },
        ...(md.annotations ? { annotations: { ...md.annotations } } : {}),
        ...(md.finalizers ? { finalizers: [...md.finalizers] } : {}),
        ...(md.ownerReferences ? { ownerReferences: structuredClone(md.ownerReferences) } : {}),
      },
      spec: structuredClone(t.spec ?? {}),
      status: { phase: 'Pending' },
    });
  });
}

/**
 * The pod's volumes with a `persistentVolumeClaim` volume per template, replacing a template
 * volume of the same name (updateStorage; upstream puts the claims first too, in map order).
 */
export function withClaimVolumes(sts: StatefulSet, pod: Pod, ordinal: number): Pod {
  const templates = sts.spec?.volumeClaimTemplates ?? [];
  if (templates.length === 0) return pod;
  const names = new Set(templates.map((t) => t.metadata?.name));
  const claims: Volume[] = templates.map((t) => ({ name: t.metadata?.name ?? '', persistentVolumeClaim: { claimName: claimName(sts, t, ordinal) } }));
  const rest = (pod.spec?.volumes ?? []).filter((v) => !names.has(v.name));
  return { ...pod, spec: { ...pod.spec!, volumes: [...claims, ...rest] } };
}

function matchesRef(ref: OwnerReference, name: string | undefined, kind: { apiVersion: string; kind: string }): boolean {
  return ref.apiVersion === kind.apiVersion && ref.kind === kind.kind && ref.name === name;
}

function refs(claim: PersistentVolumeClaim): OwnerReference[] {
  return claim.metadata?.ownerReferences ?? [];
}

function hasOwnerRef(claim: PersistentVolumeClaim, owner: { metadata?: { uid?: string } }): boolean {
  const uid = owner.metadata?.uid ?? '';
  return refs(claim).some((r) => r.uid === uid);
}

/** A reference to an object of this name and kind, but another uid: a previous set or pod (hasStaleOwnerRef). */
function hasStaleOwnerRef(claim: PersistentVolumeClaim, owner: { metadata?: { name?: string; uid?: string } }, kind: typeof POD_KIND): boolean {
  const ref = refs(claim).find((r) => matchesRef(r, owner.metadata?.name, kind));
  return ref !== undefined && ref.uid !== (owner.metadata?.uid ?? '');
}

/** Another controller than the set or pod owns the claim, under a policy that would add ours (hasUnexpectedController). */
export function hasUnexpectedController(claim: PersistentVolumeClaim, sts: StatefulSet, pod: Pod): boolean {
  const policy = retentionPolicy(sts);
  if (policy.whenScaled === RETAIN && policy.whenDeleted === RETAIN) return false;
  for (const ref of refs(claim)) {
    // A uid mismatch means the claim was orphaned wrongly: treated as another controller's, left to the garbage collector.
    if (matchesRef(ref, sts.metadata?.name, SET_KIND)) {
      if (ref.uid !== sts.metadata?.uid) return true;
    } else if (matchesRef(ref, pod.metadata?.name, POD_KIND)) {
      if (ref.uid !== (pod.metadata?.uid ?? '')) return true;
    } else if (ref.controller) {
      return true;
    }
  }
  return false;
}

function hasNonControllerOwner(claim: PersistentVolumeClaim, sts: StatefulSet, pod: Pod): boolean {
  return refs(claim).some((r) => (r.uid === sts.metadata?.uid || r.uid === (pod.metadata?.uid ?? '')) && !r.controller);
}

/** The references the policy asks for: [set?, pod?] (the switch of updateClaimOwnerRefForSetAndPod). */
function wantedOwners(sts: StatefulSet, scaledDown: boolean): { set: boolean; pod: boolean } {
  const { whenDeleted, whenScaled } = retentionPolicy(sts);
  // An unknown policy is treated as Retain, as upstream (validation allows only the two).
  const pod = whenScaled === DELETE && scaledDown;
  const set = whenDeleted === DELETE && !(whenScaled === DELETE && scaledDown);
  return { set, pod };
}

/**
 * Whether the claim's ownerReferences already say what the policy says (isClaimOwnerUpToDate).
 * References to an earlier set or pod of the same name, or another controller alone, are left
 * as they are (true): upstream never touches a claim in that state.
 */
export function claimOwnerUpToDate(claim: PersistentVolumeClaim, sts: StatefulSet, pod: Pod, scaledDown: boolean): boolean {
  if (hasStaleOwnerRef(claim, sts, SET_KIND) || hasStaleOwnerRef(claim, pod, POD_KIND)) return true;
  if (hasUnexpectedController(claim, sts, pod)) return !(hasOwnerRef(claim, sts) || hasOwnerRef(claim, pod));
  if (hasNonControllerOwner(claim, sts, pod)) return false;
  const want = wantedOwners(sts, scaledDown);
  return hasOwnerRef(claim, sts) === want.set && hasOwnerRef(claim, pod) === want.pod;
}

/** The claim's ownerReferences under the policy: ours scrubbed, then the wanted controller refs added (updateClaimOwnerRefForSetAndPod). */
export function retentionOwnerReferences(claim: PersistentVolumeClaim, sts: StatefulSet, pod: Pod, scaledDown: boolean): OwnerReference[] {
  const unexpected = hasUnexpectedController(claim, sts, pod);
  const kept = refs(claim).filter((r) => !matchesRef(r, sts.metadata?.name, SET_KIND) && !matchesRef(r, pod.metadata?.name, POD_KIND));
  if (unexpected) return kept;
  const want = wantedOwners(sts, scaledDown);
  const added: OwnerReference[] = [];
  if (want.pod) added.push(controllerRef(POD_KIND, pod));
  if (want.set) added.push(controllerRef(SET_KIND, sts));
  return [...kept, ...added];
}

function controllerRef(kind: typeof POD_KIND, owner: { metadata?: { name?: string; uid?: string } }): OwnerReference {
  return { ...kind, name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** `claim` with the ownerReferences the policy asks for, or undefined when it has them already. */
export function claimWithRetentionOwners(claim: PersistentVolumeClaim, sts: StatefulSet, pod: Pod, scaledDown: boolean): PersistentVolumeClaim | undefined {
  if (claimOwnerUpToDate(claim, sts, pod, scaledDown)) return undefined;
  const { ownerReferences: _old, ...md } = claim.metadata ?? {};
  const ownerReferences = retentionOwnerReferences(claim, sts, pod, scaledDown);
  return { ...claim, metadata: ownerReferences.length ? { ...md, ownerReferences } : md };
}

/** The owner fixes a pod's existing claims need (ClaimsMatchRetentionPolicy + UpdatePodClaimForRetentionPolicy). */
export function claimOwnerFixes(sts: StatefulSet, pod: Pod, ordinal: number, scaledDown: boolean, claimOf: ClaimLookup): ClaimOwnership[] {
  const fixes: ClaimOwnership[] = [];
  for (const t of sts.spec?.volumeClaimTemplates ?? []) {
    const claim = claimOf(claimName(sts, t, ordinal));
    if (!claim || claimOwnerUpToDate(claim, sts, pod, scaledDown)) continue;
    fixes.push({ claim: claim.metadata!.name!, pod, scaledDown, ownerReferences: retentionOwnerReferences(claim, sts, pod, scaledDown), conflicting: hasUnexpectedController(claim, sts, pod) });
  }
  return fixes;
}

/**
 * Whether a claim of the pod about to be created names an earlier pod of that name as its owner
 * under whenScaled=Delete: it is about to be collected, and the pod waits until it has gone
 * (PodClaimIsStale).
 */
export function podClaimIsStale(sts: StatefulSet, pod: Pod, ordinal: number, claimOf: ClaimLookup): boolean {
  if (retentionPolicy(sts).whenScaled === RETAIN) return false;
  return (sts.spec?.volumeClaimTemplates ?? []).some((t) => {
    const claim = claimOf(claimName(sts, t, ordinal));
    return claim !== undefined && hasStaleOwnerRef(claim, pod, POD_KIND);
  });
}

/**
 * The pod's claims that do not exist yet, with the references the policy gives them; `deleting`
 * when one is being deleted, which holds the pod back until it has gone (createPersistentVolumeClaims'
 * error). Claims that exist are never changed here (upstream's TODO: never updated).
 */
export function missingClaims(sts: StatefulSet, pod: Pod, ordinal: number, claimOf: ClaimLookup): { create: ClaimToCreate[]; deleting: boolean } {
  const podName = pod.metadata?.name ?? '';
  const scaledDown = ordinal >= (sts.spec?.replicas ?? 1);
  const create: ClaimToCreate[] = [];
  let deleting = false;
  for (const claim of claimsForOrdinal(sts, ordinal)) {
    const existing = claimOf(claim.metadata!.name!);
    if (existing?.metadata?.deletionTimestamp) deleting = true;
    if (!existing) create.push({ claim: claimWithRetentionOwners(claim, sts, pod, scaledDown) ?? claim, pod: podName });
  }
  return { create, deleting };
}
