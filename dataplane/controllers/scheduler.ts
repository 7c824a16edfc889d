/**
 * The scheduler (kube-scheduler's default profile, reduced to what a loopback cluster needs):
 * binds each Pod without spec.nodeName to a Ready node.
 *
 * Filter: node-fit.ts (readiness, cordon, nodeSelector, required node affinity, taints).
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
import type { Node, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { StoreError } from '../store/errors.js';
import type { ControllerContext, Controller } from './controller-context.js';
import { controllerRefOf } from './owner-references.js';
import { isPodTerminal, withCondition } from './pod-conditions.js';
import { podFitFailure, unschedulableMessage, type FitFailure } from './node-fit.js';
import { WorkQueue } from '../work-queue.js';

export type SchedulingDecision = { nodeName: string } | { unschedulable: string };

/** Where a pod lands: the pure core of the scheduler. */
export function schedulePod(pod: Pod, nodes: Node[], podsOnNodes: Pod[]): SchedulingDecision {
  const failures: Array<{ reason: FitFailure; detail?: string }> = [];
  const feasible: Node[] = [];
  for (const node of nodes) {
    const failure = podFitFailure(pod, node);
    if (failure) failures.push(failure);
    else feasible.push(node);
  }
  if (feasible.length === 0) return { unschedulable: unschedulableMessage(nodes.length, failures) };
  const owner = controllerRefOf(pod)?.uid;
  const total = new Map<string, number>();
  const sameOwner = new Map<string, number>();
  for (const p of podsOnNodes) {
    const n = p.spec?.nodeName;
    if (!n || isPodTerminal(p)) continue;
    total.set(n, (total.get(n) ?? 0) + 1);
    if (owner && controllerRefOf(p)?.uid === owner) sameOwner.set(n, (sameOwner.get(n) ?? 0) + 1);
  }
  const score = (n: Node) => [sameOwner.get(n.metadata!.name!) ?? 0, total.get(n.metadata!.name!) ?? 0] as const;
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

export function startScheduler(ctx: ControllerContext): Controller {
  const log = ctx.log.child('scheduler');
  const events = ctx.recorder('default-scheduler');
  const pods = ctx.informers.informer<Pod>('Pod');
  const nodes = ctx.informers.informer<Node>('Node');
  const assumed = new Map<string, Pod>();
  const keyOf = (p: Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;

  // Several binds in flight; decisions stay sequential (each is synchronous up to its write).
  const queue = new WorkQueue('scheduler', reconcile, { log, concurrency: 16 });
  const enqueuePending = () => {
    for (const p of pods.list()) if (needsScheduling(p)) queue.add(keyOf(p));
  };
  const unsubscribe = [
    pods.on({
      add: (p) => needsScheduling(p) && queue.add(keyOf(p)),
      update: (_o, p) => {
        if (p.spec?.nodeName) assumed.delete(keyOf(p));
        if (needsScheduling(p)) queue.add(keyOf(p));
      },
      delete: (p) => assumed.delete(keyOf(p)),
    }),
    nodes.on({
      add: () => enqueuePending(),
      update: (o, n) => {
        const relevant = JSON.stringify([o.status?.conditions?.map((c) => [c.type, c.status]), o.spec, o.metadata?.labels]) !==
          JSON.stringify([n.status?.conditions?.map((c) => [c.type, c.status]), n.spec, n.metadata?.labels]);
        if (relevant) enqueuePending();
      },
    }),
  ];
  enqueuePending();

  async function reconcile(key: string) {
    const [ns, name] = key.split('/') as [string, string];
    const pod = pods.get(ns, name);
    if (!pod || !needsScheduling(pod) || assumed.get(key)?.metadata?.uid === pod.metadata?.uid) return;
    const bound = pods.list().filter((p) => p.spec?.nodeName && !assumed.has(keyOf(p)));
    const decision = schedulePod(pod, nodes.list(), [...bound, ...assumed.values()]);
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
        events.record(done, 'Normal', 'Scheduled', `Successfully assigned ${key} to ${decision.nodeName}`);
        log.debug('bound', { pod: key, node: decision.nodeName });
      }
      return;
    }
    await markUnschedulable(pod, decision.unschedulable);
    return { requeueAfterMs: RETRY_UNSCHEDULABLE_MS };
  }

  /** spec.nodeName and PodScheduled=True in one write, as POST pods/binding does. */
  async function bind(pod: Pod, nodeName: string): Promise<Pod | undefined> {
    // First try against the cached object (one round trip); on a conflict, read it fresh.
    let current: Pod | undefined = pod;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (attempt > 0) current = await ctx.store.get<Pod>('Pod', pod.metadata?.namespace, pod.metadata?.name ?? '');
      if (!current || current.metadata?.uid !== pod.metadata?.uid || !needsScheduling(current)) return undefined;
      const now = new Date(ctx.now()).toISOString();
      const next: Pod = {
        ...ctx.store.prepareUpdate(current, { ...current, spec: { ...current.spec!, nodeName } }),
        status: {
          ...current.status,
          phase: current.status?.phase ?? 'Pending',
          conditions: withCondition<PodCondition>(current.status?.conditions, { type: 'PodScheduled', status: 'True' }, now),
        },
      };
      try {
        const [rv] = await ctx.store.commit([{ kind: 'Pod', key: `${next.metadata!.namespace}/${next.metadata!.name}`, mode: 'update', expectRv: current.metadata?.resourceVersion, json: ctx.store.serialize(next) }], [next]);
        return { ...next, metadata: { ...next.metadata, resourceVersion: String(rv) } };
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
          const conditions = withCondition<PodCondition>(p.status?.conditions, cond, new Date(ctx.now()).toISOString());
          return { ...p, status: { ...p.status, phase: 'Pending', conditions } };
        },
        { status: true },
      );
    }
    events.record(pod, 'Warning', 'FailedScheduling', message);
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      await queue.close();
    },
  };
}
