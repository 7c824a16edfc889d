/**
 * The test API's waits: every one is driven by the cluster's watch (a check re-run on each
 * relevant event, see cluster/wait-until.ts), and a wait that times out says what it waited for,
 * what it saw, and the namespace's last events and pods.
 */
import net from 'node:net';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { waitForReady as waitForReadyObjects, explain, podsOf, findFailures, notReadyError, describeFailures, SNAPSHOT_KINDS, type Snapshot } from '../cluster/readiness.js';
import { waitUntil } from '../cluster/wait-until.js';
import { KINDS, type KObject, type Kind } from '../base/model/object.js';
import { matchesRequirements, parseSelector } from '../base/model/selector.js';
import { resolveKind } from '../base/printers/resources.js';
import { refToObject, type ClusterContext } from './cluster-context.js';
import { slicesLookup } from '../base/informer/indexes.js';
import type { Informer } from '../base/informer/informer-types.js';

export interface WaitOptions {
  timeoutMs?: number;
  namespace?: string;
}

export interface WaitForOptions extends WaitOptions {
  what?: string;
  kinds?: string[];
  detail?: () => Promise<string> | string;
}

/** A container's log tail, quoted when a pod cannot get ready. */
export type LogTail = (ns: string, pod: string, container: string) => Promise<string>;

/**
 * Waits until `check` returns something other than false/undefined, and returns it. It is
 * re-run on every change of the cluster's objects (of `kinds`, default all but Events) and
 * every 250 ms.
 */
export function waitFor<T>(ctx: ClusterContext, check: () => T | false | undefined | Promise<T | false | undefined>, opts: WaitForOptions): Promise<T> {
  const ms = opts.timeoutMs ?? ctx.defaults.timeoutMs;
  const kinds = opts.kinds?.map(resolveKind) ?? (Object.keys(KINDS) as Kind[]).filter((k) => k !== 'Event');
  return waitUntil(check, {
    informers: ctx.informers,
    kinds,
    timeoutMs: ms,
    onTimeout: async () => {
      const extra = opts.detail ? ` (${await opts.detail()})` : '';
      return new Error(`timed out after ${ms} ms waiting for ${opts.what ?? 'a condition'}${extra}\n${await explain(ctx.store, [{ metadata: { namespace: opts.namespace ?? 'default' } }])}`);
    },
  });
}

/**
 * Waits until objects are ready: workloads with all replicas ready, pods Ready, Services
 * listing every ready pod they select and accepting connections on their ClusterIP.
 */
export async function waitForReady(ctx: ClusterContext, objects: KObject[], opts: WaitOptions & { failFast?: boolean; since?: number; logTail: LogTail }): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? ctx.defaults.timeoutMs;
  const deadline = Date.now() + timeoutMs;
  const failFast = opts.failFast ?? ctx.defaults.failFast;
  const since = opts.since ?? Date.now() - 1000;
  await waitForReadyObjects(ctx.store, objects, { timeoutMs, informers: ctx.informers, failFast, since, logTail: opts.logTail, ingress: ctx.defaults.components.ingress });
  // Ready is not yet routable: the proxy binds a Service's listeners once it sees the
  // endpoints, a moment after we do. Wait for them, then give a bind failure the time to be
  // reported (the proxy records it before our probe can connect; see settleFailures).
  await waitRoutable(ctx, objects, Math.max(1, deadline - Date.now()));
  if (failFast) await settleFailures(ctx, objects, since, opts.logTail);
}

/** The ready pods of a workload (`deployment/web`) or a label selector, once there are `count` (default: its replicas). */
export function waitForPods(ctx: ClusterContext, workloadOrSelector: string, opts: WaitOptions & { count?: number } = {}): Promise<Pod[]> {
  const ns = opts.namespace ?? 'default';
  const isSelector = /[=!]|\s(in|notin)\s/.test(workloadOrSelector) || !workloadOrSelector.includes('/');
  const informers = ctx.informers;
  let seen: Pod[] = [];
  return waitFor(
    ctx,
    () => {
      const snap: Snapshot = new Map<Kind, KObject[]>([['Pod', informers.informer('Pod').list()]]);
      let pods: Pod[];
      let want = opts.count;
      if (isSelector) {
        const reqs = parseSelector(workloadOrSelector);
        pods = (snap.get('Pod') as Pod[]).filter((p) => (p.metadata?.namespace ?? 'default') === ns && matchesRequirements(reqs, p.metadata?.labels as Record<string, string> | undefined));
      } else {
        const o = refToObject(workloadOrSelector, ns);
        const live = informers.informer(o.kind as Kind).get(ns, o.metadata!.name!);
        if (!live) return undefined;
        pods = podsOf(live, snap);
        want ??= o.kind === 'Pod' ? 1 : ((live.spec as { replicas?: number } | undefined)?.replicas ?? (o.kind === 'DaemonSet' ? (live as { status?: { desiredNumberScheduled?: number } }).status?.desiredNumberScheduled : 1));
      }
      const ready = pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      seen = ready;
      return ready.length === (want ?? 1) && ready.length === pods.filter((p) => !p.metadata?.deletionTimestamp).length ? ready : undefined;
    },
    {
      what: `ready pods of ${workloadOrSelector}${opts.count !== undefined ? ` (${opts.count})` : ''}`,
      timeoutMs: opts.timeoutMs,
      namespace: ns,
      kinds: ['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet'],
      detail: () => `${seen.length} ready: ${seen.map((p) => p.metadata?.name).join(', ')}`,
    },
  );
}

/** Waits until a Service has exactly `count` ready endpoints in its EndpointSlices; returns their IPs. */
export function waitForEndpoints(ctx: ClusterContext, service: string, count: number, namespace: string, timeoutMs?: number): Promise<string[]> {
  let ips: string[] = [];
  return waitFor(
    ctx,
    () => {
      ips = readyEndpointsOf(ctx.informers.informer<EndpointSlice>('EndpointSlice'), service, namespace);
      return ips.length === count ? ips : undefined;
    },
    { what: `service ${namespace}/${service} to have ${count} ready endpoints`, timeoutMs, namespace, kinds: ['EndpointSlice'], detail: () => `it has ${ips.length}: ${ips.join(', ')}` },
  );
}

/** Waits until an object's status condition has a status, e.g. `('node/node-2', 'Ready', 'Unknown')`; returns the object. */
export function waitForCondition<T extends KObject>(ctx: ClusterContext, ref: string, type: string, status: string, opts: WaitOptions): Promise<T> {
  const o = refToObject(ref, opts.namespace);
  const kind = o.kind as Kind;
  const ns = KINDS[kind].namespaced ? (opts.namespace ?? 'default') : undefined;
  let now: string | undefined;
  return waitFor(
    ctx,
    () => {
      const live = ctx.informers.informer<T>(kind).get(ns, o.metadata!.name!);
      const c = (live?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions?.find((x) => x.type === type);
      now = c?.status;
      return c?.status === status ? live : undefined;
    },
    { what: `${ref} condition ${type}=${status}`, timeoutMs: opts.timeoutMs, namespace: opts.namespace, kinds: [kind], detail: () => `it is ${now ?? 'not set'}` },
  );
}

/** The IPs of a Service's ready endpoints in these slices (or the slice informer), sorted. */
export function readyEndpointsOf(slices: EndpointSlice[] | Informer<EndpointSlice>, service: string, namespace: string): string[] {
  return slicesLookup(slices)(namespace, service)
    .flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).map((e) => e.addresses[0]!))
    .sort();
}

/** Waits until every TCP port of the Services among `objects` that has ready endpoints accepts connections on its ClusterIP. */
async function waitRoutable(ctx: ClusterContext, objects: readonly KObject[], timeoutMs: number): Promise<void> {
  if (!ctx.defaults.components.proxy) return;
  for (const t of routableTargets(ctx, objects)) {
    let last = '';
    await waitUntil(
      async () => {
        last = await tryConnect(t.host, t.port);
        return last === '';
      },
      {
        informers: ctx.informers,
        kinds: ['Service', 'EndpointSlice'],
        timeoutMs,
        pollMs: 10,
        onTimeout: () => new Error(`service ${t.svc} is ready but not routable: ${t.host}:${t.port} refuses connections (${last}); is the proxy running?`),
      },
    );
  }
}

/** The ClusterIP:port pairs kube-proxy should be listening on for these objects' Services. */
function routableTargets(ctx: ClusterContext, objects: readonly KObject[]): Array<{ svc: string; host: string; port: number }> {
  const targets: Array<{ svc: string; host: string; port: number }> = [];
  for (const o of objects) {
    if (o.kind !== 'Service') continue;
    const ns = o.metadata?.namespace ?? 'default';
    const svc = ctx.informers.informer<Service & KObject>('Service').get(ns, o.metadata?.name ?? '');
    const ip = svc?.spec?.clusterIP;
    // Services another proxy serves (DNS, ingress) and headless ones have no listener of ours.
    if (!svc || !ip || ip === 'None' || svc.metadata?.labels?.['service.kubernetes.io/service-proxy-name']) continue;
    // The proxy listens on a port only while some ready endpoint has it (a named targetPort
    // no pod declares leaves the port out of the slices: kube-proxy rejects it).
    const slices = slicesLookup(ctx.informers.informer<EndpointSlice>('EndpointSlice'))(ns, svc.metadata!.name!).filter((sl) => (sl.endpoints ?? []).some((e) => e.conditions?.ready !== false));
    for (const p of svc.spec?.ports ?? []) {
      if ((p.protocol ?? 'TCP') !== 'TCP' || !slices.some((sl) => (sl.ports ?? []).some((sp) => (sp.name ?? '') === (p.name ?? '') && (sp.protocol ?? 'TCP') === 'TCP'))) continue;
      targets.push({ svc: `${ns}/${svc.metadata!.name}`, host: ip, port: p.port });
    }
  }
  return targets;
}

/**
 * A failure the components report as an event (a port the proxy cannot bind) is written
 * before our probe could connect; once the watch has caught up with the store, it is in the
 * cache if it happened.
 */
async function settleFailures(ctx: ClusterContext, objects: readonly KObject[], since: number, logTail: LogTail): Promise<void> {
  if (!objects.some((o) => o.kind === 'Service' || o.kind === 'Ingress')) return;
  const informers = ctx.informers;
  const rv = await ctx.store.currentResourceVersion();
  await waitUntil(() => informers.resourceVersion >= rv, { informers, kinds: ['Event'], timeoutMs: 5000, pollMs: 5, onTimeout: () => new Error(`the watch did not catch up with resourceVersion ${rv}`) });
  const snap: Snapshot = new Map(SNAPSHOT_KINDS.map((k) => [k, informers.informer(k).list()]));
  const failures = findFailures(objects, snap, { since });
  if (failures.length) throw await notReadyError(describeFailures(failures), objects, snap, [], failures, logTail);
}

/** '' once host:port accepts a TCP connection (closed at once), else why not. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(1000, () => {
      s.destroy();
      resolve('timed out');
    });
    s.once('connect', () => {
      s.destroy();
      resolve('');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
