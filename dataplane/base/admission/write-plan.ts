/**
 * One object's write, planned: the object as it will be stored (server-owned metadata, carried
 * status, allocations and their release, finalizers, graceful deletion, an Event's expiry) and
 * the commit op that writes it. Every write path uses it — `knet apply` plans a batch and
 * commits it at once, the apiserver, the CLI, the controllers' deletes and the garbage collector
 * (writes.ts) plan one — so what a create, an update or a delete does to an object is written
 * once, here; the store only commits.
 */
import type { Namespace, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { ObjectStore } from '../store/object-store.js';
import type { CommitOp } from '../store/commit-script.js';
import { StoreError, resourceName } from '../store/errors.js';
import { keyOf, type KObject, type Kind } from '../model/object.js';
import type { FieldError } from '../model/validate/field-error.js';
import { eventTTLSeconds, type ClusterConfig } from '../cluster-config.js';
import { allocateService, heldBy, ownerOf, type Pool, type Taken } from './service-allocation.js';
import { admitUpdate } from './admission.js';
import { recordUpdate } from '../patch/managed-fields.js';
import { metaTime } from '../model/meta-time.js';
import { prepareForCreate, prepareForUpdate } from '../model/registry-strategy.js';
import { validatePodCreate } from '../model/validate/ephemeral-containers.js';

export interface WritePlan {
  /** The object to store (resourceVersion still the old one or none: the commit stamps it). */
  object: KObject;
  op: CommitOp;
  /** An update that changes nothing: no op to commit. */
  unchanged: boolean;
  /** The write removes the object (an update that took the last finalizer off a deleting object). */
  removed?: boolean;
}

/** The garbage collector's finalizers (metav1.FinalizerOrphanDependents, FinalizerDeleteDependents). */
export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';
/** The namespace controller's entry in a Namespace's spec.finalizers (corev1.FinalizerKubernetes). */
export const FINALIZER_KUBERNETES = 'kubernetes';
/** Namespaces the NamespaceLifecycle admission plugin refuses to delete. */
export const IMMORTAL_NAMESPACES = ['default', 'kube-system', 'kube-public'];

/** NamespaceLifecycle: nothing new goes into a namespace being deleted. */
export function namespaceTerminating(kind: Kind, name: string, namespace: string): StoreError {
  const err = new StoreError('Forbidden', `${resourceName(kind)} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`);
  err.namespace = namespace;
  return err;
}

/**
 * Whether a create was refused because its namespace is Terminating (upstream's
 * NamespaceTerminatingCause): controllers then have nothing to do, as upstream's do, since the
 * namespace controller is deleting what they would create for.
 */
export function isNamespaceTerminating(err: unknown): boolean {
  return err instanceof StoreError && err.reason === 'Forbidden' && err.namespace !== undefined;
}

/** For `.catch` on a controller's create: undefined when the namespace is Terminating, else the error again. */
export function unlessNamespaceTerminating(err: unknown): undefined {
  if (isNamespaceTerminating(err)) return undefined;
  throw err;
}

/** An Event's expiry (kube-apiserver --event-ttl), renewed by every write; other kinds do not expire. */
export function expiryOf(obj: KObject, config: Pick<ClusterConfig, 'eventTTLSeconds'> | undefined, now = Date.now()): { expireAt?: number } {
  return obj.kind === 'Event' ? { expireAt: now + eventTTLSeconds(config) * 1000 } : {};
}

/** The write's field manager (managedFields `Update` entry); none for knet's own writers. */
export interface FieldManagerRef {
  manager: string;
  subresource?: string;
}

const managed = (current: KObject | undefined, next: KObject, fm: FieldManagerRef | undefined): KObject => (fm ? recordUpdate(current, next, fm.manager, 'Update', fm.subresource) : next);

export type PlanResult = { plan: WritePlan; errors?: undefined } | { plan?: undefined; errors: string[]; fieldErrors?: FieldError[] };

/** A create of an admitted (defaulted, validated) object. */
export function planCreate(store: ObjectStore, config: ClusterConfig, admitted: KObject, taken: Taken, fm?: FieldManagerRef): PlanResult {
  // ValidatePodCreate: ephemeral containers come only through the ephemeralcontainers subresource.
  const createOnly = admitted.kind === 'Pod' ? validatePodCreate(admitted as Pod) : [];
  if (createOnly.length) return { errors: createOnly.map((e) => e.message), fieldErrors: createOnly };
  // The kind's strategy: the status it starts with (a Pod's Pending and QoS class), no other; a
  // Namespace gets the `kubernetes` finalizer the namespace controller takes off.
  let next: KObject = store.prepareCreate(prepareForCreate(admitted));
  let claims: Array<[Pool, string]> = [];
  if (next.kind === 'Service') {
    const alloc = allocateService(next as Service, undefined, taken, config);
    if (alloc.errors.length) return { errors: alloc.errors };
    next = alloc.service as KObject;
    claims = alloc.claims;
  }
  next = managed(undefined, next, fm);
  const op: CommitOp = {
    kind: next.kind as Kind,
    key: keyOf(next),
    mode: 'create',
    json: store.serialize(next),
    claims,
    owner: next.kind === 'Service' ? ownerOf(next as Service) : undefined,
    ...expiryOf(next, config),
  };
  return { plan: { object: next, op, unchanged: false } };
}

/**
 * An update of `current` to `desired` (not yet admitted): defaults, validation, immutability,
 * server-owned metadata and status carried over, allocations kept or moved. The op is guarded
 * by `expectRv` (the current object's resourceVersion unless given).
 */
export function planUpdate(
  store: ObjectStore,
  config: ClusterConfig,
  current: KObject,
  desired: KObject,
  taken: Taken,
  expectRv = current.metadata?.resourceVersion,
  fm?: FieldManagerRef,
  subresource?: 'finalize',
): PlanResult {
  const admitted = admitUpdate(current, desired, config);
  if (admitted.errors.length) return { errors: admitted.errors, fieldErrors: admitted.fieldErrors };
  let next = store.prepareUpdate(current, admitted.object);
  // A Namespace's spec.finalizers change only through its finalize subresource (the namespace controller's).
  if (subresource !== 'finalize') next = prepareForUpdate(current, next);
  if (next.kind === 'Namespace' && !(next as Namespace).spec?.finalizers) next = { ...next, spec: withoutFinalizers(next as Namespace) } as KObject;
  let claims: Array<[Pool, string]> = [];
  let releases: Array<[Pool, string]> = [];
  if (next.kind === 'Service') {
    const alloc = allocateService(next as Service, current as Service, taken, config);
    if (alloc.errors.length) return { errors: alloc.errors };
    next = alloc.service as KObject;
    claims = alloc.claims;
    releases = alloc.releases;
  }
  next = managed(current, next, fm);
  // ShouldDeleteDuringUpdate: the last finalizer came off an object whose deletion waited only for it.
  if (deletesDuringUpdate(current, next)) return { plan: { object: next, op: deleteOp(current, expectRv), unchanged: false, removed: true } };
  const op: CommitOp = {
    kind: next.kind as Kind,
    key: keyOf(next),
    mode: 'update',
    expectRv,
    json: store.serialize(next),
    claims,
    releases,
    owner: next.kind === 'Service' ? ownerOf(next as Service) : undefined,
    ...expiryOf(next, config),
  };
  return { plan: { object: next, op, unchanged: sameObject(current, next) } };
}

function withoutFinalizers(ns: Namespace): Namespace['spec'] {
  const { finalizers: _f, ...spec } = ns.spec ?? {};
  return spec;
}

/** An update that takes the last finalizer off an object deleted without grace (or whose grace ran out) removes it. */
function deletesDuringUpdate(current: KObject, next: KObject): boolean {
  if (!current.metadata?.deletionTimestamp || (next.metadata?.finalizers?.length ?? 0) > 0) return false;
  if (next.kind === 'Namespace' && ((next as Namespace).spec?.finalizers?.length ?? 0) > 0) return false;
  return (current.metadata.deletionGracePeriodSeconds ?? 0) === 0;
}

/** A status write (the status subresource): everything but status stays as stored. */
export function planStatusUpdate(store: ObjectStore, current: KObject, desired: KObject, expectRv = current.metadata?.resourceVersion, fm?: FieldManagerRef): WritePlan {
  let next = { ...current, status: desired.status } as KObject;
  if (next.status === undefined) delete next.status;
  next = managed(current, next, fm && { ...fm, subresource: 'status' });
  const op: CommitOp = { kind: next.kind as Kind, key: keyOf(next), mode: 'update', expectRv, json: store.serialize(next) };
  return { object: next, op, unchanged: sameObject(current, next) };
}

/** Equal apart from the resourceVersion: nothing to write. */
export function sameObject(a: KObject, b: KObject): boolean {
  return stableJson(strip(a)) === stableJson(strip(b));
}

function strip(o: KObject): KObject {
  const { resourceVersion: _rv, ...md } = o.metadata ?? {};
  return { ...o, metadata: md };
}

export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}

// ---- deletes ---------------------------------------------------------------------------------

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

export interface DeleteOptions {
  /** Pods only: overrides terminationGracePeriodSeconds; 0 deletes at once. */
  gracePeriodSeconds?: number;
  /** What happens to dependents (ownerReferences): Background (default) and Foreground delete them, Orphan keeps them. */
  propagationPolicy?: PropagationPolicy;
}

export interface DeletePlan {
  /** The object afterwards: as it was when removed, or terminating. */
  object: KObject;
  /** Removed from the store now (false: terminating, waiting for its grace period or its finalizers). */
  removed: boolean;
  /** The write; none when the delete changes nothing (its deletion is already under way). */
  op?: CommitOp;
}

/** The op that removes an object, giving back a Service's ClusterIP, NodePorts and LoadBalancer IP. */
export function deleteOp(current: KObject, expectRv?: string): CommitOp {
  const kind = current.kind as Kind;
  const releases = kind === 'Service' ? { releases: heldBy(current as Service), owner: ownerOf(current as Service) } : {};
  return { kind, key: keyOf(current), mode: 'delete', ...(expectRv ? { expectRv } : {}), ...releases };
}

/**
 * What deleting `current` writes, as the apiserver's registry decides it (rest.BeforeDelete,
 * Store.Delete, the namespace REST): a scheduled Pod terminates for its grace period (only a
 * shorter one shortens it); the garbage collector's finalizers follow the propagation policy
 * (Orphan adds `orphan`, Foreground `foregroundDeletion`, Background removes both); an object
 * with finalizers is marked deleting (deletionTimestamp, grace 0) and stays until they are gone;
 * anything else is removed now. A Namespace first turns Terminating; the namespace controller
 * empties it and takes its `kubernetes` finalizer off. The op is guarded by `expectRv`.
 */
export function planDelete(store: ObjectStore, current: KObject, opts: DeleteOptions = {}, expectRv = current.metadata?.resourceVersion, now = Date.now()): DeletePlan {
  if (current.kind === 'Namespace') return planNamespaceDelete(store, current as Namespace, opts, expectRv, now);
  const md = current.metadata ?? {};
  const graceful = current.kind === 'Pod';
  let meta = { ...md };
  let terminating = false;
  if (md.deletionTimestamp) {
    // Already being deleted: only a graceful deletion may be shortened; nothing else changes.
    if (!graceful) return { object: current, removed: false };
    const had = md.deletionGracePeriodSeconds ?? 0;
    if (had > 0) {
      const grace = opts.gracePeriodSeconds;
      if (grace === undefined || grace >= had) return { object: current, removed: false };
      meta = { ...meta, deletionTimestamp: metaTime(Date.parse(md.deletionTimestamp) - (had - grace) * 1000), deletionGracePeriodSeconds: grace };
      terminating = grace > 0;
    }
  } else if (graceful) {
    const grace = podGracePeriod(current as Pod, opts);
    meta = { ...meta, deletionTimestamp: metaTime(now + grace * 1000), deletionGracePeriodSeconds: grace, ...bumpedGeneration(md) };
    terminating = grace > 0;
  }
  const finalizers = gcFinalizers(md.finalizers, opts.propagationPolicy);
  if (finalizers) meta = { ...meta, finalizers };
  if (!finalizers?.length && !meta.finalizers?.length) delete meta.finalizers;
  const pending = (meta.finalizers?.length ?? 0) > 0;
  if (!terminating && !pending) return { object: current, removed: true, op: deleteOp(current, expectRv) };
  if (!terminating) meta = markAsDeleting(meta, now);
  const next = { ...current, metadata: meta };
  return { object: next, removed: false, op: { kind: current.kind as Kind, key: keyOf(next), mode: 'update', expectRv, json: store.serialize(next) } };
}

/** The namespace REST's Delete: Terminating first; removed once its spec.finalizers are gone. */
function planNamespaceDelete(store: ObjectStore, current: Namespace, opts: DeleteOptions, expectRv: string | undefined, now: number): DeletePlan {
  const name = current.metadata?.name ?? '';
  if (IMMORTAL_NAMESPACES.includes(name)) throw new StoreError('Forbidden', `${resourceName('Namespace')} "${name}" is forbidden: this namespace may not be deleted`);
  if (!current.metadata?.deletionTimestamp) {
    const finalizers = gcFinalizers(current.metadata?.finalizers, opts.propagationPolicy);
    const meta = { ...current.metadata, deletionTimestamp: metaTime(now), ...(finalizers ? { finalizers } : {}) };
    if (!meta.finalizers?.length) delete meta.finalizers;
    const next: Namespace = { ...current, metadata: meta, status: { ...current.status, phase: 'Terminating' } };
    return { object: next, removed: false, op: { kind: 'Namespace', key: keyOf(next), mode: 'update', expectRv, json: store.serialize(next) } };
  }
  if (current.spec?.finalizers?.length) return { object: current, removed: false };
  // Finalized (or a namespace from before finalizers): the generic delete, which honours metadata.finalizers.
  const pending = (current.metadata.finalizers?.length ?? 0) > 0;
  if (!pending) return { object: current, removed: true, op: deleteOp(current, expectRv) };
  if (current.metadata.deletionGracePeriodSeconds === 0) return { object: current, removed: false };
  const next = { ...current, metadata: markAsDeleting({ ...current.metadata }, now) };
  return { object: next, removed: false, op: { kind: 'Namespace', key: keyOf(next), mode: 'update', expectRv, json: store.serialize(next) } };
}

/** The pod strategy's CheckGracefulDelete: the asked or template grace, 0 for unscheduled or finished pods. */
function podGracePeriod(pod: Pod, opts: DeleteOptions): number {
  if (!pod.spec?.nodeName) return 0;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 0;
  const grace = opts.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
  return grace < 0 ? 1 : grace;
}

/**
 * deletionFinalizersForGarbageCollection: the object's finalizers with `orphan` and
 * `foregroundDeletion` as the policy (or, without one, the finalizers already there) asks;
 * undefined when they stay as they are.
 */
export function gcFinalizers(existing: readonly string[] | undefined, policy: PropagationPolicy | undefined): string[] | undefined {
  const have = existing ?? [];
  const firstGc = have.find((f) => f === FINALIZER_ORPHAN || f === FINALIZER_FOREGROUND);
  const orphan = policy ? policy === 'Orphan' : firstGc === FINALIZER_ORPHAN;
  const foreground = policy ? policy === 'Foreground' : firstGc === FINALIZER_FOREGROUND;
  const next = have.filter((f) => f !== FINALIZER_ORPHAN && f !== FINALIZER_FOREGROUND);
  if (orphan) next.push(FINALIZER_ORPHAN);
  if (foreground) next.push(FINALIZER_FOREGROUND);
  const same = new Set(next).size === new Set(have).size && next.every((f) => have.includes(f));
  return same ? undefined : next;
}

/** markAsDeleting: deletionTimestamp now (unless sooner), grace 0, generation bumped the first time. */
function markAsDeleting(meta: NonNullable<KObject['metadata']>, now: number): NonNullable<KObject['metadata']> {
  const at = meta.deletionTimestamp && Date.parse(meta.deletionTimestamp) <= now ? meta.deletionTimestamp : metaTime(now);
  return { ...meta, ...(meta.deletionTimestamp ? {} : bumpedGeneration(meta)), deletionTimestamp: at, deletionGracePeriodSeconds: 0 };
}

function bumpedGeneration(meta: NonNullable<KObject['metadata']>): { generation?: number } {
  return (meta.generation ?? 0) > 0 ? { generation: meta.generation! + 1 } : {};
}
