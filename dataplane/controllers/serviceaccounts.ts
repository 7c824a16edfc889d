/**
 * The service-account controller (kube-controller-manager's `serviceaccount-controller`,
 * pkg/controller/serviceaccount/serviceaccounts_controller.go): every namespace that is not
 * terminating has a ServiceAccount named `default`; deleting it brings it back. Pods run as it
 * unless they name another (base/admission/service-account.ts).
 */
import type { Namespace, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { Controller, ControllerContext } from './controller-context.js';
import { StoreError } from '../base/store/errors.js';
import { WorkQueue } from '../base/work-queue.js';
import { DEFAULT_SERVICE_ACCOUNT } from '../base/admission/service-account.js';
import { isNamespaceTerminating } from '../base/admission/write-plan.js';

/** The service accounts every namespace gets. */
export const MANAGED_SERVICE_ACCOUNTS = [DEFAULT_SERVICE_ACCOUNT];

/** Whether the controller keeps service accounts in this namespace (not while it is being deleted). */
export function isActiveNamespace(ns: Namespace | undefined): ns is Namespace {
  return !!ns && !ns.metadata?.deletionTimestamp && ns.status?.phase !== 'Terminating';
}

export function startServiceAccountsController(ctx: ControllerContext): Controller {
  const log = ctx.log.child('serviceaccounts');
  const namespaces = ctx.informers.informer<Namespace>('Namespace');
  const accounts = ctx.informers.informer<ServiceAccount>('ServiceAccount');
  const queue = new WorkQueue('serviceaccounts', reconcile, { log, concurrency: 2 });
  const unsubscribe = [
    namespaces.on({ add: (n) => queue.add(n.metadata?.name ?? ''), update: (_o, n) => queue.add(n.metadata?.name ?? '') }),
    accounts.on({ delete: (sa) => MANAGED_SERVICE_ACCOUNTS.includes(sa.metadata?.name ?? '') && queue.add(sa.metadata?.namespace ?? '') }),
  ];

  async function reconcile(name: string) {
    const expectKey = `sa/${name}`;
    if (!ctx.writes.expectations.satisfied(expectKey)) return { requeueAfterMs: ctx.writes.expectations.remainingMs(expectKey) + 10 };
    if (!isActiveNamespace(namespaces.get(undefined, name))) return;
    for (const sa of MANAGED_SERVICE_ACCOUNTS) {
      if (accounts.get(name, sa)) continue;
      try {
        await ctx.writes.create<ServiceAccount>(expectKey, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: name } });
      } catch (err) {
        // Already there (the cache is behind), or the namespace went away or turned Terminating meanwhile.
        if (!(err instanceof StoreError && (err.reason === 'AlreadyExists' || err.reason === 'NotFound')) && !isNamespaceTerminating(err)) throw err;
      }
    }
    return undefined;
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      await queue.close();
    },
  };
}
