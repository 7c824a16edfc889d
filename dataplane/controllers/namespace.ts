/**
 * The namespace controller (kube-controller-manager's namespace deleter): a Namespace being
 * deleted (Terminating, its `kubernetes` spec finalizer still there) has everything in it
 * deleted — every namespaced kind, Events included — and once nothing is left, the finalizer
 * goes through the finalize subresource, which removes the Namespace. As upstream it reads
 * what is left from the store (upstream LISTs through the API), not from caches; pods that take
 * their grace period to go keep the namespace Terminating until they are gone.
 *
 * Woken by the Namespace's own changes, by the deletion of anything in a Terminating
 * namespace, and every few seconds while something is left (a kind the caches do not carry).
 */
import type { Namespace } from 'kubernetes-types/core/v1.js';
import { KINDS, type KObject, type Kind } from '../base/model/object.js';
import { deleteObject, deleteObjects, updateObject } from '../base/admission/writes.js';
import { FINALIZER_KUBERNETES } from '../base/admission/write-plan.js';
import { StoreError } from '../base/store/errors.js';
import { WorkQueue } from '../base/work-queue.js';
import type { Controller, ControllerContext } from './controller-context.js';

const NAMESPACED_KINDS = (Object.keys(KINDS) as Kind[]).filter((k) => KINDS[k].namespaced);
/** While objects are left: look again this often even without an event. */
const RECHECK_MS = 2000;

export function startNamespaceController(ctx: ControllerContext, watched: readonly Kind[]): Controller {
  const log = ctx.log.child('namespace');
  const namespaces = ctx.informers.informer<Namespace>('Namespace');
  // Deletions in a big namespace come in bursts: look at what is left at most twice a second.
  const queue = new WorkQueue('namespace', reconcile, { log, concurrency: 2, minIntervalMs: 500 });
  const terminating = (name: string | undefined) => !!name && !!namespaces.get(undefined, name)?.metadata?.deletionTimestamp;
  const unsubscribe = [
    namespaces.on({ add: (n) => n.metadata?.deletionTimestamp && queue.add(n.metadata.name!), update: (_o, n) => n.metadata?.deletionTimestamp && queue.add(n.metadata.name!) }),
    ...watched
      .filter((k) => KINDS[k].namespaced)
      .map((k) => ctx.informers.informer(k).on({ delete: (o: KObject) => terminating(o.metadata?.namespace) && queue.add(o.metadata!.namespace!) })),
  ];

  async function reconcile(name: string) {
    const ns = namespaces.get(undefined, name);
    if (!ns?.metadata?.deletionTimestamp) return;
    const ours = ns.spec?.finalizers?.includes(FINALIZER_KUBERNETES) ?? false;
    // Another finalizer than ours still pending: the namespace is someone else's to finalize.
    if (!ours && (ns.spec?.finalizers?.length ?? 0) > 0) return;
    // Ours, or none at all (finalized, or a namespace from before knet's had one): empty it first.
    const left = await deleteContent(name);
    if (left > 0) return { requeueAfterMs: RECHECK_MS };
    if (!ours) {
      await deleteObject(ctx.store, 'Namespace', undefined, name).catch(ignoreNotFound);
      return;
    }
    log.info('namespace empty; finalizing it', { namespace: name });
    const finalizers = (ns.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES);
    await updateObject(ctx.store, ctx.config, { ...ns, spec: { ...ns.spec, finalizers } }, { subresource: 'finalize' }).catch(ignoreNotFound);
  }

  /** Deletes what is in the namespace (in the background: dependents go with their owners); returns how many objects are left. */
  async function deleteContent(namespace: string): Promise<number> {
    const { byKind } = await ctx.store.listKinds(NAMESPACED_KINDS);
    const inside = NAMESPACED_KINDS.flatMap((kind) => (byKind.get(kind) ?? []).filter((o) => o.metadata?.namespace === namespace).map((o) => ({ kind, object: o })));
    const targets = inside.filter(({ object }) => !object.metadata?.deletionTimestamp).map(({ kind, object }) => ({ kind, namespace, name: object.metadata!.name! }));
    let gone = 0;
    for (const o of targets.length ? await deleteObjects(ctx.store, targets, { propagationPolicy: 'Background' }) : []) {
      if ('removed' in o ? o.removed : o.error.reason === 'NotFound') gone++;
      else if ('error' in o) log.warn('could not delete', { object: `${o.target.kind}/${namespace}/${o.target.name}`, error: o.error });
    }
    return inside.length - gone;
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      await queue.close();
    },
  };
}

function ignoreNotFound(err: unknown): void {
  if (!(err instanceof StoreError && err.reason === 'NotFound')) throw err;
}
