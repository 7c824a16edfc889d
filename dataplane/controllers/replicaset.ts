/**
 * The ReplicaSet controller: keeps `spec.replicas` active pods (not finished, not being
 * deleted) made from the template, named `<rs>-<5 random>`, each controlled by the RS.
 *
 * Too few: create the difference (at most 500 per pass, Kubernetes' burstReplicas). Too
 * many: delete the pods Kubernetes' ActivePodsWithRanks ranks first — unscheduled before
 * scheduled, Pending before Unknown before Running, not ready before ready, pods doubled up
 * on a node with siblings before lone ones, ready for less time first, more restarts first,
 * newer before older. Terminating and finished pods do not count, so a deleted or failed
 * pod is replaced at once. Status as calculateStatus: replicas, fullyLabeledReplicas,
 * readyReplicas, availableReplicas (Ready for minReadySeconds), observedGeneration.
 *
 * The same controller keeps ReplicationControllers (core/v1), as upstream's replication manager
 * is the ReplicaSet controller over converted objects: an RC's selector is a plain label map and
 * its status has the same fields.
 *
 * Not done: adoption of orphan pods that match the selector (knet controllers only manage
 * pods they created).
 */
import type { ReplicaSet, ReplicaSetCondition, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { forEachLimited, namespacedKey as key, type Controller, type ControllerContext } from './controller-context.js';
import { controllerRefOf } from './owner-references.js';
import { isPodActive, isPodAvailable, isPodReady, msUntilAvailable, podCondition } from './pod-conditions.js';
import { podFromTemplate, podsControlledBy } from './pod-template.js';
import { sameJson } from './canonical-json.js';
import { WorkQueue } from '../base/work-queue.js';
import { controlledBy, indexByOwner } from '../base/informer/indexes.js';
import { metaTime } from '../base/model/meta-time.js';
import { isNamespaceTerminating } from '../base/admission/write-plan.js';
import { omitEmpty } from '../base/model/omit-empty.js';

export const BURST_REPLICAS = 500;

export interface ReplicaSetPlan {
  create: number;
  /** Pods to delete, most deletable first. */
  delete: Pod[];
}

/** How many pods to make and which to delete. `related`: active pods of sibling ReplicaSets too. */
export function planReplicaSet(rs: ReplicaSet, owned: Pod[], related: Pod[] = owned): ReplicaSetPlan {
  const active = owned.filter(isPodActive);
  const want = rs.spec?.replicas ?? 1;
  const diff = active.length - want;
  if (diff < 0) return { create: Math.min(-diff, BURST_REPLICAS), delete: [] };
  if (diff > 0) return { create: 0, delete: rankForDeletion(active, related).slice(0, Math.min(diff, BURST_REPLICAS)) };
  return { create: 0, delete: [] };
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** Sorts pods most-deletable first, as ActivePodsWithRanks.Less. */
export function rankForDeletion(pods: Pod[], related: Pod[] = pods): Pod[] {
  const onNode = new Map<string, number>();
  for (const p of related) {
    const n = p.spec?.nodeName;
    if (n && isPodActive(p)) onNode.set(n, (onNode.get(n) ?? 0) + 1);
  }
  const phaseRank = (p: Pod) => PHASE_RANK[p.status?.phase ?? 'Pending'] ?? 0;
  const readySince = (p: Pod) => Date.parse(podCondition(p, 'Ready')?.lastTransitionTime ?? '') || 0;
  const restarts = (p: Pod) => Math.max(0, ...(p.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
  const created = (p: Pod) => Date.parse(p.metadata?.creationTimestamp ?? '') || Number.MAX_SAFE_INTEGER;
  return [...pods].sort((a, b) => {
    const assignedA = a.spec?.nodeName ? 1 : 0;
    const assignedB = b.spec?.nodeName ? 1 : 0;
    if (assignedA !== assignedB) return assignedA - assignedB;
    if (phaseRank(a) !== phaseRank(b)) return phaseRank(a) - phaseRank(b);
    const readyA = isPodReady(a) ? 1 : 0;
    const readyB = isPodReady(b) ? 1 : 0;
    if (readyA !== readyB) return readyA - readyB;
    const rankA = onNode.get(a.spec?.nodeName ?? '') ?? 0;
    const rankB = onNode.get(b.spec?.nodeName ?? '') ?? 0;
    if (rankA !== rankB) return rankB - rankA;
    if (readyA && readyB && readySince(a) !== readySince(b)) return readySince(b) - readySince(a);
    if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
    if (created(a) !== created(b)) return created(b) - created(a);
    return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
  });
}

/** The status a ReplicaSet should show for its pods, and when to look again for minReadySeconds. */
export function replicaSetStatus(rs: ReplicaSet, owned: Pod[], now: number, failure?: string): { status: ReplicaSetStatus; recheckMs?: number } {
  const active = owned.filter(isPodActive);
  const minReady = rs.spec?.minReadySeconds ?? 0;
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  let recheckMs: number | undefined;
  for (const p of active) {
    const left = msUntilAvailable(p, minReady, now);
    if (left !== undefined) recheckMs = Math.min(recheckMs ?? left, left);
  }
  const conditions: ReplicaSetCondition[] = [];
  const prior = rs.status?.conditions?.find((c) => c.type === 'ReplicaFailure');
  if (failure) {
    conditions.push({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: failure, lastTransitionTime: prior?.lastTransitionTime ?? metaTime(now) });
  }
  // ReplicaSetStatus: replicas is always written, the other counts are omitempty.
  const status: ReplicaSetStatus = omitEmpty({
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) => Object.entries(templateLabels).every(([k, v]) => p.metadata?.labels?.[k] === v)).length,
    readyReplicas: active.filter(isPodReady).length,
    availableReplicas: active.filter((p) => isPodAvailable(p, minReady, now)).length,
    observedGeneration: rs.metadata?.generation ?? 1,
    ...(conditions.length ? { conditions } : {}),
  }, ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']);
  return { status, recheckMs };
}

/** Who keeps which kind: the controller's name, its events' source, its expectation keys. */
const KEEPERS = {
  ReplicaSet: { name: 'replicaset', component: 'replicaset-controller', prefix: 'rs' },
  ReplicationController: { name: 'replicationmanager', component: 'replication-controller', prefix: 'rc' },
} as const;

export function startReplicaSetController(ctx: ControllerContext, kind: keyof typeof KEEPERS = 'ReplicaSet'): Controller {
  const keeper = KEEPERS[kind];
  const log = ctx.log.child(keeper.name);
  const events = ctx.recorder(keeper.component);
  const sets = indexByOwner(ctx.informers.informer<ReplicaSet>(kind));
  const pods = indexByOwner(ctx.informers.informer<Pod>('Pod'));
  const queue = new WorkQueue(keeper.name, reconcile, { log, concurrency: 4 });
  const enqueueOwner = (p: Pod) => {
    const ref = controllerRefOf(p);
    if (ref?.kind === kind) queue.add(`${p.metadata?.namespace}/${ref.name}`);
  };
  const unsubscribe = [
    sets.on({ add: (rs) => queue.add(key(rs)), update: (_o, rs) => queue.add(key(rs)), delete: (rs) => queue.add(key(rs)) }),
    pods.on({
      add: enqueueOwner,
      update: (o, p) => {
        enqueueOwner(p);
        if (controllerRefOf(o)?.uid !== controllerRefOf(p)?.uid) enqueueOwner(o);
      },
      delete: enqueueOwner,
    }),
  ];

  async function reconcile(k: string) {
    const [ns, name] = k.split('/') as [string, string];
    const rs = sets.get(ns, name);
    const expectKey = `${keeper.prefix}/${k}`;
    if (!rs) {
      ctx.writes.expectations.forget(expectKey);
      return;
    }
    if (!ctx.writes.expectations.satisfied(expectKey)) return { requeueAfterMs: ctx.writes.expectations.remainingMs(expectKey) + 10 };
    const owned = podsControlledBy(pods, rs);
    let failure: string | undefined;
    if (!rs.metadata?.deletionTimestamp) {
      const owner = controllerRefOf(rs);
      // Pods of every ReplicaSet of the same Deployment count when ranking doubled-up nodes.
      const siblingSets = owner ? controlledBy(sets, { metadata: { uid: owner.uid } }) : [rs];
      const siblings = siblingSets.flatMap((s) => podsControlledBy(pods, s));
      const plan = planReplicaSet(rs, owned, siblings);
      if (plan.create > 0) {
        const template = podFromTemplate(rs, rs.spec?.template);
        await forEachLimited(Array.from({ length: plan.create }), 50, async () => {
          const pod = await ctx.writes.createGenerated(expectKey, name, template);
          events.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata?.name}`);
        }).catch((err: Error) => {
          // A Terminating namespace: its namespace controller is deleting this ReplicaSet (upstream's NamespaceTerminatingCause).
          if (isNamespaceTerminating(err)) return;
          failure = err.message;
          events.record(rs, 'Warning', 'FailedCreate', `Error creating: ${err.message}`);
        });
      }
      await forEachLimited(plan.delete, 50, async (p) => {
        await ctx.writes.delete(expectKey, 'Pod', ns, p.metadata?.name ?? '');
        events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name}`);
      });
    }
    const { status, recheckMs } = replicaSetStatus(rs, owned, ctx.now(), failure);
    if (!sameJson(status, rs.status)) {
      await ctx.writes.mutate<ReplicaSet>(expectKey, kind, ns, name, (cur) => (cur.metadata?.uid === rs.metadata?.uid && !sameJson(cur.status, status) ? { ...cur, status } : undefined), { status: true });
    }
    if (failure) throw new Error(failure);
    return recheckMs !== undefined ? { requeueAfterMs: recheckMs + 5 } : undefined;
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      await queue.close();
    },
  };
}
