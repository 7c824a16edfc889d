/**
 * Garbage collection that the ObjectStore's cascading delete cannot do by itself
 * (pkg/controller/podgc and the garbage collector's orphan pass):
 *  - objects (Pods, ReplicaSets, EndpointSlices) whose controller owner no longer exists —
 *    left behind when a process crashed between deleting an owner and its dependents — are
 *    deleted, after a live read confirms the owner is really gone;
 *  - terminating Pods whose grace period is over but whose node is NotReady or gone (so no
 *    node agent will finish them) are force-deleted with grace 0;
 *  - Pods bound to a node that has not existed for 40 s (podgc's quarantine) are
 *    force-deleted.
 * Runs every second over the informer caches.
 */
import { runPeriodically } from './periodic.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { Controller, ControllerContext } from './controller-context.js';
import { isKind, type KObject, type Kind } from '../model/object.js';
import { controllerRefOf } from './owner-references.js';
import { isNodeReady } from './node-fit.js';

export const ORPHAN_QUARANTINE_MS = 40_000;
const DEPENDENT_KINDS: Kind[] = ['Pod', 'ReplicaSet', 'EndpointSlice'];

export type GcAction = { kind: Kind; namespace?: string; name: string; force: boolean; why: string; owner?: OwnerReference };

/** What one GC pass deletes, from the caches alone (owner absence is re-checked live). */
export function planGarbageCollection(
  objects: Map<Kind, KObject[]>,
  lookup: (kind: Kind, namespace: string | undefined, name: string) => KObject | undefined,
  nodeMissingSince: Map<string, number>,
  now: number,
): GcAction[] {
  const actions: GcAction[] = [];
  const nodes = new Map(((objects.get('Node') ?? []) as Node[]).map((n) => [n.metadata!.name!, n] as const));
  for (const kind of DEPENDENT_KINDS) {
    for (const obj of objects.get(kind) ?? []) {
      const ref = controllerRefOf(obj);
      if (!ref || !isKind(ref.kind) || obj.metadata?.deletionTimestamp) continue;
      const owner = lookup(ref.kind, obj.metadata?.namespace, ref.name);
      if (!owner || owner.metadata?.uid !== ref.uid) {
        actions.push({ kind, namespace: obj.metadata?.namespace, name: obj.metadata!.name!, force: false, why: `owner ${ref.kind}/${ref.name} no longer exists`, owner: ref });
      }
    }
  }
  for (const pod of (objects.get('Pod') ?? []) as Pod[]) {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) continue;
    const node = nodes.get(nodeName);
    const deadline = Date.parse(pod.metadata?.deletionTimestamp ?? '');
    if (Number.isFinite(deadline) && deadline <= now && (!node || !isNodeReady(node))) {
      actions.push({ kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata!.name!, force: true, why: `terminating past its grace period on ${node ? 'NotReady' : 'missing'} node ${nodeName}` });
      continue;
    }
    const missingSince = nodeMissingSince.get(nodeName);
    if (!node && missingSince !== undefined && now - missingSince >= ORPHAN_QUARANTINE_MS) {
      actions.push({ kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata!.name!, force: true, why: `bound to node ${nodeName}, which does not exist` });
    }
  }
  return actions;
}

export function startPodGarbageCollector(ctx: ControllerContext, opts: { intervalMs?: number } = {}): Controller {
  const log = ctx.log.child('garbage-collector');
  const kinds: Kind[] = ['Node', ...DEPENDENT_KINDS];
  const nodeMissingSince = new Map<string, number>();
  let closed = false;

  async function pass(): Promise<void> {
    const now = ctx.now();
    const objects = new Map(kinds.map((k) => [k, ctx.informers.informer(k).list()] as const));
    const nodeNames = new Set((objects.get('Node') ?? []).map((n) => n.metadata!.name!));
    for (const pod of (objects.get('Pod') ?? []) as Pod[]) {
      const n = pod.spec?.nodeName;
      if (n && !nodeNames.has(n) && !nodeMissingSince.has(n)) nodeMissingSince.set(n, now);
    }
    for (const n of nodeMissingSince.keys()) if (nodeNames.has(n)) nodeMissingSince.delete(n);
    const lookup = (kind: Kind, ns: string | undefined, name: string) => ctx.informers.informer(kind).get(ns, name);
    for (const a of planGarbageCollection(objects, lookup, nodeMissingSince, now)) {
      if (closed) return;
      if (a.owner) {
        // The cache may trail the store; only a live read proves the owner gone.
        const live = await ctx.store.get(a.owner.kind as Kind, a.namespace, a.owner.name);
        if (live && live.metadata?.uid === a.owner.uid) continue;
      }
      log.info('garbage collecting', { object: `${a.kind}/${a.namespace ?? ''}/${a.name}`, reason: a.why });
      await ctx.writes.delete(`gc/${a.kind}/${a.namespace}/${a.name}`, a.kind, a.namespace, a.name, a.force ? { gracePeriodSeconds: 0 } : {});
    }
  }

  const loop = runPeriodically(pass, opts.intervalMs ?? 1000, log, 'garbage collection pass');
  return {
    async close() {
      closed = true;
      await loop.close();
    },
  };
}
