/**
 * The DaemonSet controller (pkg/controller/daemon): one pod per eligible node.
 *
 * Eligible to get a new pod: the node is Ready and the pod fits (nodeSelector, required node
 * affinity, taints, with the tolerations every daemon pod gets). A pod already running stays
 * while its node exists and still matches and has no untolerated NoExecute taint — so a
 * NotReady node keeps its daemon pod, as upstream (daemon pods tolerate not-ready and
 * unreachable). Pods are bound directly with spec.nodeName (the scheduler is not involved).
 * A failed pod is deleted and replaced; extra pods on a node are deleted (oldest kept); pods
 * on vanished nodes are deleted. RollingUpdate replaces old-template pods while at most
 * maxUnavailable (default 1; a percentage rounds up) nodes lack an available pod; OnDelete
 * leaves that to the user. maxSurge is not implemented (treated as 0).
 */
import type { DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod, Toleration } from 'kubernetes-types/core/v1.js';
import { forEachLimited, namespacedKey as key, type Controller, type ControllerContext } from './controller-context.js';
import { controllerRefOf } from './owner-references.js';
import { isPodAvailable, isPodReady, isPodTerminating, msUntilAvailable } from './pod-conditions.js';
import { podFromTemplate, podsControlledBy } from './pod-template.js';
import { isNodeReady, matchesNodeSelector, podFitFailure, tolerates } from './node-fit.js';
import { templateHash } from './names.js';
import { scaledValue } from './deployment-rollout.js';
import { sameJson } from './canonical-json.js';
import { WorkQueue } from '../base/work-queue.js';
import { indexByOwner } from '../base/informer/indexes.js';
import { LABEL_CONTROLLER_REVISION_HASH } from '../base/model/well-known.js';
import { unlessNamespaceTerminating } from '../base/admission/write-plan.js';
import { omitEmpty } from '../base/model/omit-empty.js';

export const REVISION_LABEL = LABEL_CONTROLLER_REVISION_HASH;

/** AddOrUpdateDaemonPodTolerations. */
export const DAEMON_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

export interface DaemonSetPlan {
  /** Node names that get a new pod. */
  create: string[];
  delete: Pod[];
  status: DaemonSetStatus;
  recheckMs?: number;
}

export function daemonPod(ds: DaemonSet, nodeName: string): Pod {
  const pod = podFromTemplate({ ...ds, apiVersion: 'apps/v1', kind: 'DaemonSet' }, ds.spec?.template, { labels: { [REVISION_LABEL]: templateHash(ds.spec?.template) } });
  // AddOrUpdateTolerationInPodSpec: one matching in key, operator, value and effect is replaced
  // (the 300 s ones DefaultTolerationSeconds gave the pod lose their limit), others are appended.
  const tolerations = [...(pod.spec?.tolerations ?? [])];
  for (const t of DAEMON_TOLERATIONS) {
    const i = tolerations.findIndex((x) => x.key === t.key && (x.operator ?? 'Equal') === t.operator && (x.value ?? '') === (t.value ?? '') && x.effect === t.effect);
    if (i >= 0) tolerations[i] = t;
    else tolerations.push(t);
  }
  return { ...pod, spec: { ...pod.spec!, nodeName, tolerations } };
}

export function planDaemonSet(ds: DaemonSet, nodes: Node[], owned: Pod[], now: number): DaemonSetPlan {
  const hash = templateHash(ds.spec?.template);
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const probe = daemonPod(ds, '');
  const plan: DaemonSetPlan = { create: [], delete: [], status: {} as DaemonSetStatus };
  const nodeNames = new Set(nodes.map((n) => n.metadata!.name!));
  const byNode = new Map<string, Pod[]>();
  for (const p of owned) {
    const n = p.spec?.nodeName ?? '';
    if (!nodeNames.has(n)) {
      if (!isPodTerminating(p)) plan.delete.push(p); // its node is gone
      continue;
    }
    byNode.set(n, [...(byNode.get(n) ?? []), p]);
  }

  let desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
  const oldPods: Array<{ pod: Pod; available: boolean }> = [];
  let unavailableNodes = 0;
  for (const node of nodes) {
    const name = node.metadata!.name!;
    const shouldRun = !podFitFailure(probe, node);
    const untoleratedNoExecute = (node.spec?.taints ?? []).some((t) => t.effect === 'NoExecute' && !tolerates(probe.spec?.tolerations, t));
    const shouldContinue = matchesNodeSelector(probe, node) && !untoleratedNoExecute;
    const pods = byNode.get(name) ?? [];
    const live = pods.filter((p) => !isPodTerminating(p));
    if (shouldRun) desired++;
    if (!shouldContinue) {
      plan.delete.push(...live);
      if (live.length) misscheduled++;
      continue;
    }
    const failed = live.filter((p) => p.status?.phase === 'Failed');
    plan.delete.push(...failed);
    const running = live.filter((p) => p.status?.phase !== 'Failed').sort((a, b) => (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? ''));
    plan.delete.push(...running.slice(1));
    const pod = running[0];
    if (!pod) {
      if (shouldRun && pods.length === 0) plan.create.push(name);
      if (shouldRun) unavailableNodes++;
      continue;
    }
    // A pod kept on a NotReady node is not "misscheduled", only no longer desired there.
    if (!shouldRun && isNodeReady(node)) misscheduled++;
    current++;
    const isAvailable = isPodAvailable(pod, minReady, now);
    if (isPodReady(pod)) ready++;
    if (isAvailable) available++;
    else if (shouldRun) unavailableNodes++;
    const left = msUntilAvailable(pod, minReady, now);
    if (left !== undefined) plan.recheckMs = Math.min(plan.recheckMs ?? left, left);
    if (pod.metadata?.labels?.[REVISION_LABEL] === hash) updated++;
    else oldPods.push({ pod, available: isAvailable });
  }

  if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && !ds.metadata?.deletionTimestamp) {
    const maxUnavailable = Math.max(1, scaledValue(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, desired, true, '1'));
    // Old pods that are not available anyway cost nothing to replace; then spend the budget.
    let budget = maxUnavailable - unavailableNodes;
    for (const o of oldPods.filter((o) => !o.available)) plan.delete.push(o.pod);
    for (const o of oldPods.filter((o) => o.available)) {
      if (budget <= 0) break;
      plan.delete.push(o.pod);
      budget--;
    }
  }
  if (ds.metadata?.deletionTimestamp) {
    plan.create = [];
    plan.delete = [];
  }
  // DaemonSetStatus: the four scheduling counts always written, the others omitempty.
  plan.status = omitEmpty({
    observedGeneration: ds.metadata?.generation ?? 1,
    desiredNumberScheduled: desired,
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    numberReady: ready,
    numberAvailable: available,
    numberUnavailable: Math.max(0, desired - available),
    updatedNumberScheduled: updated,
  }, ['numberAvailable', 'numberUnavailable', 'updatedNumberScheduled']);
  return plan;
}

export function startDaemonSetController(ctx: ControllerContext): Controller {
  const log = ctx.log.child('daemonset');
  const events = ctx.recorder('daemonset-controller');
  const sets = ctx.informers.informer<DaemonSet>('DaemonSet');
  const pods = indexByOwner(ctx.informers.informer<Pod>('Pod'));
  const nodes = ctx.informers.informer<Node>('Node');
  const queue = new WorkQueue('daemonset', reconcile, { log, concurrency: 2 });
  const enqueueOwner = (p: Pod) => {
    const ref = controllerRefOf(p);
    if (ref?.kind === 'DaemonSet') queue.add(`${p.metadata?.namespace}/${ref.name}`);
  };
  const enqueueAll = () => {
    for (const ds of sets.list()) queue.add(key(ds));
  };
  const unsubscribe = [
    sets.on({ add: (s) => queue.add(key(s)), update: (_o, s) => queue.add(key(s)), delete: (s) => queue.add(key(s)) }),
    pods.on({ add: enqueueOwner, update: (_o, p) => enqueueOwner(p), delete: enqueueOwner }),
    nodes.on({
      add: enqueueAll,
      delete: enqueueAll,
      update: (o, n) => {
        const shape = (x: Node) => JSON.stringify([x.metadata?.labels, x.spec?.taints, x.spec?.unschedulable, isNodeReady(x)]);
        if (shape(o) !== shape(n)) enqueueAll();
      },
    }),
  ];

  async function reconcile(k: string) {
    const [ns, name] = k.split('/') as [string, string];
    const ds = sets.get(ns, name);
    const expectKey = `ds/${k}`;
    if (!ds) {
      ctx.writes.expectations.forget(expectKey);
      return;
    }
    if (!ctx.writes.expectations.satisfied(expectKey)) return { requeueAfterMs: ctx.writes.expectations.remainingMs(expectKey) + 10 };
    const plan = planDaemonSet(ds, nodes.list(), podsControlledBy(pods, ds), ctx.now());
    await forEachLimited(plan.create, 20, async (nodeName) => {
      const pod = await ctx.writes.createGenerated(expectKey, name, daemonPod(ds, nodeName));
      events.record(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata?.name}`);
    }).catch(unlessNamespaceTerminating);
    await forEachLimited(plan.delete, 20, async (pod) => {
      await ctx.writes.delete(expectKey, 'Pod', ns, pod.metadata!.name!);
      events.record(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name}`);
    });
    if (!sameJson(plan.status, ds.status)) {
      await ctx.writes.mutate<DaemonSet>(expectKey, 'DaemonSet', ns, name, (cur) => (cur.metadata?.uid === ds.metadata?.uid ? { ...cur, status: plan.status } : undefined), { status: true });
    }
    return plan.recheckMs !== undefined ? { requeueAfterMs: plan.recheckMs + 5 } : undefined;
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      await queue.close();
    },
  };
}
