/**
 * The pod garbage collector (pkg/controller/podgc), for pods no node agent will finish:
 *  - terminating Pods whose grace period is over but whose node is NotReady or gone are
 *    force-deleted with grace 0;
 *  - Pods bound to a node that has not existed for 40 s (podgc's quarantine) are
 *    force-deleted.
 * Runs every second over the informer caches, looking only at the pods of nodes that are
 * NotReady or gone (the node-name index). Objects whose owner is gone are the garbage
 * collector's (garbage-collector.ts).
 */
import { runPeriodically } from './periodic.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Controller, ControllerContext } from './controller-context.js';
import { isNodeReady } from './node-fit.js';
import { indexPodsByNode, NODE_NAME_INDEX, podsOnNode } from '../base/informer/indexes.js';

export const ORPHAN_QUARANTINE_MS = 40_000;

export type PodGcAction = { namespace?: string; name: string; why: string };

/**
 * What one pass force-deletes. `podsOn`: the pods bound to a node name; `nodeNames`: every node
 * name pods are bound to; `nodes`: the Node objects that exist.
 */
export function planPodGarbageCollection(
  nodeNames: readonly string[],
  podsOn: (nodeName: string) => readonly Pod[],
  nodes: (nodeName: string) => Node | undefined,
  nodeMissingSince: Map<string, number>,
  now: number,
): PodGcAction[] {
  const actions: PodGcAction[] = [];
  for (const nodeName of nodeNames) {
    const node = nodes(nodeName);
    if (node && isNodeReady(node)) continue;
    const missingSince = nodeMissingSince.get(nodeName);
    const quarantined = !node && missingSince !== undefined && now - missingSince >= ORPHAN_QUARANTINE_MS;
    for (const pod of podsOn(nodeName)) {
      const deadline = Date.parse(pod.metadata?.deletionTimestamp ?? '');
      const why =
        Number.isFinite(deadline) && deadline <= now
          ? `terminating past its grace period on ${node ? 'NotReady' : 'missing'} node ${nodeName}`
          : quarantined
            ? `bound to node ${nodeName}, which does not exist`
            : undefined;
      if (why) actions.push({ namespace: pod.metadata?.namespace, name: pod.metadata!.name!, why });
    }
  }
  return actions;
}

export function startPodGarbageCollector(ctx: ControllerContext, opts: { intervalMs?: number } = {}): Controller {
  const log = ctx.log.child('pod-gc');
  const nodes = ctx.informers.informer<Node>('Node');
  const pods = indexPodsByNode(ctx.informers.informer<Pod>('Pod'));
  const nodeMissingSince = new Map<string, number>();
  let closed = false;

  async function pass(): Promise<void> {
    const now = ctx.now();
    const bound = pods.indexValues(NODE_NAME_INDEX);
    for (const n of bound) if (!nodes.get(undefined, n) && !nodeMissingSince.has(n)) nodeMissingSince.set(n, now);
    for (const n of nodeMissingSince.keys()) if (nodes.get(undefined, n) || !bound.includes(n)) nodeMissingSince.delete(n);
    for (const a of planPodGarbageCollection(bound, (n) => podsOnNode(pods, n), (n) => nodes.get(undefined, n), nodeMissingSince, now)) {
      if (closed) return;
      log.info('force-deleting pod', { pod: `${a.namespace ?? ''}/${a.name}`, reason: a.why });
      await ctx.writes.delete(`podgc/${a.namespace}/${a.name}`, 'Pod', a.namespace, a.name, { gracePeriodSeconds: 0 });
    }
  }

  const loop = runPeriodically(pass, opts.intervalMs ?? 1000, log, 'pod garbage collection pass');
  return {
    async close() {
      closed = true;
      await loop.close();
    },
  };
}
