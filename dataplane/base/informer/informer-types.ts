/**
 * The contract between the shared informer library and the components that consume it.
 * A component never reads Redis on a hot path: it reads an informer's cache.
 */
import type { KObject, Kind } from '../model/object.js';
import type { Indexers } from './indexer.js';

export interface InformerHandler<T extends KObject> {
  /**
   * A new object. `isInInitialList` is true for the objects of the first list and for the
   * replay a handler added later gets (client-go's ResourceEventHandlerDetailedFuncs): a
   * consumer that serves its own "what happened since" history (a watch) skips those.
   */
  add?(obj: T, isInInitialList: boolean): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface Informer<T extends KObject = KObject> {
  readonly kind: Kind;
  /** Every cached object of this kind. */
  list(): T[];
  /** One object by namespace (ignored for cluster-scoped kinds) and name. */
  get(namespace: string | undefined, name: string): T | undefined;
  /**
   * Subscribe; handlers are called synchronously in event order. As client-go's
   * AddEventHandler, a handler added after objects are cached is first told about each of
   * them (an `add` with isInInitialList true), before this call returns, so it never has to
   * list what it missed. Returns an unsubscribe function.
   */
  on(handler: InformerHandler<T>): () => void;
  /** True once the first list has been loaded into the cache. */
  hasSynced(): boolean;
  /**
   * Declares named indexes (client-go AddIndexers), built at once over the cached objects and
   * kept on every event. Declaring a name again with the same function is a no-op; the
   * namespace index (indexes.ts NAMESPACE_INDEX) is always there.
   */
  addIndexers(indexers: Indexers<T>): void;
  /** Objects filed under `value` in the named index (client-go ByIndex); throws for an undeclared index. */
  byIndex(indexName: string, value: string): T[];
  /** How many objects byIndex would return. */
  countByIndex(indexName: string, value: string): number;
  /** Every value the named index has objects under (client-go ListIndexFuncValues). */
  indexValues(indexName: string): string[];
}

/** Hands out one informer per kind, all fed by one watch of the event stream. */
export interface InformerFactory {
  informer<T extends KObject = KObject>(kind: Kind): Informer<T>;
  /** Resolves once every informer asked for so far has completed its first list. */
  waitForSync(): Promise<void>;
}
