/**
 * The garbage collector (kube-controller-manager's garbagecollector): cascading deletion
 * through ownerReferences, driven by an owner-UID index on the informers of every kind knet
 * stores but Events (which upstream's ignores too). The decisions are gc-decisions.ts's.
 *
 * Woken per object: when it appears or its owners, deletionTimestamp or finalizers change;
 * when one of its owners goes (all dependents of a removed object, found by the index); and
 * when one of its dependents goes or changes (a foreground owner may be done waiting). An
 * owner missing from the cache is confirmed gone with a live read before anything is deleted
 * (the cache trails the store), once per owner uid — uids never come back.
 *
 * Writes go through the admission write path: deletes (planned from the cached object and
 * guarded by its uid and resourceVersion, so one round trip each, and a dependent that
 * changed meanwhile is judged again rather than deleted), reference removal and finalizer
 * removal (which removes an object whose deletion waited only for it).
 */
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { KINDS, type KObject, type Kind } from '../base/model/object.js';
import type { Informer } from '../base/informer/informer-types.js';
import { dependentsOf, indexByOwner } from '../base/informer/indexes.js';
import { mutateObject } from '../base/admission/writes.js';
import { StoreError } from '../base/store/errors.js';
import { WorkQueue } from '../base/work-queue.js';
import type { Controller, ControllerContext } from './controller-context.js';
import {
  classifyOwner,
  decideForDeleting,
  decideForOwners,
  ownerLocation,
  withoutFinalizer,
  withoutReferences,
  type ClassifiedOwner,
  type GcDecision,
} from './gc-decisions.js';

/** Every kind but Event (the garbage collector's ignoredResources upstream). */
export const GC_KINDS = (Object.keys(KINDS) as Kind[]).filter((k) => k !== 'Event');

/** Owner uids a live read proved gone (bounded; only needs to outlive a cascade). */
const ABSENT_MEMORY = 10_000;

export function startGarbageCollector(ctx: ControllerContext): Controller {
  const log = ctx.log.child('garbage-collector');
  const informers = new Map<Kind, Informer>(GC_KINDS.map((k) => [k, indexByOwner(ctx.informers.informer(k))]));
  const absent = new Set<string>();
  const checking = new Map<string, Promise<boolean>>();
  const queue = new WorkQueue('garbage-collector', reconcile, { log, concurrency: 8 });

  const keyOf = (o: KObject) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
  const enqueue = (o: KObject) => queue.add(keyOf(o));
  const dependentsOfUid = (uid: string) => [...informers.values()].flatMap((inf) => dependentsOf(inf, { metadata: { uid } }));
  const enqueueOwners = (o: KObject) => {
    for (const ref of o.metadata?.ownerReferences ?? []) {
      const where = ownerLocation(ref, o);
      const owner = where && informers.get(where.kind)?.get(where.namespace, ref.name);
      if (owner?.metadata?.uid === ref.uid) enqueue(owner);
    }
  };
  const relevant = (o: KObject) => (o.metadata?.ownerReferences?.length ?? 0) > 0 || !!o.metadata?.deletionTimestamp;
  const shape = (o: KObject) => JSON.stringify([o.metadata?.ownerReferences, o.metadata?.deletionTimestamp, o.metadata?.finalizers]);
  const unsubscribe = GC_KINDS.map((kind) =>
    informers.get(kind)!.on({
      add: (o) => relevant(o) && enqueue(o),
      update: (old, o) => {
        if (shape(old) === shape(o)) return;
        enqueue(o);
        // A dependent that changed owners, or started going, may free a foreground owner.
        enqueueOwners(old);
        enqueueOwners(o);
      },
      delete: (o) => {
        if (o.metadata?.uid) for (const d of dependentsOfUid(o.metadata.uid)) enqueue(d);
        enqueueOwners(o);
      },
    }),
  );

  async function reconcile(key: string): Promise<void> {
    const [kind, namespace, ...rest] = key.split('/') as [Kind, string, ...string[]];
    const obj = informers.get(kind)?.get(namespace || undefined, rest.join('/'));
    const expectKey = `gc/${key}`;
    if (!obj) return void ctx.writes.expectations.forget(expectKey);
    if (!ctx.writes.expectations.satisfied(expectKey)) {
      queue.addAfter(key, ctx.writes.expectations.remainingMs(expectKey) + 10);
      return;
    }
    const uid = obj.metadata?.uid ?? '';
    const decision = obj.metadata?.deletionTimestamp
      ? decideForDeleting(obj, uid ? dependentsOfUid(uid) : [])
      : decideForOwners(obj, await classify(obj), uid ? dependentsOfUid(uid).length > 0 : false);
    await act(expectKey, obj, decision);
  }

  /** The object's owners, classified; an owner absent from the cache is read live before it counts as gone. */
  async function classify(obj: KObject): Promise<ClassifiedOwner[]> {
    const out: ClassifiedOwner[] = [];
    for (const ref of obj.metadata?.ownerReferences ?? []) {
      const where = ownerLocation(ref, obj);
      const state = classifyOwner(ref, obj, where && informers.get(where.kind)?.get(where.namespace, ref.name));
      if (state === 'unknown') out.push({ ref, state: 'solid' });
      else if (state !== 'absent') out.push({ ref, state });
      else out.push({ ref, state: (await ownerGone(ref, obj)) ? 'dangling' : 'solid' });
    }
    return out;
  }

  /** One live read per owner, however many of its dependents ask at once. */
  function ownerGone(ref: OwnerReference, obj: KObject): Promise<boolean> {
    if (absent.has(ref.uid)) return Promise.resolve(true);
    let check = checking.get(ref.uid);
    if (!check) {
      const where = ownerLocation(ref, obj)!;
      check = ctx.store.get(where.kind, where.namespace, ref.name).then((live) => {
        if (live?.metadata?.uid === ref.uid) return false;
        absent.add(ref.uid);
        if (absent.size > ABSENT_MEMORY) absent.delete(absent.values().next().value!);
        return true;
      });
      checking.set(ref.uid, check);
      void check.finally(() => checking.delete(ref.uid)).catch(() => {});
    }
    return check;
  }

  async function act(expectKey: string, obj: KObject, decision: GcDecision): Promise<void> {
    const kind = obj.kind as Kind;
    const ns = obj.metadata?.namespace;
    const name = obj.metadata?.name ?? '';
    const uid = obj.metadata?.uid;
    switch (decision.action) {
      case 'none':
        return;
      case 'delete':
        log.info('deleting object whose owners are gone or deleting it', { object: `${kind}/${ns ?? ''}/${name}`, propagationPolicy: decision.policy });
        // Guarded by what was judged: a dependent adopted or changed meanwhile is judged again.
        try {
          await ctx.writes.delete(expectKey, kind, ns, name, { propagationPolicy: decision.policy, current: obj, preconditions: { uid, resourceVersion: obj.metadata?.resourceVersion } });
        } catch (err) {
          if (err instanceof StoreError && err.reason === 'Conflict') return void queue.addAfter(keyOf(obj), 20);
          throw err;
        }
        return;
      case 'removeReferences':
        await update(expectKey, obj, (cur) => withoutReferences(cur, decision.uids));
        return;
      case 'orphanDependents':
        for (const d of decision.dependents) await update(`gc/${keyOf(d)}`, d, (cur) => withoutReferences(cur, [uid!]));
        // The finalizer goes on the next pass, once the cache shows no dependent left.
        return void queue.addAfter(keyOf(obj), 10);
      case 'deleteDependents':
        for (const d of decision.dependents) enqueue(d);
        return;
      case 'removeFinalizer':
        log.info('removing finalizer', { object: `${kind}/${ns ?? ''}/${name}`, finalizer: decision.finalizer });
        await update(expectKey, obj, (cur) => withoutFinalizer(cur, decision.finalizer));
        return;
    }
  }

  /** A read-modify-write of one object through admission, only while it is the object judged (same uid). */
  async function update(expectKey: string, obj: KObject, change: (cur: KObject) => KObject): Promise<void> {
    try {
      const written = await mutateObject(ctx.store, ctx.config, obj.kind as Kind, obj.metadata?.namespace, obj.metadata?.name ?? '', (cur) => {
        if (cur.metadata?.uid !== obj.metadata?.uid) return undefined;
        const next = change(cur);
        return JSON.stringify(next.metadata) === JSON.stringify(cur.metadata) ? undefined : next;
      });
      if (written.changed) ctx.writes.expectations.expectWrite(expectKey, { ...written.object, kind: obj.kind });
    } catch (err) {
      if (!(err instanceof StoreError && err.reason === 'NotFound')) throw err;
    }
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      await queue.close();
    },
  };
}
