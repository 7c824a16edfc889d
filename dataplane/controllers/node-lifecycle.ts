/**
 * Node lifecycle (pkg/controller/nodelifecycle, without eviction).
 *
 * Node agents heartbeat by `HSET <heartbeats> <node> <epoch ms>` — a plain hash, not an
 * object, so heartbeats do not flood the event stream. Every ~500 ms this controller reads
 * the hash; a node whose last heartbeat (or, if it never sent one, the moment this controller
 * first saw it) is older than config.nodeGraceSeconds becomes unreachable:
 *  - its Ready condition goes Unknown (NodeStatusUnknown, "Kubelet stopped posting node
 *    status."), and it gets the taints node.kubernetes.io/unreachable:NoSchedule and
 *    :NoExecute, as upstream; a NodeNotReady event is recorded;
 *  - the Ready condition of every pod on it goes False (reason NodeNotReady, a marker this
 *    controller recognises later), with a NodeNotReady event per pod, so their endpoints
 *    turn ready=false. Pods re-reported Ready while the node stays unreachable are marked again.
 * When heartbeats resume: taints removed, Ready=True (KubeletReady) unless the agent already
 * wrote it, NodeReady event, and the pods this controller marked get Ready=True back when
 * their containerStatuses all say ready (the agent's last word on probes; the agent
 * overwrites the condition whenever its probes change).
 *
 * Pods are not evicted: Kubernetes waits 300 s (the default tolerationSeconds of the
 * unreachable:NoExecute toleration) before evicting, far longer than this grace.
 */
import { runPeriodically } from './periodic.js';
import type { Node, NodeCondition, NodeSpec, Pod, PodCondition, Taint } from 'kubernetes-types/core/v1.js';
import type { Controller, ControllerContext } from './controller-context.js';
import { isPodTerminal, withCondition } from './pod-conditions.js';
import { isNodeReady } from './node-fit.js';
import { indexPodsByNode, podsOnNode } from '../base/informer/indexes.js';
import type { IndexFunc } from '../base/informer/indexer.js';
import { metaTime } from '../base/model/meta-time.js';

export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
export const NODE_STATUS_UNKNOWN = 'NodeStatusUnknown';
export const POD_MARK_REASON = 'NodeNotReady';

/**
 * Ms since the node was last heard from. `notBefore` is when this controller began watching
 * the node (or regained the store after an outage): like upstream's probe timestamps, every
 * node gets a full grace period from then, so a controller restart or a Redis outage (during
 * which agents could not heartbeat either) does not mark healthy nodes NotReady.
 */
export function silenceMs(node: Node, lastHeartbeat: number | undefined, notBefore: number, now: number): number {
  const created = Date.parse(node.metadata?.creationTimestamp ?? '') || 0;
  return now - Math.max(lastHeartbeat ?? 0, notBefore, created);
}

export function isMarkedUnreachable(node: Node): boolean {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.reason === NODE_STATUS_UNKNOWN || (node.spec?.taints ?? []).some((t) => t.key === UNREACHABLE_TAINT);
}

export function unreachableTaints(node: Node, now: string): Taint[] {
  const others = (node.spec?.taints ?? []).filter((t) => t.key !== UNREACHABLE_TAINT);
  return [...others, { key: UNREACHABLE_TAINT, effect: 'NoSchedule', timeAdded: now }, { key: UNREACHABLE_TAINT, effect: 'NoExecute', timeAdded: now }];
}

/**
 * Every condition the kubelet posts → Unknown, as tryUpdateNodeHealth does when the kubelet goes
 * quiet (Ready, MemoryPressure, DiskPressure, PIDPressure: reason NodeStatusUnknown).
 */
export function unreachableConditions(node: Node, now: string): NodeCondition[] {
  let conditions = node.status?.conditions ?? [];
  const types = new Set(['Ready', ...KUBELET_PRESSURE_CONDITIONS]);
  for (const prior of conditions.filter((c) => types.has(c.type))) {
    const unknown: NodeCondition = {
      type: prior.type,
      status: 'Unknown',
      reason: NODE_STATUS_UNKNOWN,
      message: 'Kubelet stopped posting node status.',
      ...(prior.lastHeartbeatTime ? { lastHeartbeatTime: prior.lastHeartbeatTime } : {}),
    };
    conditions = withCondition(conditions, unknown, now);
  }
  if (!conditions.some((c) => c.type === 'Ready')) conditions = withCondition(conditions, { type: 'Ready', status: 'Unknown', reason: NODE_STATUS_UNKNOWN, message: 'Kubelet stopped posting node status.' }, now);
  return conditions;
}

/** The kubelet's pressure conditions, False when all is well (their reasons as setters.go words them). */
const KUBELET_PRESSURE_CONDITIONS = ['MemoryPressure', 'DiskPressure', 'PIDPressure'];
const PRESSURE_OK: Record<string, [string, string]> = {
  MemoryPressure: ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
  DiskPressure: ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
  PIDPressure: ['KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
};

export function recoveredConditions(node: Node, now: string): NodeCondition[] {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return node.status?.conditions ?? [];
  let conditions = node.status?.conditions ?? [];
  for (const c of conditions.filter((x) => x.status === 'Unknown' && PRESSURE_OK[x.type])) {
    const [reason, message] = PRESSURE_OK[c.type]!;
    conditions = withCondition(conditions, { type: c.type, status: 'False', reason, message, lastHeartbeatTime: now }, now);
  }
  return withCondition(conditions, { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now }, now);
}

/** The pod conditions after MarkPodsNotReady, or undefined when nothing changes. */
export function markPodNotReady(pod: Pod, now: string): PodCondition[] | undefined {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (isPodTerminal(pod) || ready?.status === 'False') return undefined;
  return withCondition<PodCondition>(pod.status?.conditions, { type: 'Ready', status: 'False', reason: POD_MARK_REASON, message: 'Node is not ready' }, now);
}

/** Undo markPodNotReady when the containers still say ready; undefined when not ours or not ready. */
export function restorePodReady(pod: Pod, now: string): PodCondition[] | undefined {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'False' || ready.reason !== POD_MARK_REASON) return undefined;
  const containers = pod.status?.containerStatuses ?? [];
  if (containers.some((c) => !c.ready)) return undefined;
  return withCondition<PodCondition>(pod.status?.conditions, { type: 'Ready', status: 'True' }, now);
}

/** Pods whose Ready condition this controller set to False (reason NodeNotReady), under "true". */
const MARKED_INDEX = 'node-lifecycle:marked-not-ready';
const indexMarked: IndexFunc<Pod> = (p) => (p.spec?.nodeName && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'False' && c.reason === POD_MARK_REASON) ? ['true'] : []);

export function startNodeLifecycleController(ctx: ControllerContext, opts: { pollMs?: number } = {}): Controller {
  const log = ctx.log.child('node-lifecycle');
  const events = ctx.recorder('node-controller');
  const nodes = ctx.informers.informer<Node>('Node');
  const pods = indexPodsByNode(ctx.informers.informer<Pod>('Pod'));
  pods.addIndexers({ [MARKED_INDEX]: indexMarked });
  const graceMs = ctx.config.nodeGraceSeconds * 1000;
  const firstSeen = new Map<string, number>();
  const podEventSent = new Set<string>();
  let blind = false;
  let resumedAt = 0;

  async function tick(): Promise<void> {
    let beats: Record<string, string>;
    try {
      beats = await ctx.store.redis.hgetall(ctx.store.keys.heartbeats);
    } catch (err) {
      // Without the store nothing can be written anyway; judge nobody on stale data.
      if (!blind) log.warn('could not read heartbeats; judging no node until the store is back', { error: err as Error });
      blind = true;
      return;
    }
    const now = ctx.now();
    if (blind) {
      blind = false;
      resumedAt = now;
      log.info('heartbeats readable again; every node gets a fresh grace period');
    }
    const nowIso = metaTime(now);
    const unreachable = new Set<string>();
    for (const node of nodes.list()) {
      const name = node.metadata!.name!;
      if (!firstSeen.has(name)) firstSeen.set(name, now);
      const last = beats[name] !== undefined ? Number(beats[name]) : undefined;
      const stale = silenceMs(node, last, Math.max(firstSeen.get(name)!, resumedAt), now) > graceMs;
      if (stale) {
        unreachable.add(name);
        if (!isMarkedUnreachable(node) || isNodeReady(node)) await markUnreachable(node, nowIso);
      } else if (isMarkedUnreachable(node)) {
        await markReachable(node, nowIso);
      }
    }
    for (const name of firstSeen.keys()) if (!nodes.get(undefined, name)) firstSeen.delete(name);
    // Only the pods this pass may change: those of unreachable nodes, and those we marked.
    const marked = pods.byIndex(MARKED_INDEX, 'true').filter((p) => !unreachable.has(p.spec?.nodeName ?? ''));
    for (const key of podEventSent) {
      const [ns, name] = key.split('/') as [string, string];
      if (!unreachable.has(pods.get(ns, name)?.spec?.nodeName ?? '')) podEventSent.delete(key);
    }
    for (const pod of [...[...unreachable].flatMap((n) => podsOnNode(pods, n)), ...marked]) {
      const node = pod.spec!.nodeName!;
      const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
      const conditions = unreachable.has(node) ? markPodNotReady(pod, nowIso) : restorePodReady(pod, nowIso);
      if (!conditions) continue;
      await ctx.writes.mutate<Pod>(`node-lifecycle/${key}`, 'Pod', pod.metadata?.namespace, pod.metadata!.name!, (p) =>
        p.metadata?.uid === pod.metadata?.uid ? { ...p, status: { ...p.status, conditions: unreachable.has(node) ? markPodNotReady(p, nowIso) ?? p.status?.conditions : restorePodReady(p, nowIso) ?? p.status?.conditions } } : undefined,
        { status: true },
      );
      if (unreachable.has(node) && !podEventSent.has(key)) {
        podEventSent.add(key);
        events.record(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      }
    }
  }

  async function markUnreachable(node: Node, now: string): Promise<void> {
    const name = node.metadata!.name!;
    log.warn('node stopped heartbeating; marking it NotReady', { node: name, graceSeconds: ctx.config.nodeGraceSeconds });
    await ctx.writes.mutate<Node>(`node/${name}`, 'Node', undefined, name, (n) =>
      (n.spec?.taints ?? []).filter((t) => t.key === UNREACHABLE_TAINT).length === 2 ? undefined : { ...n, spec: { ...n.spec, taints: unreachableTaints(n, now) } },
    );
    await ctx.writes.mutate<Node>(`node/${name}`, 'Node', undefined, name, (n) => ({ ...n, status: { ...n.status, conditions: unreachableConditions(n, now) } }), { status: true });
    events.record(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
  }

  async function markReachable(node: Node, now: string): Promise<void> {
    const name = node.metadata!.name!;
    log.info('node heartbeating again; marking it Ready', { node: name });
    await ctx.writes.mutate<Node>(`node/${name}`, 'Node', undefined, name, (n) => {
      const taints = (n.spec?.taints ?? []).filter((t) => t.key !== UNREACHABLE_TAINT);
      if (taints.length === (n.spec?.taints ?? []).length) return undefined;
      const spec: NodeSpec = { ...n.spec, taints };
      if (taints.length === 0) delete spec.taints;
      return { ...n, spec };
    });
    await ctx.writes.mutate<Node>(`node/${name}`, 'Node', undefined, name, (n) => (isNodeReady(n) ? undefined : { ...n, status: { ...n.status, conditions: recoveredConditions(n, now) } }), { status: true });
    events.record(node, 'Normal', 'NodeReady', `Node ${name} status is now: NodeReady`);
  }

  return runPeriodically(tick, opts.pollMs ?? 500, log, 'node lifecycle pass');
}
