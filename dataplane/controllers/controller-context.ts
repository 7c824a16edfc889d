/**
 * What every controller gets: the store to write through, the informer caches to read from,
 * the cluster settings, a logger, an event recorder, and the writes-with-expectations helper.
 *
 * Controllers never write with store.create/update/delete directly: they go through
 * `ControllerWrites`, which records each write as an expectation of the controller key that
 * made it (see expectations.ts), treats "already gone" as done, and retries generated names.
 */
import type { ObjectStore } from '../base/store/object-store.js';
import type { InformerFactory } from '../base/informer/informer-types.js';
import type { ClusterConfig } from '../base/cluster-config.js';
import type { Logger } from '../base/log.js';
import type { Clock } from '../base/clock.js';
import type { EventRecorder } from '../base/admission/events.js';
import { StoreError } from '../base/store/errors.js';
import type { KObject, Kind } from '../base/model/object.js';
import { deleteObject, mutateObject, type DeleteOptions } from '../base/admission/writes.js';
import { Expectations } from './expectations.js';
import { generateName } from './names.js';
import { prepareForCreate } from '../base/model/registry-strategy.js';

export interface ControllerContext {
  store: ObjectStore;
  informers: InformerFactory;
  config: ClusterConfig;
  log: Logger;
  /** Event recorder per controller name, its events' source (`default-scheduler`, `deployment-controller`, …). */
  recorder(component: string): EventRecorder;
  writes: ControllerWrites;
  now(): number;
  /**
   * The time Jobs and CronJobs run on: schedules, activeDeadlineSeconds, the pod-failure
   * back-off, ttlSecondsAfterFinished. Real by default; a test's fake clock fires a schedule
   * when the test moves it on. The other controllers read now() (real time), as they compare
   * with times the node agents write.
   */
  clock: Clock;
}

export interface Controller {
  close(): Promise<void>;
}

/**
 * Admission of an object a controller creates, as the apiserver's plugins would run on it
 * (NamespaceLifecycle; ServiceAccount for pods): the object to store, or a StoreError refusing it.
 */
export type CreateAdmission = <T extends KObject>(obj: T) => Promise<T>;

export class ControllerWrites {
  constructor(
    private readonly store: ObjectStore,
    readonly expectations: Expectations,
    private readonly admit?: CreateAdmission,
    /** For writes through admission's update (removeFinalizer). */
    private readonly config?: ClusterConfig,
  ) {}

  async create<T extends KObject>(controllerKey: string, obj: T): Promise<T> {
    // Through the apiserver's admission as any writer's creates (a Terminating namespace, a pod's service account)…
    const admitted = this.admit ? await this.admit(obj) : obj;
    // …and a pod starts with the status the registry gives a new one (Pending, its QoS class).
    const created = await this.store.create(obj.kind === 'Pod' ? (prepareForCreate(admitted) as T) : admitted);
    this.expectations.expectWrite(controllerKey, created);
    return created;
  }

  /** Creates with a generated `${base}-xxxxx` name, retrying on the rare collision. */
  async createGenerated<T extends KObject>(controllerKey: string, base: string, obj: T): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const named = { ...obj, metadata: { ...obj.metadata, name: generateName(base), generateName: `${base}-` } };
      try {
        return await this.create(controllerKey, named);
      } catch (err) {
        if (!(err instanceof StoreError && err.reason === 'AlreadyExists') || attempt >= 5) throw err;
      }
    }
  }

  /** Read-modify-write (see ObjectStore.mutate); returns undefined when the object is gone. */
  async mutate<T extends KObject>(
    controllerKey: string,
    kind: Kind,
    namespace: string | undefined,
    name: string,
    fn: (current: T) => T | undefined,
    opts: { status?: boolean } = {},
  ): Promise<T | undefined> {
    const result = await this.store.mutate<T>(kind, namespace, name, fn, opts);
    if (result) this.expectations.expectWrite(controllerKey, { ...result, kind });
    return result;
  }

  /**
   * Takes `finalizer` off the object (only while it is still the object with `uid`) through
   * admission's update, as a PATCH to the apiserver would: an object being deleted that waited
   * only for this finalizer is removed then. Gone already counts as done.
   */
  async removeFinalizer(controllerKey: string, kind: Kind, namespace: string | undefined, name: string, finalizer: string, uid?: string): Promise<void> {
    if (!this.config) throw new Error('ControllerWrites.removeFinalizer needs the cluster config');
    const without = (cur: KObject): KObject | undefined => {
      const md = cur.metadata ?? {};
      if ((uid && md.uid !== uid) || !md.finalizers?.includes(finalizer)) return undefined;
      const finalizers = md.finalizers.filter((f) => f !== finalizer);
      const { finalizers: _old, ...rest } = md;
      return { ...cur, metadata: finalizers.length ? { ...rest, finalizers } : rest };
    };
    try {
      const written = await mutateObject(this.store, this.config, kind, namespace, name, without);
      if (written.removed) this.expectations.expectDelete(controllerKey, kind, namespace, name);
      else if (written.changed) this.expectations.expectWrite(controllerKey, { ...written.object, kind });
    } catch (err) {
      if (!(err instanceof StoreError && err.reason === 'NotFound')) throw err;
    }
  }

  /**
   * Deletes through the write path (admission's deleteObject: graceful pods, finalizers,
   * dependents left to the garbage collector); an object already gone counts as deleted.
   * `current`: the cached copy, which saves the read.
   */
  async delete(controllerKey: string, kind: Kind, namespace: string | undefined, name: string, opts: DeleteOptions & { current?: KObject; preconditions?: { uid?: string; resourceVersion?: string } } = {}): Promise<void> {
    try {
      const { object, removed } = await deleteObject(this.store, kind, namespace, name, opts);
      this.expectations.expectDelete(controllerKey, kind, namespace, name, removed ? undefined : object);
    } catch (err) {
      if (!(err instanceof StoreError && err.reason === 'NotFound')) throw err;
    }
  }
}

/** "namespace/name": the work-queue key of a namespaced object. */
export function namespacedKey(obj: { metadata?: { namespace?: string; name?: string } }): string {
  return `${obj.metadata?.namespace}/${obj.metadata?.name}`;
}

/** Runs `fn` over items with at most `limit` in flight; collects the first error. */
export async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: unknown;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError) throw firstError;
}
