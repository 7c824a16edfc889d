/**
 * The leader-election Leases kube-controller-manager and kube-scheduler hold in `kube-system`
 * (client-go tools/leaderelection with a LeaseLock): holderIdentity `<host>_<uuid>`, 15 s
 * long, acquireTime when taken, renewTime moved on every renewal. knet runs one controller-manager
 * per cluster, so it simply holds both; `kubectl get leases -n kube-system` shows them, and the
 * apiserver's componentstatuses read their renewals to say whether the two are healthy.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { ControllerContext, Controller } from './controller-context.js';
import { runPeriodically } from './periodic.js';
import { microTime } from '../base/model/meta-time.js';
import { StoreError } from '../base/store/errors.js';
import type { KObject } from '../base/model/object.js';

export const LEADER_LEASES = ['kube-controller-manager', 'kube-scheduler'];
export const LEADER_LEASE_NAMESPACE = 'kube-system';
/** leaseDuration and a renewal well inside it (upstream retries every 2 s; knet writes less often). */
export const LEADER_LEASE_DURATION_SECONDS = 15;
const RENEW_MS = 5_000;

/** The lease after this holder (re)acquires or renews it at `now`. */
export function leaderLease(name: string, holder: string, now: string, prior?: Lease): Lease {
  const held = prior?.spec?.holderIdentity === holder;
  const transitions = prior?.spec?.leaseTransitions ?? 0;
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { ...prior?.metadata, name, namespace: LEADER_LEASE_NAMESPACE },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: LEADER_LEASE_DURATION_SECONDS,
      acquireTime: held ? (prior?.spec?.acquireTime ?? now) : now,
      renewTime: now,
      leaseTransitions: prior && !held ? transitions + 1 : transitions,
    },
  };
}

export function startLeaderLeases(ctx: ControllerContext, opts: { renewMs?: number } = {}): Controller {
  const holder = `${hostname()}_${randomUUID()}`;
  const renew = async () => {
    const now = microTime(ctx.now());
    for (const name of LEADER_LEASES) {
      const renewed = await ctx.store.mutate<Lease>('Lease', LEADER_LEASE_NAMESPACE, name, (prior) => leaderLease(name, holder, now, prior));
      if (renewed) continue;
      try {
        await ctx.store.create(leaderLease(name, holder, now) as KObject);
      } catch (err) {
        if (!(err instanceof StoreError && err.reason === 'AlreadyExists')) throw err;
      }
    }
  };
  // Taken at once (componentstatuses reads them right after `knet up`), then renewed.
  const first = renew().catch((err) => ctx.log.warn('leader lease renewal failed', { error: err as Error }));
  const periodic = runPeriodically(renew, opts.renewMs ?? RENEW_MS, ctx.log, 'leader lease renewal');
  return {
    async close() {
      await first;
      await periodic.close();
    },
  };
}
