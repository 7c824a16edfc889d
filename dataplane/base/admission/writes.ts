/**
 * Single-object writes as the apiserver's registry does them — create, update (and the status
 * and finalize subresources), read-modify-write, delete (one, or a batch) — over the same
 * admission (admission.ts), planning (write-plan.ts) and allocation as `knet apply`. The
 * apiserver's REST handlers, the CLI (`knet delete`, `scale`, `rollout restart`, `node stop`),
 * the Node test API, the node agent's final delete and the controllers' deletes (the garbage
 * collector's too) write through here, so an object's semantics live in one place.
 *
 * Errors are StoreErrors worded as the apiserver words them (store/errors.ts), carrying the
 * field errors of an Invalid object so the API can list them as Status causes.
 */
import { stamp, type ObjectRef, type ObjectStore } from '../store/object-store.js';
import { StoreError, conflict, invalid, namespaceNotFound, notFound } from '../store/errors.js';
import { KINDS, isKind, keyOf, type KObject, type Kind } from '../model/object.js';
import type { ClusterConfig } from '../cluster-config.js';
import { pruneUnknownFields } from '../model/schema/strict-fields.js';
import { admit } from './admission.js';
import { emptyTaken, type Taken } from './service-allocation.js';
import { namespaceTerminating, planCreate, planDelete, planStatusUpdate, planUpdate, type DeleteOptions, type DeletePlan, type PlanResult, type WritePlan } from './write-plan.js';
import { readTaken } from './apply.js';
import { generateName } from './generate-name.js';
import { planEphemeralContainersUpdate } from './ephemeral-containers.js';

export { generateName };
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import { admitDefaultIngressClass, wantsDefaultClass } from './default-ingress-class.js';
import { admitDefaultStorageClass, wantsDefaultStorageClass } from './default-storage-class.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { PersistentVolumeClaim, Pod, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { admitServiceAccount, podServiceAccountName, serviceAccountProblem } from './service-account.js';

/** How unknown fields are treated (metav1 fieldValidation): rejected, warned about and dropped, or dropped. */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  /** Validate, default and allocate, but write nothing (dryRun=All). */
  dryRun?: boolean;
  /** Default Strict, as `knet apply`; the API's default is Warn, as the apiserver's. */
  fieldValidation?: FieldValidation;
  /** The writer's field manager: the write is recorded in managedFields as its `Update`. */
  fieldManager?: string;
}

export interface Written {
  object: KObject;
  /** Warnings for the client (fieldValidation=Warn: `unknown field "spec.foo"`). */
  warnings: string[];
  /** False when an update changed nothing (no new resourceVersion). */
  changed: boolean;
  /** True when the update removed the object: its last finalizer went while it was being deleted. */
  removed?: boolean;
}

export interface DeleteObjectOptions extends DeleteOptions {
  /** Fail with Conflict unless the object still has this uid / resourceVersion. */
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
  /**
   * The object as the caller last saw it (an informer's copy): the delete is planned from it and
   * committed against its resourceVersion, saving the read — one round trip; if it moved on, it
   * is read again.
   */
  current?: KObject;
}

/** What a delete did: the object (removed, or now terminating), and whether it is gone. */
export interface Deleted {
  object: KObject;
  removed: boolean;
}

/** One target of a batch delete and its outcome. */
export type DeleteOutcome = { target: ObjectRef; object: KObject; removed: boolean } | { target: ObjectRef; error: StoreError };

export { type DeleteOptions, type PropagationPolicy } from './write-plan.js';

/** Objects per commit of a batch delete: one Lua script holds Redis for the whole batch. */
const DELETE_CHUNK = 500;

const ATTEMPTS = 10;

/** The kind of a write's object, checked against the kinds knet serves. */
function kindOf(obj: KObject): Kind {
  const kind = obj.kind ?? '';
  if (!isKind(kind) || KINDS[kind].apiVersion !== obj.apiVersion) {
    throw new StoreError('BadRequest', `no matches for kind "${kind}" in version "${obj.apiVersion ?? ''}"`);
  }
  return kind;
}

/**
 * The decoder's treatment of unknown fields: Strict refuses the object with the apiserver's
 * `strict decoding error`, Warn and Ignore drop them (Warn says which).
 */
export function decodeFields(obj: KObject, fieldValidation: FieldValidation): { object: KObject; warnings: string[] } {
  const kind = kindOf(obj);
  const { object, pruned } = pruneUnknownFields(kind, obj);
  if (pruned.length === 0) return { object, warnings: [] };
  const unknown = pruned.map((p) => `unknown field ${JSON.stringify(p)}`);
  if (fieldValidation === 'Strict') {
    throw new StoreError('BadRequest', `${kind} in version ${JSON.stringify(obj.apiVersion)} cannot be handled as a ${kind}: strict decoding error: ${unknown.join(', ')}`);
  }
  return { object, warnings: fieldValidation === 'Warn' ? unknown : [] };
}

async function takenFor(store: ObjectStore, kind: Kind): Promise<Taken> {
  return kind === 'Service' ? readTaken(store) : emptyTaken();
}

function invalidOf(obj: KObject, result: PlanResult & { errors: string[] }): StoreError {
  return invalid(obj.kind ?? '', obj.metadata?.name ?? '', result.errors, result.fieldErrors);
}

export async function createObject(store: ObjectStore, config: ClusterConfig, raw: KObject, opts: WriteOptions = {}): Promise<Written> {
  const kind = kindOf(raw);
  if (raw.metadata?.resourceVersion) throw new StoreError('BadRequest', 'resourceVersion should not be set on objects to be created');
  let obj = raw;
  if (!obj.metadata?.name && obj.metadata?.generateName) obj = { ...obj, metadata: { ...obj.metadata, name: generateName(obj.metadata.generateName) } };
  const { object: decoded, warnings } = decodeFields(obj, opts.fieldValidation ?? 'Strict');
  const admitted = admit(decoded, config);
  if (admitted.errors.length) throw invalid(kind, decoded.metadata?.name ?? '', admitted.errors, admitted.fieldErrors);
  const namespace = KINDS[kind].namespaced ? (admitted.object.metadata?.namespace ?? 'default') : undefined;
  const pod = kind === 'Pod' ? (admitted.object as Pod) : undefined;
  const [nsObject, taken, serviceAccount] = await Promise.all([
    namespace !== undefined ? store.get('Namespace', undefined, namespace) : undefined,
    takenFor(store, kind),
    pod ? store.get<ServiceAccount>('ServiceAccount', namespace, podServiceAccountName(pod)) : undefined,
  ]);
  if (namespace !== undefined && !nsObject) throw namespaceNotFound(namespace);
  if (namespace !== undefined && nsObject?.metadata?.deletionTimestamp) throw namespaceTerminating(kind, decoded.metadata?.name ?? '', namespace);
  // The ServiceAccount, DefaultIngressClass and DefaultStorageClass admission plugins, as apply.ts runs them on create.
  let created = admitted.object;
  if (pod) created = admitPodServiceAccount(pod, serviceAccount) as KObject;
  if (kind === 'Ingress' && wantsDefaultClass(created as Ingress)) created = admitDefaultIngressClass(created as Ingress, (await store.list<IngressClass>('IngressClass')).items) as KObject;
  if (kind === 'PersistentVolumeClaim' && wantsDefaultStorageClass(created as PersistentVolumeClaim)) created = admitDefaultStorageClass(created as PersistentVolumeClaim, (await store.list<StorageClass>('StorageClass')).items) as KObject;
  for (let attempt = 0; ; attempt++) {
    const result = planCreate(store, config, created, attempt === 0 ? taken : await takenFor(store, kind), opts.fieldManager ? { manager: opts.fieldManager } : undefined);
    if (result.errors) throw invalidOf(admitted.object, result);
    if (opts.dryRun) return { object: result.plan.object, warnings, changed: true };
    try {
      return { object: await commitPlan(store, result.plan), warnings, changed: true };
    } catch (err) {
      // Another writer took the value allocated from what we read: allocate again.
      if (!(err instanceof StoreError && err.reason === 'Invalid' && err.message.includes('already allocated')) || attempt >= 4) throw err;
    }
  }
}

/** The ServiceAccount admission plugin on a pod create: Forbidden when its service account is missing. */
export function admitPodServiceAccount(pod: Pod, serviceAccount: ServiceAccount | undefined): Pod {
  const problem = serviceAccountProblem(pod, serviceAccount);
  if (problem) throw new StoreError('Forbidden', `pods ${JSON.stringify(pod.metadata?.name ?? '')} is forbidden: ${problem}`);
  return admitServiceAccount(pod, serviceAccount);
}

async function commitPlan(store: ObjectStore, plan: WritePlan): Promise<KObject> {
  const [rv] = await store.commit([plan.op], [plan.object]);
  // A removal keeps the object as it was; the store stamps the delete's version on its event only.
  return plan.removed ? plan.object : stamp(plan.object, rv!);
}

/** The subresources an update may be written through. */
export type UpdateSubresource = 'status' | 'finalize' | 'ephemeralcontainers';

/**
 * Replaces an object (PUT): `desired` is the whole new object. With a resourceVersion in
 * `desired` the write is conditional (409 Conflict when the object moved on); without one it
 * is unconditional. `subresource: 'status'` writes only status; `'ephemeralcontainers'` only a
 * pod's spec.ephemeralContainers (ephemeral-containers.ts).
 */
export async function updateObject(store: ObjectStore, config: ClusterConfig, desired: KObject, opts: WriteOptions & { subresource?: UpdateSubresource } = {}): Promise<Written> {
  const kind = kindOf(desired);
  const name = desired.metadata?.name ?? '';
  const namespace = KINDS[kind].namespaced ? (desired.metadata?.namespace ?? 'default') : undefined;
  const { object: decoded, warnings } = decodeFields(desired, opts.fieldValidation ?? 'Strict');
  const wantRv = decoded.metadata?.resourceVersion || undefined;
  for (let attempt = 0; ; attempt++) {
    const current = await store.get(kind, namespace, name);
    if (!current) throw notFound(kind, name);
    if (wantRv && wantRv !== current.metadata?.resourceVersion) throw conflict(kind, name);
    const expectRv = current.metadata?.resourceVersion;
    let plan: WritePlan;
    if (opts.subresource === 'status') {
      plan = planStatusUpdate(store, current, decoded, expectRv, opts.fieldManager ? { manager: opts.fieldManager } : undefined);
    } else if (opts.subresource === 'ephemeralcontainers') {
      const result = planEphemeralContainersUpdate(store, config, current, decoded, expectRv, opts.fieldManager ? { manager: opts.fieldManager } : undefined);
      if (result.errors) throw invalidOf(decoded, result);
      plan = result.plan;
    } else {
      const finalize = opts.subresource === 'finalize' ? 'finalize' : undefined;
      const result = planUpdate(store, config, current, { ...decoded, metadata: { ...decoded.metadata, namespace } }, await takenFor(store, kind), expectRv, opts.fieldManager ? { manager: opts.fieldManager } : undefined, finalize);
      if (result.errors) throw invalidOf(decoded, result);
      plan = result.plan;
    }
    if (plan.unchanged) return { object: current, warnings, changed: false };
    if (opts.dryRun) return { object: plan.object, warnings, changed: true };
    try {
      return { object: await commitPlan(store, plan), warnings, changed: true, ...(plan.removed ? { removed: true } : {}) };
    } catch (err) {
      const retriable = err instanceof StoreError && (err.reason === 'Conflict' || (err.reason === 'Invalid' && err.message.includes('already allocated')));
      // A conditional update that lost the race is the client's conflict; an unconditional one tries again.
      if (!retriable || (wantRv && err.reason === 'Conflict') || attempt >= ATTEMPTS) throw err;
    }
  }
}

/**
 * Read-modify-write through updateObject, retried on Conflict: `mutate` gets a copy of the
 * current object and returns the desired one (undefined: no change). The CLI's scale, rollout
 * restart and node stop|start, and the API's PATCH, write this way.
 */
export async function mutateObject(
  store: ObjectStore,
  config: ClusterConfig,
  kind: Kind,
  namespace: string | undefined,
  name: string,
  mutate: (current: KObject) => KObject | undefined,
  opts: WriteOptions & { subresource?: UpdateSubresource } = {},
): Promise<Written> {
  for (let attempt = 0; ; attempt++) {
    const current = await store.get(kind, KINDS[kind].namespaced ? namespace : undefined, name);
    if (!current) throw notFound(kind, name);
    const desired = mutate(structuredClone(current));
    if (!desired) return { object: current, warnings: [], changed: false };
    // Written against the object just read: a concurrent change is a conflict to retry.
    const pinned = { ...desired, metadata: { ...desired.metadata, resourceVersion: current.metadata?.resourceVersion } };
    try {
      return await updateObject(store, config, pinned, opts);
    } catch (err) {
      if (!(err instanceof StoreError && err.reason === 'Conflict') || attempt >= ATTEMPTS) throw err;
    }
  }
}

/**
 * Deletes an object as the apiserver does (write-plan.ts planDelete: graceful for scheduled
 * pods, finalizers, the propagation policy as the garbage collector's finalizers), after its
 * preconditions. Dependents are the garbage collector's: Background leaves them to it,
 * Foreground keeps the object (finalizer `foregroundDeletion`) until the blocking ones are gone,
 * Orphan (finalizer `orphan`) until their references to it are removed.
 */
export async function deleteObject(store: ObjectStore, kind: Kind, namespace: string | undefined, name: string, opts: DeleteObjectOptions = {}): Promise<Deleted> {
  const ns = KINDS[kind].namespaced ? namespace : undefined;
  let current = opts.current ?? (await store.get(kind, ns, name));
  for (let attempt = 0; ; attempt++) {
    if (!current) throw notFound(kind, name);
    checkPreconditions(kind, name, current, opts.preconditions);
    const plan = planDelete(store, current, opts);
    if (opts.dryRun || !plan.op) return { object: plan.object, removed: plan.removed };
    const result = await store.tryCommit([plan.op]);
    if (result.ok) return { object: plan.removed ? plan.object : stamp(plan.object, result.rvs[0]!), removed: plan.removed };
    // It moved on since it was read (or the caller's copy was stale): read it again.
    if (result.failure.reason !== 'Conflict' && result.failure.reason !== 'NotFound') throw store.failureToError(result.failure, [plan.op], [plan.object]);
    if (attempt >= ATTEMPTS) throw store.failureToError(result.failure, [plan.op], [plan.object]);
    current = await store.get(kind, ns, name);
  }
}

function checkPreconditions(kind: Kind, name: string, current: KObject, pre: DeleteObjectOptions['preconditions']): void {
  if (pre?.uid && pre.uid !== current.metadata?.uid) {
    throw new StoreError('Conflict', `${conflictPrefix(kind, name)}Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata?.uid ?? ''}`);
  }
  if (pre?.resourceVersion && pre.resourceVersion !== current.metadata?.resourceVersion) {
    throw new StoreError('Conflict', `${conflictPrefix(kind, name)}Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata?.resourceVersion ?? ''}`);
  }
}

/**
 * deleteObject for many objects, as `knet delete -f` needs: one read per kind and commits of
 * up to DELETE_CHUNK objects. Each target's outcome is its own: a missing object is a NotFound
 * in its slot (also one named twice), a refused one (an immortal namespace) its error, and the
 * others are deleted.
 */
export async function deleteObjects(store: ObjectStore, targets: ObjectRef[], opts: DeleteOptions = {}): Promise<DeleteOutcome[]> {
  const outcomes: Array<DeleteOutcome | undefined> = new Array(targets.length);
  const found = await store.getMany(targets.map((t) => ({ ...t, namespace: KINDS[t.kind].namespaced ? t.namespace : undefined })));
  const pending: Array<{ i: number; plan: DeletePlan }> = [];
  const seen = new Set<string>();
  const plan = (i: number, current: KObject): void => {
    try {
      pending.push({ i, plan: planDelete(store, current, opts) });
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      outcomes[i] = { target: targets[i]!, error: err };
    }
  };
  found.forEach((current, i) => {
    const t = targets[i]!;
    const key = `${t.kind}|${current ? keyOf(current) : ''}`;
    if (!current || seen.has(key)) outcomes[i] = { target: t, error: notFound(t.kind, t.name) };
    else plan(i, current);
    seen.add(key);
  });
  for (let start = 0; start < pending.length; start += DELETE_CHUNK) {
    let chunk = pending.slice(start, start + DELETE_CHUNK);
    for (let attempt = 0; ; attempt++) {
      const writes = chunk.filter((c) => c.plan.op);
      const result = await store.tryCommit(writes.map((c) => c.plan.op!));
      if (result.ok) {
        let w = 0;
        for (const c of chunk) {
          const { object, removed, op } = c.plan;
          outcomes[c.i] = { target: targets[c.i]!, object: op && !removed ? stamp(object, result.rvs[w]!) : object, removed };
          if (op) w++;
        }
        break;
      }
      // Something changed one object since it was read: read it again and retry the rest.
      const failed = writes[result.failure.index]!;
      if (attempt > chunk.length + 10) throw store.failureToError(result.failure, writes.map((c) => c.plan.op!), writes.map((c) => c.plan.object));
      const t = targets[failed.i]!;
      const fresh = await store.get(t.kind, KINDS[t.kind].namespaced ? t.namespace : undefined, t.name);
      chunk = chunk.filter((c) => c !== failed);
      if (fresh) {
        const before = pending.length;
        plan(failed.i, fresh);
        if (pending.length > before) chunk.push(pending.pop()!);
      } else outcomes[failed.i] = { target: t, error: notFound(t.kind, t.name) };
    }
  }
  return outcomes as DeleteOutcome[];
}

function conflictPrefix(kind: Kind, name: string): string {
  return conflict(kind, name).message.replace(/the object has been modified.*$/, '');
}
