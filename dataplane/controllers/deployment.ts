/**
 * The Deployment controller's loop: Deployment → one ReplicaSet per pod template
 * (`<deploy>-<pod-template-hash>`), scaled step by step as deployment-rollout.ts decides,
 * status as deployment-status.ts computes. `kubectl rollout restart` is only a template
 * annotation change, so it is an ordinary rollout here.
 *
 * Woken by its Deployments, their ReplicaSets, and the pods of those ReplicaSets (pod
 * readiness is what lets a rolling update advance).
 */
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { StoreError } from '../base/store/errors.js';
import { namespacedKey as key, type Controller, type ControllerContext } from './controller-context.js';
import { controllerRefOf, isControlledBy } from './owner-references.js';
import { isPodTerminal } from './pod-conditions.js';
import { podsControlledBy } from './pod-template.js';
import { replicaSetStatus } from './replicaset.js';
import { planRollout, REVISION, revisionOf, runsTemplate, splitSets, type RSInfo, type ScaleStep } from './deployment-rollout.js';
import { deploymentStatus } from './deployment-status.js';
import { sameJson } from './canonical-json.js';
import { WorkQueue } from '../base/work-queue.js';
import type { Informer } from '../base/informer/informer-types.js';
import { controlledBy, indexByOwner } from '../base/informer/indexes.js';
import { isNamespaceTerminating } from '../base/admission/write-plan.js';

/** createReplicaSet's answer when the namespace is Terminating: nothing to create. */
const NAMESPACE_TERMINATING = 'namespace-terminating';

/** What the pods of each ReplicaSet say, and the soonest a pod turns available. */
export function replicaSetInfos(sets: ReplicaSet[], pods: Pod[] | Informer<Pod>, now: number): { infos: RSInfo[]; recheckMs?: number } {
  let recheckMs: number | undefined;
  const infos = sets.map((rs) => {
    const owned = podsControlledBy(pods, rs);
    const { status, recheckMs: r } = replicaSetStatus(rs, owned, now);
    if (r !== undefined) recheckMs = Math.min(recheckMs ?? r, r);
    return { rs, active: status.replicas, ready: status.readyReplicas ?? 0, available: status.availableReplicas ?? 0, running: owned.filter((p) => !isPodTerminal(p)).length };
  });
  return { infos, recheckMs };
}

export function startDeploymentController(ctx: ControllerContext): Controller {
  const log = ctx.log.child('deployment');
  const events = ctx.recorder('deployment-controller');
  const deployments = ctx.informers.informer<Deployment>('Deployment');
  const sets = indexByOwner(ctx.informers.informer<ReplicaSet>('ReplicaSet'));
  const pods = indexByOwner(ctx.informers.informer<Pod>('Pod'));
  const queue = new WorkQueue('deployment', reconcile, { log, concurrency: 2 });

  const enqueueOwnerOfSet = (rs: ReplicaSet | undefined) => {
    const ref = controllerRefOf(rs);
    if (rs && ref?.kind === 'Deployment') queue.add(`${rs.metadata?.namespace}/${ref.name}`);
  };
  const enqueueForPod = (p: Pod) => {
    const ref = controllerRefOf(p);
    if (ref?.kind === 'ReplicaSet') enqueueOwnerOfSet(sets.get(p.metadata?.namespace, ref.name));
  };
  const unsubscribe = [
    deployments.on({ add: (d) => queue.add(key(d)), update: (_o, d) => queue.add(key(d)), delete: (d) => queue.add(key(d)) }),
    sets.on({ add: enqueueOwnerOfSet, update: (_o, rs) => enqueueOwnerOfSet(rs), delete: enqueueOwnerOfSet }),
    pods.on({ add: enqueueForPod, update: (_o, p) => enqueueForPod(p), delete: enqueueForPod }),
  ];

  async function reconcile(k: string) {
    const [ns, name] = k.split('/') as [string, string];
    const d = deployments.get(ns, name);
    const expectKey = `deploy/${k}`;
    if (!d) {
      ctx.writes.expectations.forget(expectKey);
      return;
    }
    if (!ctx.writes.expectations.satisfied(expectKey)) return { requeueAfterMs: ctx.writes.expectations.remainingMs(expectKey) + 10 };
    const now = ctx.now();
    const owned = controlledBy(sets, d);
    const { infos, recheckMs: podRecheck } = replicaSetInfos(owned, pods, now);
    const step = planRollout(d, infos);
    let createdName: string | undefined;

    if (step.refresh) {
      const { annotations, minReadySeconds } = step.refresh;
      await ctx.writes.mutate<ReplicaSet>(expectKey, 'ReplicaSet', ns, step.refresh.rs.metadata!.name!, (rs) => ({
        ...rs,
        metadata: { ...rs.metadata, annotations },
        spec: { ...rs.spec!, minReadySeconds },
      }));
    }
    if (step.create) {
      const created = await createReplicaSet(d, step.create, expectKey);
      if (created === NAMESPACE_TERMINATING) return; // its namespace controller is deleting the Deployment
      if (!created) return { requeueAfterMs: 10 };
      createdName = created.metadata!.name!;
      const replicas = created.spec?.replicas ?? 0;
      if (replicas > 0) events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${createdName} from 0 to ${replicas}`);
    }
    for (const s of step.scale) await scale(d, s, expectKey);
    for (const rs of step.cleanup) await ctx.writes.delete(expectKey, 'ReplicaSet', ns, rs.metadata!.name!);

    // The Deployment carries its newest ReplicaSet's revision, as upstream does.
    const newSet = splitSets(d, infos).newSet;
    const revision = createdName
      ? step.create!.metadata!.annotations![REVISION]
      : step.refresh
        ? step.refresh.annotations[REVISION]
        : newSet
          ? String(revisionOf(newSet.rs))
          : undefined;
    if (revision && revision !== '0' && d.metadata?.annotations?.[REVISION] !== revision) {
      await ctx.writes.mutate<Deployment>(expectKey, 'Deployment', ns, name, (cur) =>
        cur.metadata?.uid === d.metadata?.uid ? { ...cur, metadata: { ...cur.metadata, annotations: { ...cur.metadata?.annotations, [REVISION]: revision } } } : undefined,
      );
    }

    const { status, recheckMs } = deploymentStatus({ d, sets: infos, newSet, now, createdName });
    if (!sameJson(status, d.status)) {
      await ctx.writes.mutate<Deployment>(expectKey, 'Deployment', ns, name, (cur) => (cur.metadata?.uid === d.metadata?.uid ? { ...cur, status } : undefined), { status: true });
    }
    const wait = [podRecheck, recheckMs].filter((n): n is number => n !== undefined);
    return wait.length ? { requeueAfterMs: Math.min(...wait) + 5 } : undefined;
  }

  /** Creates the new ReplicaSet (undefined: look again soon); on a name taken by a different template, bumps collisionCount. */
  async function createReplicaSet(d: Deployment, rs: ReplicaSet, expectKey: string): Promise<ReplicaSet | undefined | typeof NAMESPACE_TERMINATING> {
    const ns = d.metadata?.namespace;
    try {
      return await ctx.writes.create(expectKey, rs);
    } catch (err) {
      if (isNamespaceTerminating(err)) return NAMESPACE_TERMINATING;
      if (!(err instanceof StoreError && err.reason === 'AlreadyExists')) throw err;
      const existing = await ctx.store.get<ReplicaSet>('ReplicaSet', ns, rs.metadata!.name!);
      if (existing && isControlledBy(existing, d) && runsTemplate(existing, d)) return undefined; // the cache is behind: retry
      log.warn('pod template hash collision; bumping collisionCount', { deployment: `${ns}/${d.metadata?.name}`, replicaSet: rs.metadata?.name });
      await ctx.writes.mutate<Deployment>(expectKey, 'Deployment', ns, d.metadata!.name!, (cur) => ({ ...cur, status: { ...cur.status, collisionCount: (cur.status?.collisionCount ?? 0) + 1 } }), { status: true });
      return undefined;
    }
  }

  async function scale(d: Deployment, s: ScaleStep, expectKey: string): Promise<void> {
    const from = s.rs.spec?.replicas ?? 0;
    await ctx.writes.mutate<ReplicaSet>(expectKey, 'ReplicaSet', s.rs.metadata?.namespace, s.rs.metadata!.name!, (rs) => {
      if (rs.metadata?.uid !== s.rs.metadata?.uid) return undefined;
      const annotations = { ...rs.metadata?.annotations, ...s.annotations };
      if (rs.spec?.replicas === s.replicas && sameJson(annotations, rs.metadata?.annotations)) return undefined;
      return { ...rs, metadata: { ...rs.metadata, annotations }, spec: { ...rs.spec!, replicas: s.replicas } };
    });
    if (from !== s.replicas) {
      const dir = s.replicas > from ? 'up' : 'down';
      events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled ${dir} replica set ${s.rs.metadata?.name} from ${from} to ${s.replicas}`);
    }
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      await queue.close();
    },
  };
}
