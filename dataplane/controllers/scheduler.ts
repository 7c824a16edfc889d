/**
 * The scheduler (kube-scheduler's default profile, reduced to what a loopback cluster needs):
 * binds each Pod without spec.nodeName to a node. This file is the shell: informers, the work
 * queue, the cluster view the pure core reads (scheduling/cluster-view.ts, served by the
 * informers' indexes), and the writes.
 *
 * PreFilter: pod-claims.ts (the pod's PersistentVolumeClaims exist and are bound, or wait for
 * their first consumer).
 * Filter and Score: scheduling/schedule-pod.ts (node fit, NodePorts, PodTopologySpread,
 * InterPodAffinity; preferred node affinity, PreferNoSchedule taints, spreading and pod
 * affinity scores combined with the default weights).
 * Bind: one write that sets spec.nodeName and the PodScheduled=True condition, as the binding
 * subresource does, plus a "Scheduled" event. No node fits: the pod stays Pending with
 * PodScheduled=False/Unschedulable and a FailedScheduling event naming why, and is retried
 * when a node changes, when a pod is bound, relabelled, finishes or goes (it may be what the
 * pod's affinity or spreading waits for), and every 10 s.
 *
 * Pods bound here but not yet seen back through the watch are "assumed" on their node (from
 * the moment of decision, before the write) so a burst of pods is spread by counts that
 * include each other, as the scheduler cache does, while several binds are in flight.
 */
import type { ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Namespace, Node, PersistentVolumeClaim, Pod, PodCondition, ReplicationController, Service } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { podClaimsProblem, preFilterMessage } from './pod-claims.js';
import { StoreError } from '../base/store/errors.js';
import type { ControllerContext, Controller } from './controller-context.js';
import { isPodTerminal, withCondition } from './pod-conditions.js';
import { WorkQueue } from '../base/work-queue.js';
import { bindPod } from '../base/admission/pod-binding.js';
import type { IndexFunc } from '../base/informer/indexer.js';
import { ensureLabelIndex, inNamespace, labelIndexValue } from '../base/informer/indexes.js';
import { metaTime } from '../base/model/meta-time.js';
import type { Requirement } from '../base/model/selector.js';
import { hasPodAffinity, isLiveBound, ownerSelectorOf, type ClusterView } from './scheduling/cluster-view.js';
import { schedulePod, type SchedulingDecision } from './scheduling/schedule-pod.js';

export { schedulePod, type SchedulingDecision } from './scheduling/schedule-pod.js';

/** Pods the scheduler should act on: unbound, alive, for the default scheduler. */
export function needsScheduling(pod: Pod): boolean {
  if (pod.spec?.nodeName || pod.metadata?.deletionTimestamp || isPodTerminal(pod)) return false;
  const name = pod.spec?.schedulerName;
  return !name || name === 'default-scheduler';
}

const RETRY_UNSCHEDULABLE_MS = 10_000;

/** The scheduler's own index: live (not finished) pods by the node they are bound to. */
const ACTIVE_ON_NODE_INDEX = 'scheduler:active-pods-by-node';
const indexActiveOnNode: IndexFunc<Pod> = (p) => (isLiveBound(p) ? [p.spec!.nodeName!] : []);
/** Those of them with pod (anti-)affinity: what the symmetric anti-affinity check and the affinity score read. */
const AFFINITY_ON_NODE_INDEX = 'scheduler:affinity-pods-by-node';
const indexAffinityOnNode: IndexFunc<Pod> = (p) => (isLiveBound(p) && hasPodAffinity(p) ? [p.spec!.nodeName!] : []);

export function startScheduler(ctx: ControllerContext): Controller {
  const log = ctx.log.child('scheduler');
  const events = ctx.recorder('default-scheduler');
  const pods = ctx.informers.informer<Pod>('Pod');
  pods.addIndexers({ [ACTIVE_ON_NODE_INDEX]: indexActiveOnNode, [AFFINITY_ON_NODE_INDEX]: indexAffinityOnNode });
  const nodes = ctx.informers.informer<Node>('Node');
  const namespaces = ctx.informers.informer<Namespace>('Namespace');
  const selecting = {
    services: ctx.informers.informer<Service>('Service'),
    replicaSets: ctx.informers.informer<ReplicaSet>('ReplicaSet'),
    replicationControllers: ctx.informers.informer<ReplicationController>('ReplicationController'),
    statefulSets: ctx.informers.informer<StatefulSet>('StatefulSet'),
  };
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
      add: (p) => {
        if (needsScheduling(p)) queue.add(keyOf(p));
        // An assigned pod may be what a pending pod's affinity waits for (upstream's AssignedPodAdd).
        else if (isLiveBound(p)) retryUnschedulable();
      },
      update: (o, p) => {
        if (p.spec?.nodeName) assumed.delete(keyOf(p));
        if (needsScheduling(p)) queue.add(keyOf(p));
        // A pod that finished frees what it held (host ports, its place in a spread or an
        // anti-affinity domain); one newly bound or relabelled may satisfy an affinity.
        else if (p.spec?.nodeName && isPodTerminal(p) && !isPodTerminal(o)) retryUnschedulable();
        else if (isLiveBound(p) && (!o.spec?.nodeName || JSON.stringify(o.metadata?.labels) !== JSON.stringify(p.metadata?.labels))) retryUnschedulable();
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
    const decision: SchedulingDecision = claimProblem ? { unschedulable: preFilterMessage(nodes.list().length, claimProblem, pod) } : schedulePod(pod, clusterView());
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
   * The cluster as the filters and scores see it: nodes, and pods read through the indexes —
   * bound pods per node, plus the pods assumed on a node whose binding the cache has not seen.
   */
  function clusterView(): ClusterView {
    const nodeList = nodes.list();
    const byName = new Map(nodeList.map((n) => [n.metadata?.name ?? '', n]));
    const assumedOn = new Map<string, Pod[]>();
    for (const p of assumed.values()) assumedOn.set(p.spec!.nodeName!, [...(assumedOn.get(p.spec!.nodeName!) ?? []), p]);
    const cached = (index: string, n: string) => pods.byIndex(index, n).filter((p) => !assumed.has(keyOf(p)));
    return {
      nodes: nodeList,
      node: (n) => byName.get(n),
      podsOn: (n) => [...cached(ACTIVE_ON_NODE_INDEX, n), ...(assumedOn.get(n) ?? [])],
      podsWithAffinityOn: (n) => [...cached(AFFINITY_ON_NODE_INDEX, n), ...(assumedOn.get(n) ?? []).filter(hasPodAffinity)],
      podsMatching: (ns, reqs) => candidates(ns, reqs).map((p) => assumed.get(keyOf(p)) ?? p).filter(isLiveBound),
      namespaceLabels: (ns) => namespaces.get(undefined, ns)?.metadata?.labels,
      namespaceNames: () => namespaces.list().map((n) => n.metadata?.name ?? ''),
      ownerSelector: (pod) => {
        const ns = pod.metadata?.namespace ?? 'default';
        return ownerSelectorOf(pod, {
          services: inNamespace(selecting.services, ns),
          replicaSets: inNamespace(selecting.replicaSets, ns),
          replicationControllers: inNamespace(selecting.replicationControllers, ns),
          statefulSets: inNamespace(selecting.statefulSets, ns),
        });
      },
    };
  }

  /** The pods of a namespace a selector may match: through the label index of its narrowest `In` requirement, else the namespace's. */
  function candidates(ns: string, reqs: readonly Requirement[]): Pod[] {
    let best: { index: string; values: string[]; count: number } | undefined;
    for (const r of reqs) {
      if (r.operator !== 'In' && r.operator !== 'Equals') continue;
      const index = ensureLabelIndex(pods, r.key);
      const count = r.values.reduce((sum, v) => sum + pods.countByIndex(index, labelIndexValue(ns, v)), 0);
      if (!best || count < best.count) best = { index, values: r.values, count };
    }
    if (!best) return inNamespace(pods, ns);
    return best.values.flatMap((v) => pods.byIndex(best.index, labelIndexValue(ns, v)));
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
