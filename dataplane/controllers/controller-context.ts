/**
 * What every controller gets: the store to write through, the informer caches to read from,
 * the cluster settings, a logger, an event recorder, and the writes-with-expectations helper.
 *
 * Controllers never write with store.create/update/delete directly: they go through
 * `ControllerWrites`, which records each write as an expectation of the controller key that
 * made it (see expectations.ts), treats "already gone" as done, and retries generated names.
 */
import type { ObjectStore } from '../store/object-store.js';
import type { InformerFactory } from '../informer-types.js';
import type { ClusterConfig } from '../cluster-config.js';
import type { Logger } from '../log.js';
import type { EventRecorder } from '../api/events.js';
import { StoreError } from '../store/errors.js';
import type { KObject, Kind } from '../model/object.js';
import type { DeleteOptions } from '../store/object-store.js';
import { Expectations } from './expectations.js';
import { generateName } from './names.js';

export interface ControllerContext {
  store: ObjectStore;
  informers: InformerFactory;
  config: ClusterConfig;
  log: Logger;
  /** Event recorder per controller name ("default-scheduler", "deployment-controller", …). */
  recorder(component: string): EventRecorder;
  writes: ControllerWrites;
  now(): number;
}

export interface Controller {
  close(): Promise<void>;
}

export class ControllerWrites {
  constructor(
    private readonly store: ObjectStore,
    readonly expectations: Expectations,
  ) {}

  async create<T extends KObject>(controllerKey: string, obj: T): Promise<T> {
    const created = await this.store.create(obj);
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

  /** Deletes; an object already gone counts as deleted. Pods own nothing, so no cascade scan. */
  async delete(controllerKey: string, kind: Kind, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<void> {
    try {
      const options: DeleteOptions = kind === 'Pod' ? { propagationPolicy: 'Orphan', ...opts } : opts;
      const returned = await this.store.delete(kind, namespace, name, options);
      this.expectations.expectDelete(controllerKey, kind, namespace, name, returned);
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
