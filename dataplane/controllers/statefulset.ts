/**
 * The StatefulSet controller (pkg/controller/statefulset/stateful_set_control.go): pods
 * with stable identities `<sts>-<ordinal>`, hostname = pod name and subdomain = serviceName
 * (so the headless service gives each a DNS name), labels statefulset.kubernetes.io/pod-name,
 * apps.kubernetes.io/pod-index and controller-revision-hash.
 *
 * OrderedReady (default): ordinal n+1 is created only once n is Running and Ready (for
 * minReadySeconds); scale-down removes the highest ordinal first, one at a time, and only
 * while every other pod is healthy. Parallel: create and delete all at once. A missing or
 * failed pod is recreated with the same name (once the old one is gone). RollingUpdate
 * replaces pods whose revision differs, highest ordinal first, one at a time, down to the
 * partition; OnDelete leaves that to the user.
 *
 * volumeClaimTemplates: each pod's PersistentVolumeClaims are created before it, and the
 * retention policy is kept in the claims' ownerReferences (statefulset-claims.ts).
 *
 * Differences: knet has no ControllerRevision objects, so the revision is the hash of the
 * current template and a pod recreated below the partition gets the current template.
 */
import type { StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { namespacedKey as key, type Controller, type ControllerContext } from './controller-context.js';
import { controllerRefOf } from './owner-references.js';
import { isPodAvailable, isPodTerminal, isPodTerminating, isRunningAndReady, msUntilAvailable } from './pod-conditions.js';
import { podFromTemplate, podsControlledBy } from './pod-template.js';
import { templateHash } from './names.js';
import { sameJson } from './canonical-json.js';
import { WorkQueue } from '../base/work-queue.js';
import { inNamespace, indexByOwner } from '../base/informer/indexes.js';
import { StoreError } from '../base/store/errors.js';
import { LABEL_CONTROLLER_REVISION_HASH, LABEL_STATEFULSET_POD_NAME } from '../base/model/well-known.js';
import { isNamespaceTerminating, unlessNamespaceTerminating } from '../base/admission/write-plan.js';
import { omitEmpty } from '../base/model/omit-empty.js';
import { claimOwnerFixes, claimWithRetentionOwners, isClaimOfSet, missingClaims, podClaimIsStale, withClaimVolumes, type ClaimLookup, type ClaimOwnership, type ClaimToCreate } from './statefulset-claims.js';

export const POD_NAME_LABEL = LABEL_STATEFULSET_POD_NAME;
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const REVISION_LABEL = LABEL_CONTROLLER_REVISION_HASH;

export interface StatefulSetPlan {
  /** Claims to create first, each before the pod it is for. */
  claims: ClaimToCreate[];
  create: Pod[];
  /** Claims whose ownerReferences the retention policy changes; written before any delete. */
  claimOwners: ClaimOwnership[];
  delete: Pod[];
  status: StatefulSetStatus;
  /** Ms until a Ready pod becomes available (minReadySeconds). */
  recheckMs?: number;
}

export function updateRevision(sts: StatefulSet): string {
  return `${sts.metadata?.name}-${templateHash(sts.spec?.template, sts.status?.collisionCount)}`;
}

export function ordinalOf(sts: StatefulSet, pod: Pod): number | undefined {
  const prefix = `${sts.metadata?.name}-`;
  const name = pod.metadata?.name ?? '';
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

export function statefulPod(sts: StatefulSet, ordinal: number): Pod {
  const name = `${sts.metadata?.name}-${ordinal}`;
  const pod = podFromTemplate({ ...sts, apiVersion: 'apps/v1', kind: 'StatefulSet' }, sts.spec?.template, {
    name,
    labels: { [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_LABEL]: updateRevision(sts) },
  });
  return withClaimVolumes(sts, { ...pod, spec: { ...pod.spec!, hostname: name, subdomain: sts.spec?.serviceName } }, ordinal);
}

/**
 * One pass of the StatefulSet control loop over the pods it owns; `claimOf` reads the claims of
 * the set's namespace (none: a set without volumeClaimTemplates needs no lookup).
 */
export function planStatefulSet(sts: StatefulSet, owned: Pod[], now: number, claimOf: ClaimLookup = () => undefined): StatefulSetPlan {
  const replicas = sts.spec?.replicas ?? 1;
  const monotonic = (sts.spec?.podManagementPolicy ?? 'OrderedReady') !== 'Parallel';
  const minReady = sts.spec?.minReadySeconds ?? 0;
  const revision = updateRevision(sts);
  const byOrdinal = new Map<number, Pod>();
  for (const p of owned) {
    const o = ordinalOf(sts, p);
    if (o !== undefined) byOrdinal.set(o, p);
  }
  const healthy = (p: Pod) => !isPodTerminating(p) && isRunningAndReady(p) && isPodAvailable(p, minReady, now);
  const plan: StatefulSetPlan = { claims: [], create: [], claimOwners: [], delete: [], status: statefulSetStatus(sts, owned, revision, now) };
  for (const p of owned) {
    const left = msUntilAvailable(p, minReady, now);
    if (left !== undefined) plan.recheckMs = Math.min(plan.recheckMs ?? left, left);
  }
  if (sts.metadata?.deletionTimestamp) return plan;

  // 1. Replicas [0, replicas): create missing, replace finished, in order when monotonic.
  for (let i = 0; i < replicas; i++) {
    if (planReplica(plan, sts, i, byOrdinal.get(i), { monotonic, healthy, claimOf })) return plan;
  }

  // 2. Condemned ordinals >= replicas, highest first; first their claims get the owners the
  // retention policy gives a scaled-down pod's (whenScaled=Delete: the pod), then they go.
  const condemned = [...byOrdinal].filter(([o]) => o >= replicas).sort((a, b) => b[0] - a[0]);
  for (const [o, p] of condemned) plan.claimOwners.push(...claimOwnerFixes(sts, p, o, true, claimOf));
  if (condemned.length) {
    if (!monotonic) {
      plan.delete.push(...condemned.map(([, p]) => p).filter((p) => !isPodTerminating(p)));
      return plan;
    }
    const first = condemned[0]![1];
    if (isPodTerminating(first)) return plan;
    // Wait while any other pod is unhealthy, so scale-down never stacks on an outage.
    const others = owned.filter((p) => p !== first);
    if (others.some((p) => !healthy(p) && !(isPodTerminal(p) && (ordinalOf(sts, p) ?? 0) >= replicas))) return plan;
    plan.delete.push(first);
    return plan;
  }

  // 3. Rolling update: highest ordinal first, down to the partition, one at a time.
  if ((sts.spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return plan;
  const partition = sts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  for (let i = replicas - 1; i >= partition; i--) {
    const pod = byOrdinal.get(i);
    if (!pod) return plan;
    if (pod.metadata?.labels?.[REVISION_LABEL] !== revision) {
      if (!isPodTerminating(pod)) plan.delete.push(pod);
      return plan;
    }
    if (!healthy(pod)) return plan;
  }
  return plan;
}

/**
 * Step 1 for one ordinal below replicas (upstream's processReplica): true when the pass stops
 * here. A missing pod is created after its missing claims, unless a claim is stale (it waits;
 * the pass stops only when monotonic) or being deleted (the pass stops); a Pending pod gets
 * claims that went missing; a pod the pass gets past has its claims' owners put right.
 */
function planReplica(
  plan: StatefulSetPlan,
  sts: StatefulSet,
  ordinal: number,
  pod: Pod | undefined,
  o: { monotonic: boolean; healthy: (p: Pod) => boolean; claimOf: ClaimLookup },
): boolean {
  if (!pod) {
    const fresh = statefulPod(sts, ordinal);
    if (podClaimIsStale(sts, fresh, ordinal, o.claimOf)) return o.monotonic;
    const claims = missingClaims(sts, fresh, ordinal, o.claimOf);
    if (claims.deleting) return true;
    plan.claims.push(...claims.create);
    plan.create.push(fresh);
    return o.monotonic;
  }
  if (isPodTerminal(pod)) {
    // Replaced once gone; in the meantime nothing more is done for it.
    if (!isPodTerminating(pod)) plan.delete.push(pod);
    return o.monotonic;
  }
  const pending = pod.status?.phase === 'Pending';
  if (pending) {
    const claims = missingClaims(sts, pod, ordinal, o.claimOf);
    if (claims.deleting) return true;
    plan.claims.push(...claims.create);
  }
  const waits = o.monotonic && !o.healthy(pod);
  if (pending || !waits) plan.claimOwners.push(...claimOwnerFixes(sts, pod, ordinal, false, o.claimOf));
  return waits;
}

export function statefulSetStatus(sts: StatefulSet, owned: Pod[], revision: string, now: number): StatefulSetStatus {
  const minReady = sts.spec?.minReadySeconds ?? 0;
  const current = sts.status?.currentRevision ?? revision;
  const live = owned.filter((p) => !isPodTerminating(p));
  const updated = live.filter((p) => p.metadata?.labels?.[REVISION_LABEL] === revision).length;
  const replicas = sts.spec?.replicas ?? 1;
  // The update is complete once every replica runs the new revision: it becomes current.
  const done = updated === replicas && live.length === replicas;
  const currentRevision = done ? revision : current;
  // StatefulSetStatus: replicas and availableReplicas always written, the other counts omitempty.
  return omitEmpty({
    observedGeneration: sts.metadata?.generation ?? 1,
    replicas: owned.length,
    readyReplicas: owned.filter(isRunningAndReady).length,
    availableReplicas: owned.filter((p) => isRunningAndReady(p) && isPodAvailable(p, minReady, now)).length,
    currentReplicas: live.filter((p) => p.metadata?.labels?.[REVISION_LABEL] === currentRevision).length,
    updatedReplicas: updated,
    currentRevision,
    updateRevision: revision,
    collisionCount: sts.status?.collisionCount ?? 0,
  }, ['readyReplicas', 'currentReplicas', 'updatedReplicas']);
}

export function startStatefulSetController(ctx: ControllerContext): Controller {
  const log = ctx.log.child('statefulset');
  const events = ctx.recorder('statefulset-controller');
  const sets = ctx.informers.informer<StatefulSet>('StatefulSet');
  const pods = indexByOwner(ctx.informers.informer<Pod>('Pod'));
  const claims = ctx.informers.informer<PersistentVolumeClaim>('PersistentVolumeClaim');
  const queue = new WorkQueue('statefulset', reconcile, { log, concurrency: 2 });
  const enqueueOwner = (p: Pod) => {
    const ref = controllerRefOf(p);
    if (ref?.kind === 'StatefulSet') queue.add(`${p.metadata?.namespace}/${ref.name}`);
  };
  // A claim's set, by its name: a claim gone or changed may be what a pod waits for (a stale or deleting one).
  const enqueueClaimSets = (c: PersistentVolumeClaim) => {
    for (const s of inNamespace(sets, c.metadata?.namespace ?? '')) if (isClaimOfSet(s, c.metadata?.name ?? '')) queue.add(key(s));
  };
  const unsubscribe = [
    sets.on({ add: (s) => queue.add(key(s)), update: (_o, s) => queue.add(key(s)), delete: (s) => queue.add(key(s)) }),
    pods.on({ add: enqueueOwner, update: (_o, p) => enqueueOwner(p), delete: enqueueOwner }),
    claims.on({ add: enqueueClaimSets, update: (_o, c) => enqueueClaimSets(c), delete: enqueueClaimSets }),
  ];

  async function reconcile(k: string) {
    const [ns, name] = k.split('/') as [string, string];
    const sts = sets.get(ns, name);
    const expectKey = `sts/${k}`;
    if (!sts) {
      ctx.writes.expectations.forget(expectKey);
      return;
    }
    if (!ctx.writes.expectations.satisfied(expectKey)) return { requeueAfterMs: ctx.writes.expectations.remainingMs(expectKey) + 10 };
    const owned = podsControlledBy(pods, sts);
    const plan = planStatefulSet(sts, owned, ctx.now(), (claim) => claims.get(ns, claim));
    for (const c of plan.claims) {
      if (!(await createClaim(sts, c, expectKey))) return; // a Terminating namespace
    }
    for (const pod of plan.create) {
      const created = await ctx.writes.create(expectKey, pod).catch(unlessNamespaceTerminating);
      if (!created) return; // a Terminating namespace: nothing more to create
      events.record(sts, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata?.name} in StatefulSet ${name} successful`);
    }
    for (const fix of plan.claimOwners) {
      await ctx.writes.mutate<PersistentVolumeClaim>(expectKey, 'PersistentVolumeClaim', ns, fix.claim, (cur) => claimWithRetentionOwners(cur, sts, fix.pod, fix.scaledDown));
      if (fix.conflicting) events.record(sts, 'Warning', 'ConflictingController', `PersistentVolumeClaim ${fix.claim} has a conflicting OwnerReference that acts as a manging controller, the retention policy is ignored for this claim`);
    }
    for (const pod of plan.delete) {
      await ctx.writes.delete(expectKey, 'Pod', ns, pod.metadata!.name!);
      events.record(sts, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata?.name} in StatefulSet ${name} successful`);
    }
    if (!sameJson(plan.status, sts.status)) {
      await ctx.writes.mutate<StatefulSet>(expectKey, 'StatefulSet', ns, name, (cur) => (cur.metadata?.uid === sts.metadata?.uid ? { ...cur, status: plan.status } : undefined), { status: true });
    }
    return plan.recheckMs !== undefined ? { requeueAfterMs: plan.recheckMs + 5 } : undefined;
  }

  /**
   * Creates a pod's claim (createPersistentVolumeClaims), with upstream's events; false when the
   * namespace is Terminating. One that exists already (the cache was behind) is left as it is.
   */
  async function createClaim(sts: StatefulSet, { claim, pod }: ClaimToCreate, expectKey: string): Promise<boolean> {
    const setName = sts.metadata?.name;
    const claimName = claim.metadata?.name;
    try {
      await ctx.writes.create(expectKey, claim);
    } catch (err) {
      if (err instanceof StoreError && err.reason === 'AlreadyExists') return true;
      if (isNamespaceTerminating(err)) return false;
      const why = (err as Error).message;
      events.record(sts, 'Warning', 'FailedCreate', `create Claim ${claimName} for Pod ${pod} in StatefulSet ${setName} failed error: ${why}`);
      events.record(sts, 'Warning', 'FailedCreate', `create Pod ${pod} in StatefulSet ${setName} failed error: failed to create PVC ${claimName}: ${why}`);
      throw err;
    }
    events.record(sts, 'Normal', 'SuccessfulCreate', `create Claim ${claimName} Pod ${pod} in StatefulSet ${setName} success`);
    return true;
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      await queue.close();
    },
  };
}
