/**
 * The scheduler (kube-scheduler's default profile, reduced to what a loopback cluster needs):
 * binds each Pod without spec.nodeName to a Ready node.
 *
 * PreFilter: pod-claims.ts (the pod's PersistentVolumeClaims exist and are bound, or wait for
 * their first consumer).
 * Filter: node-fit.ts (readiness, cordon, nodeSelector, required node affinity, taints, and
 * NodePorts: no two pods with the same host port on one node — a hostNetwork pod's ports are
 * host ports).
 * Score: fewest pods of the same controller (spreading a ReplicaSet across nodes, as the
 * default topology spread does), then fewest pods overall, then node name.
 * Bind: one write that sets spec.nodeName and the PodScheduled=True condition, as the binding
 * subresource does, plus a "Scheduled" event. No node fits: the pod stays Pending with
 * PodScheduled=False/Unschedulable and a FailedScheduling event naming why, and is retried
 * when a node changes (and every 10 s).
 *
 * Pods bound here but not yet seen back through the watch are "assumed" on their node (from
 * the moment of decision, before the write) so a burst of pods is spread by counts that
 * include each other, as the scheduler cache does, while several binds are in flight.
 */
import type { Node, PersistentVolumeClaim, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { podClaimsProblem, preFilterMessage } from './pod-claims.js';
import { StoreError } from '../base/store/errors.js';
import type { ControllerContext, Controller } from './controller-context.js';
import { controllerRefOf } from './owner-references.js';
import { isPodTerminal, withCondition } from './pod-conditions.js';
import { hostPortConflict, hostPorts, podFitFailure, unschedulableMessage, type FitFailure } from './node-fit.js';
import { WorkQueue } from '../base/work-queue.js';
import { bindPod } from '../base/admission/pod-binding.js';
import type { IndexFunc } from '../base/informer/indexer.js';
import { indexByOwner, OWNER_UID_INDEX } from '../base/informer/indexes.js';
import { metaTime } from '../base/model/meta-time.js';

export type SchedulingDecision = { nodeName: string } | { unschedulable: string };

/**
 * What the filter and score need of a node's pods: the live ones bound (or assumed) there, for
 * the NodePorts filter; how many are alive there, and how many of them share the pod's controller.
 */
export interface NodeLoad {
  podsOn(nodeName: string): Pod[];
  total(nodeName: string): number;
  sameOwner(nodeName: string): number;
}

/** A NodeLoad counted from a list of bound pods, for `pod`'s controller. */
export function nodeLoadOf(podsOnNodes: Pod[], pod: Pod): NodeLoad {
  const owner = controllerRefOf(pod)?.uid;
  const total = new Map<string, number>();
  const sameOwner = new Map<string, number>();
  for (const p of podsOnNodes) {
    const n = p.spec?.nodeName;
    if (!n || isPodTerminal(p)) continue;
    total.set(n, (total.get(n) ?? 0) + 1);
    if (owner && controllerRefOf(p)?.uid === owner) sameOwner.set(n, (sameOwner.get(n) ?? 0) + 1);
  }
  const byNode = new Map<string, Pod[]>();
  for (const p of podsOnNodes) {
    const n = p.spec?.nodeName;
    if (!n) continue;
    const list = byNode.get(n);
    if (list) list.push(p);
    else byNode.set(n, [p]);
  }
  return { podsOn: (n) => byNode.get(n) ?? [], total: (n) => total.get(n) ?? 0, sameOwner: (n) => sameOwner.get(n) ?? 0 };
}

/** Where a pod lands: the pure core of the scheduler. `load`: the pods bound to nodes, or their counts. */
export function schedulePod(pod: Pod, nodes: Node[], load: Pod[] | NodeLoad): SchedulingDecision {
  const failures: Array<{ reason: FitFailure; detail?: string }> = [];
  const feasible: Node[] = [];
  const counts = Array.isArray(load) ? nodeLoadOf(load, pod) : load;
  const wantsHostPorts = hostPorts(pod).length > 0;
  for (const node of nodes) {
    const portsTaken = wantsHostPorts && hostPortConflict(pod, counts.podsOn(node.metadata?.name ?? ''));
    const failure = podFitFailure(pod, node) ?? (portsTaken ? { reason: 'ports' as const } : undefined);
    if (failure) failures.push(failure);
    else feasible.push(node);
  }
  if (feasible.length === 0) return { unschedulable: unschedulableMessage(nodes.length, failures) };
  const score = (n: Node) => [counts.sameOwner(n.metadata!.name!), counts.total(n.metadata!.name!)] as const;
  feasible.sort((a, b) => {
    const [sa, ta] = score(a);
    const [sb, tb] = score(b);
    return sa - sb || ta - tb || a.metadata!.name!.localeCompare(b.metadata!.name!, 'en', { numeric: true });
  });
  return { nodeName: feasible[0]!.metadata!.name! };
}

/** Pods the scheduler should act on: unbound, alive, for the default scheduler. */
export function needsScheduling(pod: Pod): boolean {
  if (pod.spec?.nodeName || pod.metadata?.deletionTimestamp || isPodTerminal(pod)) return false;
  const name = pod.spec?.schedulerName;
  return !name || name === 'default-scheduler';
}

const RETRY_UNSCHEDULABLE_MS = 10_000;

/** The scheduler's own index: live (not finished) pods by the node they are bound to. */
const ACTIVE_ON_NODE_INDEX = 'scheduler:active-pods-by-node';
const indexActiveOnNode: IndexFunc<Pod> = (p) => (p.spec?.nodeName && !isPodTerminal(p) ? [p.spec.nodeName] : []);

export function startScheduler(ctx: ControllerContext): Controller {
  const log = ctx.log.child('scheduler');
  const events = ctx.recorder('default-scheduler');
  const pods = indexByOwner(ctx.informers.informer<Pod>('Pod'));
  pods.addIndexers({ [ACTIVE_ON_NODE_INDEX]: indexActiveOnNode });
  const nodes = ctx.informers.informer<Node>('Node');
  const claims = ctx.informers.informer<PersistentVolumeClaim>('PersistentVolumeClaim');
  const storageClasses = ctx.informers.informer<StorageClass>('StorageClass');
  const claimLookup = { claim: (ns: string, n: string) => claims.get(ns, n), storageClass: (n: string) => storageClasses.get(undefined, n) };
  const assumed = new Map<string, Pod>();
  /** Pods found unschedulable, retried when an assigned pod goes (it may have held what they need). */
  const unschedulable = new Set<string>();
  const retryUnschedulable = () => {
    for (const k of unschedulable) queue.add(k);
  };
  const keyOf = (p: Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;

  // Several binds in flight; decisions stay sequential (each is synchronous up to its write).
  const queue = new WorkQueue('scheduler', reconcile, { log, concurrency: 16 });
  const enqueuePending = () => {
    for (const p of pods.list()) if (needsScheduling(p)) queue.add(keyOf(p));
  };
  const unsubscribe = [
    pods.on({
      add: (p) => needsScheduling(p) && queue.add(keyOf(p)),
      update: (o, p) => {
        if (p.spec?.nodeName) assumed.delete(keyOf(p));
        if (needsScheduling(p)) queue.add(keyOf(p));
        // A pod that finished frees what it held (host ports): pending pods may fit now.
        else if (p.spec?.nodeName && isPodTerminal(p) && !isPodTerminal(o)) retryUnschedulable();
      },
      delete: (p) => {
        assumed.delete(keyOf(p));
        unschedulable.delete(keyOf(p));
        // An assigned pod's deletion frees its node (upstream's AssignedPodDelete requeues unschedulable pods).
        if (p.spec?.nodeName) retryUnschedulable();
      },
    }),
    nodes.on({
      add: () => enqueuePending(),
      update: (o, n) => {
        const relevant = JSON.stringify([o.status?.conditions?.map((c) => [c.type, c.status]), o.spec, o.metadata?.labels]) !==
          JSON.stringify([n.status?.conditions?.map((c) => [c.type, c.status]), n.spec, n.metadata?.labels]);
        if (relevant) enqueuePending();
      },
    }),
    // A claim created or bound may let its pods schedule (upstream's PVC add/update cluster events).
    claims.on({ add: () => retryUnschedulable(), update: () => retryUnschedulable() }),
  ];

  async function reconcile(key: string) {
    const [ns, name] = key.split('/') as [string, string];
    const pod = pods.get(ns, name);
    unschedulable.delete(key);
    if (!pod || !needsScheduling(pod) || assumed.get(key)?.metadata?.uid === pod.metadata?.uid) return;
    const claimProblem = podClaimsProblem(pod, claimLookup);
    const decision: SchedulingDecision = claimProblem ? { unschedulable: preFilterMessage(nodes.list().length, claimProblem) } : schedulePod(pod, nodes.list(), loadFor(pod));
    if ('nodeName' in decision) {
      // Assume before writing: reconciles of other pods decide while this write is in flight.
      assumed.set(key, { ...pod, spec: { ...pod.spec!, nodeName: decision.nodeName } });
      let done: Pod | undefined;
      try {
        done = await bind(pod, decision.nodeName);
      } finally {
        if (!done) assumed.delete(key);
      }
      if (done) {
        events.record(done, 'Normal', 'Scheduled', `Successfully assigned ${key} to ${decision.nodeName}`, { action: 'Binding' });
        log.debug('bound', { pod: key, node: decision.nodeName });
      }
      return;
    }
    unschedulable.add(key);
    await markUnschedulable(pod, decision.unschedulable);
    return { requeueAfterMs: RETRY_UNSCHEDULABLE_MS };
  }

  /**
   * The node counts for `pod` from the indexes: bound pods per node, its siblings (same
   * controller) per node, plus the pods assumed on a node whose binding the cache has not seen.
   */
  function loadFor(pod: Pod): NodeLoad {
    const owner = controllerRefOf(pod)?.uid;
    const siblings = owner ? pods.byIndex(OWNER_UID_INDEX, owner).filter((p) => !assumed.has(keyOf(p))) : [];
    const sameOwner = nodeLoadOf([...siblings, ...assumed.values()], pod);
    const pending = nodeLoadOf([...assumed.values()], pod);
    const podsOn = (n: string) => [...pods.byIndex(ACTIVE_ON_NODE_INDEX, n).filter((p) => !assumed.has(keyOf(p))), ...pending.podsOn(n)];
    return { podsOn, total: (n) => pods.countByIndex(ACTIVE_ON_NODE_INDEX, n) + pending.total(n), sameOwner: sameOwner.sameOwner };
  }

  /** spec.nodeName and PodScheduled=True in one write, as POST pods/binding does. */
  async function bind(pod: Pod, nodeName: string): Promise<Pod | undefined> {
    // First try against the cached object (one round trip); on a conflict, read it fresh.
    let current: Pod | undefined = pod;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (attempt > 0) current = await ctx.store.get<Pod>('Pod', pod.metadata?.namespace, pod.metadata?.name ?? '');
      if (!current || current.metadata?.uid !== pod.metadata?.uid || !needsScheduling(current)) return undefined;
      try {
        return await bindPod(ctx.store, current, nodeName, metaTime(ctx.now()));
      } catch (err) {
        if (err instanceof StoreError && err.reason === 'Conflict') continue;
        if (err instanceof StoreError && err.reason === 'NotFound') return undefined;
        throw err;
      }
    }
    throw new Error(`could not bind pod ${pod.metadata?.namespace}/${pod.metadata?.name}: it kept changing`);
  }

  async function markUnschedulable(pod: Pod, message: string) {
    const cond = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message };
    const have = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (have?.status !== 'False' || have.reason !== cond.reason || have.message !== message || pod.status?.phase !== 'Pending') {
      await ctx.writes.mutate<Pod>(
        `scheduler/${pod.metadata?.namespace}/${pod.metadata?.name}`,
        'Pod',
        pod.metadata?.namespace,
        pod.metadata?.name ?? '',
        (p) => {
          if (p.metadata?.uid !== pod.metadata?.uid || !needsScheduling(p)) return undefined;
          const conditions = withCondition<PodCondition>(p.status?.conditions, cond, metaTime(ctx.now()));
          return { ...p, status: { ...p.status, phase: 'Pending', conditions } };
        },
        { status: true },
      );
    }
    events.record(pod, 'Warning', 'FailedScheduling', message, { action: 'Scheduling' });
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      await queue.close();
    },
  };
}
