/**
 * Controller expectations (client-go's ControllerExpectations, generalised to any write).
 *
 * Controllers reconcile from informer caches, which trail the store by a few ms. Right after
 * a ReplicaSet creates 3 pods the cache still shows none; reconciling again at that moment
 * would create 3 more. So every write a reconcile makes is recorded against the controller
 * key that made it, and that key is not reconciled again until the cache has caught up with
 * every recorded write:
 *  - a create or update that returned resourceVersion R is seen once the cached object is at
 *    R or later, or a delete of it at R or later has been seen;
 *  - a delete is seen once the object is gone from the cache.
 * The event that satisfies an expectation is the same informer event that re-queues the key,
 * so no extra wake-up is needed. Expectations expire after `ttlMs` so a write whose event was
 * somehow never seen cannot wedge a controller.
 */
import type { Informer } from '../base/informer/informer-types.js';
import { KINDS, objectKey, type KObject, type Kind } from '../base/model/object.js';

interface Pending {
  kind: Kind;
  key: string;
  /** Undefined: wait until the object is gone. */
  rv?: number;
}

export class Expectations {
  private readonly pending = new Map<string, { entries: Pending[]; expires: number }>();
  /** Last deletion rv seen per kind+key; bounded, only needs to outlive the pending window. */
  private readonly tombstones = new Map<string, number>();
  private readonly unsubscribe: Array<() => void> = [];
  private adds = 0;

  constructor(
    private readonly informer: (kind: Kind) => Informer,
    private readonly ttlMs = 10_000,
  ) {}

  /** Starts remembering deletions of a kind (call once per kind that controllers write). */
  track(kind: Kind): void {
    this.unsubscribe.push(
      this.informer(kind).on({
        delete: (obj) => {
          this.tombstones.set(`${kind}|${keyOfObject(kind, obj)}`, rvOf(obj));
          if (this.tombstones.size > 50_000) this.tombstones.delete(this.tombstones.keys().next().value!);
        },
      }),
    );
  }

  /** Records a create or update that returned `written`. */
  expectWrite(controllerKey: string, written: KObject): void {
    const kind = written.kind as Kind;
    this.add(controllerKey, { kind, key: keyOfObject(kind, written), rv: rvOf(written) });
  }

  /**
   * Records a delete. `stays`: the object when the delete left it in place (a graceful pod,
   * finalizers pending): that comes back as an update and is a write.
   */
  expectDelete(controllerKey: string, kind: Kind, namespace: string | undefined, name: string, stays?: KObject): void {
    const returned = stays;
    if (returned?.metadata?.deletionTimestamp) {
      this.expectWrite(controllerKey, { ...returned, kind });
      return;
    }
    this.add(controllerKey, { kind, key: objectKey(kind, KINDS[kind].namespaced ? namespace : undefined, name) });
  }

  /** True when the caches reflect every write this controller key made. */
  satisfied(controllerKey: string): boolean {
    const p = this.pending.get(controllerKey);
    if (!p) return true;
    if (Date.now() >= p.expires) {
      this.pending.delete(controllerKey);
      return true;
    }
    p.entries = p.entries.filter((e) => !this.seen(e));
    if (p.entries.length === 0) {
      this.pending.delete(controllerKey);
      return true;
    }
    return false;
  }

  /** Number of controller keys with pending expectations (for tests and metrics). */
  get size(): number {
    return this.pending.size;
  }

  /** Milliseconds until the pending expectations of a key expire (for a fallback requeue). */
  remainingMs(controllerKey: string): number {
    const p = this.pending.get(controllerKey);
    return p ? Math.max(0, p.expires - Date.now()) : 0;
  }

  forget(controllerKey: string): void {
    this.pending.delete(controllerKey);
  }

  close(): void {
    for (const u of this.unsubscribe) u();
    this.pending.clear();
  }

  private add(controllerKey: string, entry: Pending): void {
    // Keys that are never checked again (a deleted owner, a one-off writer) must not pile up.
    if (++this.adds % 256 === 0) {
      const now = Date.now();
      for (const [k, v] of this.pending) if (now > v.expires) this.pending.delete(k);
    }
    const p = this.pending.get(controllerKey) ?? { entries: [], expires: 0 };
    p.entries.push(entry);
    p.expires = Date.now() + this.ttlMs;
    this.pending.set(controllerKey, p);
  }

  private seen(e: Pending): boolean {
    const [ns, name] = KINDS[e.kind].namespaced ? (e.key.split('/') as [string, string]) : [undefined, e.key];
    const cached = this.informer(e.kind).get(ns, name);
    if (e.rv === undefined) return cached === undefined;
    if (cached && rvOf(cached) >= e.rv) return true;
    return (this.tombstones.get(`${e.kind}|${e.key}`) ?? 0) >= e.rv;
  }
}

function rvOf(obj: KObject): number {
  return Number(obj.metadata?.resourceVersion ?? 0);
}

function keyOfObject(kind: Kind, obj: KObject): string {
  return objectKey(kind, obj.metadata?.namespace, obj.metadata?.name ?? '');
}
