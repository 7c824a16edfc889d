/**
 * "Is what I applied ready?" — workloads with all replicas Ready, Pods Ready (or Succeeded)
 * and Services whose EndpointSlices list every ready pod they select. Used by `knet up`,
 * `apply --wait` and the test API, with a progress line while waiting.
 *
 * Two pure judgements over one snapshot of the cluster (assessReadiness, findFailures) and a
 * waiter that re-judges on every watch event (or polls the store when it has no watch).
 * Failure must explain itself: on timeout — or at once, with failFast, when something cannot
 * get ready on its own (a crash loop, a failed pod, a Service port the proxy cannot bind) —
 * the error names the object and the reason and carries the last events, the pods' states
 * and the failing containers' log tails.
 */
import type { Pod, Service, Event, ContainerStatus } from 'kubernetes-types/core/v1.js';
import type { Deployment, StatefulSet, DaemonSet, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { ObjectStore } from '../base/store/object-store.js';
import type { KObject, Kind } from '../base/model/object.js';
import type { InformerFactory } from '../base/informer/informer-types.js';
import { matchesLabelSelector, matchesServiceSelector } from '../base/model/selector.js';
import { podStatusText } from '../base/printers/pod-cells.js';
import { eventSortTime } from '../base/printers/event-times.js';
import { waitUntil } from './wait-until.js';
import { groupSlicesByService } from '../base/informer/indexes.js';

export interface Readiness {
  ready: boolean;
  /** One line per object that is not ready yet. */
  waiting: string[];
}

/** What a judgement reads: the current objects of these kinds. */
export type Snapshot = ReadonlyMap<Kind, readonly KObject[]>;
export const SNAPSHOT_KINDS: readonly Kind[] = ['Pod', 'EndpointSlice', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Ingress', 'Event'];

export interface AssessOptions {
  /**
   * An ingress controller runs: an Ingress is ready once it reports its address in
   * `status.loadBalancer` (as ingress-nginx does once it serves it). Without one, Ingresses
   * are not waited for.
   */
  ingress?: boolean;
}

/** Something that will not get ready on its own. */
export interface Failure {
  /** `deployment/web`, `pod/x`, `service/web` — the applied object it is about. */
  object: string;
  namespace: string;
  reason: string;
  message: string;
  /** The pod (and container) at fault, whose log tail explains it. */
  pod?: { name: string; container?: string };
}

const podReady = (p: Pod) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
const ref = (o: KObject) => `${String(o.kind).toLowerCase()}/${o.metadata?.name}`;
const nsOf = (o: KObject) => o.metadata?.namespace ?? 'default';
const list = <T>(snap: Snapshot, kind: Kind) => (snap.get(kind) ?? []) as unknown as T[];

export function assessReadiness(objects: readonly KObject[], snap: Snapshot, opts: AssessOptions = {}): Readiness {
  const pods = list<Pod>(snap, 'Pod');
  const slicesOf = groupSlicesByService(list<EndpointSlice>(snap, 'EndpointSlice'));
  const current = (o: KObject) => (snap.get(o.kind as Kind) ?? []).find((x) => x.metadata?.name === o.metadata?.name && nsOf(x) === nsOf(o));
  const waiting: string[] = [];
  for (const o of objects) {
    const name = ref(o);
    switch (o.kind) {
      case 'Deployment':
      case 'ReplicaSet':
      case 'StatefulSet': {
        const live = current(o) as Deployment | ReplicaSet | StatefulSet | undefined;
        const want = live?.spec?.replicas ?? (o as Deployment).spec?.replicas ?? 1;
        const ready = live?.status?.readyReplicas ?? 0;
        const updated = o.kind === 'Deployment' ? ((live as Deployment | undefined)?.status?.updatedReplicas ?? 0) : want;
        const observed = (live?.status?.observedGeneration ?? 0) >= (live?.metadata?.generation ?? 1);
        // With minReadySeconds, pods count once they stayed Ready that long (kubectl rollout
        // status waits for availableReplicas too): a guard against apps that crash right after starting.
        const available = (live?.spec?.minReadySeconds ?? 0) > 0 ? (live?.status?.availableReplicas ?? 0) : want;
        if (!live || ready < want || updated < want || available < want || !observed || (live.status?.replicas ?? 0) > want) waiting.push(`${name}: ${ready}/${want} ready`);
        break;
      }
      case 'DaemonSet': {
        const live = current(o) as DaemonSet | undefined;
        const want = live?.status?.desiredNumberScheduled ?? 0;
        const ready = live?.status?.numberReady ?? 0;
        if (!live || want === 0 || ready < want) waiting.push(`${name}: ${ready}/${want} ready`);
        break;
      }
      case 'Pod': {
        const p = current(o) as Pod | undefined;
        // A pod that ran to completion is as ready as it will get.
        if (!p || !(podReady(p) || p.status?.phase === 'Succeeded')) waiting.push(`${name}: ${p ? podStatusText(p) : 'not found'}`);
        break;
      }
      case 'Service': {
        const svc = o as Service;
        if (!svc.spec?.selector) break;
        const selected = pods.filter((p) => nsOf(p) === nsOf(svc) && matchesServiceSelector(svc.spec?.selector, p.metadata?.labels) && podReady(p));
        const listed = new Set(
          slicesOf(svc.metadata?.namespace, svc.metadata?.name ?? '')
            .flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).map((e) => e.addresses[0])),
        );
        const missing = selected.filter((p) => !listed.has(p.status?.podIP ?? ''));
        if (missing.length) waiting.push(`${name}: ${selected.length - missing.length}/${selected.length} endpoints ready`);
        break;
      }
      case 'Ingress': {
        if (!opts.ingress) break;
        const live = current(o) as (KObject & { status?: { loadBalancer?: { ingress?: unknown[] } } }) | undefined;
        if (!live?.status?.loadBalancer?.ingress?.length) waiting.push(`${name}: no address yet (not served by the ingress controller)`);
        break;
      }
    }
  }
  return { ready: waiting.length === 0, waiting };
}

/** The pods an applied object runs (a Pod is its own) or, for a Service, selects. */
export function podsOf(o: KObject, snap: Snapshot): Pod[] {
  const pods = list<Pod>(snap, 'Pod').filter((p) => nsOf(p) === nsOf(o));
  if (o.kind === 'Pod') return pods.filter((p) => p.metadata?.name === o.metadata?.name);
  if (o.kind === 'Service') return pods.filter((p) => matchesServiceSelector((o as Service).spec?.selector, p.metadata?.labels));
  if (['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet'].includes(String(o.kind))) {
    const selector = (o as Deployment).spec?.selector;
    return pods.filter((p) => matchesLabelSelector(selector, p.metadata?.labels));
  }
  return [];
}

export interface FailureOptions {
  /** Only events at or after this time (ms since epoch) count: older ones are history. */
  since?: number;
  /** A container in CrashLoopBackOff after this many restarts is crash-looping (2). */
  crashLoopRestarts?: number;
}

/** What among `objects` cannot get ready without someone changing something. */
export function findFailures(objects: readonly KObject[], snap: Snapshot, opts: FailureOptions = {}): Failure[] {
  const out: Failure[] = [];
  const restarts = opts.crashLoopRestarts ?? 2;
  for (const o of objects) {
    for (const p of podsOf(o, snap)) {
      const f = podFailure(p, restarts);
      if (f) out.push({ object: ref(o), namespace: nsOf(o), ...f, pod: { name: p.metadata!.name!, ...(f.container ? { container: f.container } : {}) } });
    }
    // kube-proxy reports a port it cannot bind as a Warning event on the Service; the ingress
    // controller one it refuses to serve on the Ingress.
    const fatal = FATAL_EVENTS[String(o.kind)];
    if (fatal) {
      const last = list<Event>(snap, 'Event')
        .filter(
          (e) =>
            e.type === 'Warning' &&
            fatal.includes(e.reason ?? '') &&
            e.involvedObject.kind === o.kind &&
            e.involvedObject.name === o.metadata?.name &&
            (e.involvedObject.namespace ?? 'default') === nsOf(o) &&
            // Event times are whole seconds (metav1.Time): one from the second the wait began counts.
            eventTime(e) >= Math.floor((opts.since ?? 0) / 1000) * 1000,
        )
        .sort((a, b) => eventTime(a) - eventTime(b))
        .pop();
      if (last) out.push({ object: ref(o), namespace: nsOf(o), reason: last.reason!, message: last.message ?? '' });
    }
  }
  return out;
}

/** Warning events that mean an object will not work until someone changes something. */
const FATAL_EVENTS: Record<string, string[]> = { Service: ['FailedToBindServicePort'], Ingress: ['Rejected'] };

function podFailure(p: Pod, restarts: number): { reason: string; message: string; container?: string } | undefined {
  if (p.metadata?.deletionTimestamp) return undefined;
  const statuses: ContainerStatus[] = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
  if (p.status?.phase === 'Failed') {
    const failed = statuses.find((c) => (c.state?.terminated?.exitCode ?? 0) !== 0);
    return {
      reason: 'Failed',
      message: `pod ${p.metadata?.name} failed${failed ? `: container ${failed.name} ${describeExit(failed.state!.terminated!)}` : p.status.message ? `: ${p.status.message}` : ''}`,
      ...(failed ? { container: failed.name } : {}),
    };
  }
  for (const c of statuses) {
    if (c.state?.waiting?.reason === 'CrashLoopBackOff' && (c.restartCount ?? 0) >= restarts) {
      const last = c.lastState?.terminated;
      return {
        reason: 'CrashLoopBackOff',
        message: `pod ${p.metadata?.name} is crash-looping: container ${c.name} ${last ? describeExit(last) : 'keeps exiting'}, restarted ${c.restartCount} times`,
        container: c.name,
      };
    }
  }
  return undefined;
}

function describeExit(t: { exitCode: number; reason?: string; message?: string; signal?: number }): string {
  const how = t.signal ? `was killed by signal ${t.signal}` : `exited with code ${t.exitCode}`;
  return `${how}${t.reason ? ` (${t.reason})` : ''}${t.message ? `: ${t.message.trim()}` : ''}`;
}

const eventTime = (e: Event) => eventSortTime(e) || Date.parse(e.metadata?.creationTimestamp ?? '') || 0;

/**
 * The last events and the pods' states, as text: those about the objects (and what they own:
 * a Deployment's ReplicaSets and pods share its name as a prefix), else their namespaces'.
 */
export function explainSnapshot(objects: readonly KObject[], snap: Snapshot, logTails: string[] = []): string {
  const namespaces = new Set(objects.map(nsOf));
  const named = objects.filter((o) => o.metadata?.name);
  const about = (e: Event) =>
    named.some((o) => nsOf(o) === (e.involvedObject.namespace ?? 'default') && (e.involvedObject.name === o.metadata!.name || e.involvedObject.name?.startsWith(`${o.metadata!.name}-`)));
  const inNamespaces = list<Event>(snap, 'Event').filter((e) => namespaces.has(e.metadata?.namespace ?? ''));
  const related = inNamespaces.filter(about);
  const events = (related.length ? related : inNamespaces)
    .sort((a, b) => eventTime(a) - eventTime(b))
    .slice(-10)
    .map((e) => `  ${e.type} ${e.reason} ${String(e.involvedObject.kind).toLowerCase()}/${e.involvedObject.name}: ${e.message}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`);
  const podsAbout = [...new Set(named.flatMap((o) => podsOf(o, snap)))];
  const pods = (podsAbout.length ? podsAbout : list<Pod>(snap, 'Pod').filter((p) => namespaces.has(nsOf(p))))
    .map((p) => `  pod/${p.metadata?.name} ${podStatusText(p)} on ${p.spec?.nodeName ?? '<unscheduled>'} ip ${p.status?.podIP ?? '<none>'}`);
  return ['last events:', ...(events.length ? events : ['  <none>']), 'pods:', ...(pods.length ? pods : ['  <none>']), ...logTails].join('\n');
}

/** The snapshot from the store (Events only when asked: there can be many). */
export async function snapshotOf(store: ObjectStore, withEvents = true): Promise<Snapshot> {
  return (await store.listKinds(SNAPSHOT_KINDS.filter((k) => withEvents || k !== 'Event'))).byKind;
}

/** The last events and the pods' states, so a failure explains itself. */
export async function explain(store: ObjectStore, objects: KObject[]): Promise<string> {
  return explainSnapshot(objects, await snapshotOf(store));
}

/** The error a wait ends with: what, why, and the evidence. */
export class NotReadyError extends Error {
  constructor(
    message: string,
    /** The objects that are not ready, one line each. */
    readonly waiting: string[],
    /** Why, when known (failFast). */
    readonly failures: Failure[],
    readonly details: string,
  ) {
    super(`${message}\n${details}`);
    this.name = 'NotReadyError';
  }
}

export interface WaitOptions {
  timeoutMs?: number;
  onProgress?: (waiting: string[]) => void;
  signal?: AbortSignal;
  /** Judge from these caches and re-judge on their events, instead of polling the store. */
  informers?: InformerFactory & { readonly resourceVersion: number };
  /** Do not judge caches older than this resourceVersion (default: the newest of `objects`, the apply's own writes). */
  minResourceVersion?: number;
  /** Fail as soon as something cannot get ready on its own, instead of at the timeout. */
  failFast?: boolean;
  /** Only events from this time (ms since epoch) count as failures (default: when the wait began). */
  since?: number;
  /** An ingress controller runs: wait for Ingresses to be served (see AssessOptions). */
  ingress?: boolean;
  /** The tail of a container's log, quoted in the error. */
  logTail?: (namespace: string, pod: string, container: string) => string | Promise<string>;
}

export async function waitForReady(store: ObjectStore, objects: KObject[], opts: WaitOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const since = opts.since ?? Date.now() - 1000;
  const informers = opts.informers;
  const minResourceVersion = opts.minResourceVersion ?? Math.max(0, ...objects.map((o) => Number(o.metadata?.resourceVersion) || 0));
  let last = '';
  let latest: { snap: Snapshot; readiness: Readiness } | undefined;
  const kinds = SNAPSHOT_KINDS.filter((k) => opts.failFast || k !== 'Event');
  const snapshot = async (): Promise<Snapshot | undefined> => {
    if (!informers) return snapshotOf(store, opts.failFast);
    if (informers.resourceVersion < minResourceVersion) return undefined;
    return new Map(kinds.map((k) => [k, informers.informer(k).list()]));
  };
  const fail = (message: string, snap: Snapshot, waiting: string[], failures: Failure[]) => notReadyError(message, objects, snap, waiting, failures, opts.logTail);
  const failure = await waitUntil<Error | true>(
    async () => {
      const snap = await snapshot();
      if (!snap) return undefined;
      const readiness = assessReadiness(objects, snap, opts);
      latest = { snap, readiness };
      if (readiness.ready) return true;
      const line = readiness.waiting.join('; ');
      if (line !== last) {
        opts.onProgress?.(readiness.waiting);
        last = line;
      }
      if (opts.failFast) {
        const failures = findFailures(objects, snap, { since });
        if (failures.length) return fail(describeFailures(failures), snap, readiness.waiting, failures);
      }
      return undefined;
    },
    {
      informers,
      kinds,
      timeoutMs,
      signal: opts.signal,
      onTimeout: async () => {
        // Events from the store: the caches may not hold them.
        const snap = new Map([...(latest?.snap ?? (await snapshotOf(store, false))), ['Event' as Kind, (await store.list('Event')).items]]);
        const waiting = latest?.readiness.waiting ?? assessReadiness(objects, snap, opts).waiting;
        return fail(`not ready after ${Math.round(timeoutMs / 100) / 10}s: ${waiting.join('; ')}`, snap, waiting, []);
      },
    },
  );
  if (failure instanceof Error) throw failure;
}

/** One line per failure: `deployment/web will not get ready: CrashLoopBackOff: …`. */
export function describeFailures(failures: readonly Failure[]): string {
  return failures.map((f) => `${f.object} will not get ready: ${f.reason}: ${f.message}`).join('\n');
}

/** The error for `objects`, with the evidence: events, pods, and the log tails of the pods at fault. */
export async function notReadyError(message: string, objects: readonly KObject[], snap: Snapshot, waiting: string[], failures: Failure[], logTail?: WaitOptions['logTail']): Promise<NotReadyError> {
  const faulty = failures.length ? failures : podsAtFault(objects, snap);
  const tails = logTail ? await logTails(faulty, logTail) : [];
  return new NotReadyError(message, waiting, failures, explainSnapshot(objects, snap, tails));
}

/** Without a known failure: the not-ready pods of what we waited for (a few), for their logs. */
function podsAtFault(objects: readonly KObject[], snap: Snapshot): Failure[] {
  return objects
    .flatMap((o) => podsOf(o, snap).filter((p) => !podReady(p) && p.status?.phase !== 'Succeeded').map((p) => ({ o, p })))
    .slice(0, 3)
    .map(({ o, p }) => ({ object: ref(o), namespace: nsOf(o), reason: podStatusText(p), message: '', pod: { name: p.metadata!.name!, container: p.spec?.containers?.[0]?.name } }));
}

async function logTails(failures: Failure[], tail: NonNullable<WaitOptions['logTail']>): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of failures) {
    if (!f.pod?.container) continue;
    const key = `${f.namespace}/${f.pod.name}/${f.pod.container}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const text = (await tail(f.namespace, f.pod.name, f.pod.container)).trimEnd();
    out.push(`log tail of pod/${f.pod.name} container ${f.pod.container}:`, ...(text ? text.split('\n').map((l) => `  | ${l}`) : ['  <empty>']));
  }
  return out;
}
