/**
 * The disruption controller (pkg/controller/disruption): keeps each PodDisruptionBudget's
 * status — the counts, `disruptedPods`, the DisruptionAllowed condition — from the pods it
 * covers (disruption-status.ts decides). A budget is looked at when it changes, when a pod it
 * covers (before or after the change) is added, changed or deleted, and when an eviction's
 * entry in `disruptedPods` times out.
 *
 * The status is written against the cached budget's resourceVersion, as upstream's UpdateStatus:
 * an eviction that decremented the budget meanwhile wins, and the budget is looked at again
 * when the cache sees it.
 */
import type { Pod, ReplicationController } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { namespacedKey as key, type Controller, type ControllerContext } from './controller-context.js';
import { WorkQueue } from '../base/work-queue.js';
import { inNamespace } from '../base/informer/indexes.js';
import { budgetCoversPod } from '../base/model/disruption-budget.js';
import { metaTime } from '../base/model/meta-time.js';
import { decideBudgetStatus, type FindScale } from './disruption-status.js';
import { controllerRefOf } from './owner-references.js';
import { KINDS, type Kind } from '../base/model/object.js';
import { qualifiedResource, resourceOf } from '../base/model/api-resources.js';

export function startDisruptionController(ctx: ControllerContext): Controller {
  const log = ctx.log.child('disruption');
  const events = ctx.recorder('controllermanager');
  const budgets = ctx.informers.informer<PodDisruptionBudget>('PodDisruptionBudget');
  const pods = ctx.informers.informer<Pod>('Pod');
  const replicaSets = ctx.informers.informer<ReplicaSet>('ReplicaSet');
  const deployments = ctx.informers.informer<Deployment>('Deployment');
  const statefulSets = ctx.informers.informer<StatefulSet>('StatefulSet');
  const rcs = ctx.informers.informer<ReplicationController>('ReplicationController');
  const queue = new WorkQueue('disruption', reconcile, { log, concurrency: 2 });

  const enqueueFor = (...ps: Pod[]) => {
    for (const p of ps) for (const b of inNamespace(budgets, p.metadata?.namespace ?? 'default')) if (budgetCoversPod(b, p)) queue.add(key(b));
  };
  const unsubscribe = [
    budgets.on({ add: (b) => queue.add(key(b)), update: (_o, b) => queue.add(key(b)) }),
    pods.on({ add: (p) => enqueueFor(p), update: (o, p) => enqueueFor(o, p), delete: (p) => enqueueFor(p) }),
  ];

  /** The finders: RC, Deployment (over its ReplicaSet), ReplicaSet, StatefulSet; other kinds have no scale here. */
  const findScale: FindScale = (ref: OwnerReference, namespace: string) => {
    const same = <T extends { metadata?: { uid?: string } }>(o: T | undefined) => (o && o.metadata?.uid === ref.uid ? o : undefined);
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
    if (ref.kind === 'ReplicationController' && group === '') {
      const rc = same(rcs.get(namespace, ref.name));
      return rc && { uid: ref.uid, replicas: rc.spec?.replicas ?? 1 };
    }
    if (ref.kind === 'ReplicaSet' && (group === 'apps' || group === 'extensions')) {
      const rs = same(replicaSets.get(namespace, ref.name));
      if (!rs) return undefined;
      const owner = controllerRefOf(rs);
      const d = owner?.kind === 'Deployment' ? deployments.get(namespace, owner.name) : undefined;
      if (owner && d && d.metadata?.uid === owner.uid) return { uid: owner.uid, replicas: d.spec?.replicas ?? 1 };
      return { uid: ref.uid, replicas: rs.spec?.replicas ?? 1 };
    }
    if (ref.kind === 'StatefulSet' && group === 'apps') {
      const ss = same(statefulSets.get(namespace, ref.name));
      return ss && { uid: ref.uid, replicas: ss.spec?.replicas ?? 1 };
    }
    // getScaleController: a kind knet serves without a scale subresource (a Job, a DaemonSet).
    if (ref.kind in KINDS) throw new Error(`${qualifiedResource(resourceOf(ref.kind as Kind))} does not implement the scale subresource`);
    throw new Error(`no matches for kind "${ref.kind}" in version "${ref.apiVersion}"`);
  };

  async function reconcile(k: string) {
    const [ns, name] = k.split('/') as [string, string];
    const expectKey = `pdb/${k}`;
    if (!ctx.writes.expectations.satisfied(expectKey)) return { requeueAfterMs: ctx.writes.expectations.remainingMs(expectKey) + 10 };
    const pdb = budgets.get(ns, name);
    if (!pdb) {
      ctx.writes.expectations.forget(expectKey);
      return;
    }
    const covered = inNamespace(pods, ns).filter((p) => budgetCoversPod(pdb, p));
    const now = ctx.now();
    const decision = decideBudgetStatus(pdb, covered, findScale, now, metaTime(now));
    if (decision.error) events.record(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${decision.error}`);
    if (decision.status) {
      const rv = pdb.metadata?.resourceVersion;
      // Against the budget this was decided from: a newer one (an eviction's decrement) is decided again.
      await ctx.writes.mutate<PodDisruptionBudget>(expectKey, 'PodDisruptionBudget', ns, name, (cur) => (cur.metadata?.resourceVersion === rv ? { ...cur, status: decision.status } : undefined), { status: true });
    }
    if (decision.recheckAt !== undefined) queue.addAfter(k, Math.max(0, decision.recheckAt - now) + 5);
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      await queue.close();
    },
  };
}
