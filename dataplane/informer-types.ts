/**
 * The contract between the shared informer library and the components that consume it.
 * A component never reads Redis on a hot path: it reads an informer's cache.
 */
import type { KObject, Kind } from './model/object.js';

export interface InformerHandler<T extends KObject> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface Informer<T extends KObject = KObject> {
  readonly kind: Kind;
  /** Every cached object of this kind. */
  list(): T[];
  /** One object by namespace (ignored for cluster-scoped kinds) and name. */
  get(namespace: string | undefined, name: string): T | undefined;
  /** Subscribe; handlers are called synchronously in event order. Returns an unsubscribe function. */
  on(handler: InformerHandler<T>): () => void;
  /** True once the first list has been loaded into the cache. */
  hasSynced(): boolean;
}

/** Hands out one informer per kind, all fed by one watch of the event stream. */
export interface InformerFactory {
  informer<T extends KObject = KObject>(kind: Kind): Informer<T>;
  /** Resolves once every informer asked for so far has completed its first list. */
  waitForSync(): Promise<void>;
}
