/**
 * Faults a test can inject and the evidence it can read back: stopping a node's heartbeats,
 * a container's log as `knet logs` shows it, and the Events about an object.
 */
import { containerLogsDir, loggedRuns, podLogRef, runLogFile } from '../base/container-logs/log-layout.js';
import { readContainerLog } from '../base/container-logs/read-log.js';
import { selectLogRun } from '../base/container-logs/log-selection.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { podsOf } from '../cluster/readiness.js';
import { FAULT_ANNOTATION } from '../base/model/well-known.js';
import { KINDS, type KObject, type Kind } from '../base/model/object.js';
import { refToObject, type ClusterContext } from './cluster-context.js';
import { mutateObject } from '../base/admission/writes.js';
import { eventSortTime } from '../base/printers/event-times.js';

/** Stops (or resumes) a node's heartbeats, as if it lost power: it goes NotReady and its endpoints not-ready. */
export async function setNodeFault(ctx: ClusterContext, name: string, on: boolean): Promise<void> {
  await mutateObject(ctx.store, ctx.config, 'Node', undefined, name, (n) => {
    const annotations = { ...n.metadata?.annotations };
    if (on) annotations[FAULT_ANNOTATION] = 'stopped';
    else delete annotations[FAULT_ANNOTATION];
    return { ...n, metadata: { ...n.metadata, annotations } };
  });
}

/** A container's log so far, as `knet logs` and `kubectl logs` show it (`tail` lines only if given). `pod` is a pod name or `deployment/web` (its first pod). */
export async function containerLog(ctx: ClusterContext, pod: string, opts: { container?: string; namespace?: string; tail?: number; previous?: boolean }): Promise<string> {
  const ns = opts.namespace ?? 'default';
  const podName = pod.includes('/') ? await firstPodOf(ctx, pod, ns) : pod;
  const p = await ctx.store.get<Pod & KObject>('Pod', ns, podName);
  if (!p) return '';
  const container = opts.container ?? p.spec?.containers?.[0]?.name ?? '';
  const dir = containerLogsDir(ctx.cluster.dir.podLogsRoot, podLogRef(p), container);
  const run = selectLogRun(p, container, !!opts.previous, loggedRuns(dir));
  if (!run.ok) return '';
  const chunks: Buffer[] = [];
  await readContainerLog(runLogFile(dir, run.value.run), { timestamps: false, ...(opts.tail !== undefined ? { tailLines: opts.tail } : {}) }, (c) => chunks.push(c));
  return Buffer.concat(chunks).toString('utf8');
}

/** The first pod (by name) of a workload reference such as `deployment/web`. */
export async function firstPodOf(ctx: ClusterContext, ref: string, ns: string): Promise<string> {
  const o = refToObject(ref, ns);
  const live = o.kind === 'Pod' ? o : await ctx.store.get(o.kind as Kind, ns, o.metadata!.name!);
  const pods = live ? podsOf(live, new Map([['Pod', (await ctx.store.list('Pod', ns)).items]])) : [];
  if (!pods[0]) throw new Error(`${ref} has no pods`);
  return pods.sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)))[0]!.metadata!.name!;
}

/** Events, oldest first: of a namespace, or about one object (`{ for: 'pod/web-0' }`). */
export async function eventsAbout(ctx: ClusterContext, opts: { namespace?: string; for?: string }): Promise<Event[]> {
  const about = opts.for ? refToObject(opts.for, opts.namespace) : undefined;
  const ns = about && KINDS[about.kind as Kind].namespaced ? (opts.namespace ?? 'default') : opts.namespace;
  const items = (await ctx.store.list('Event', ns)).items as unknown as Event[];
  return items
    .filter((e) => !about || (e.involvedObject.kind === about.kind && e.involvedObject.name === about.metadata?.name))
    .sort((a, b) => eventSortTime(a) - eventSortTime(b));
}
