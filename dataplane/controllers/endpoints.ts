/**
 * The legacy Endpoints controller (pkg/controller/endpoint), kept for `knet get ep` and
 * consumers of v1 Endpoints: for each Service with a selector, an Endpoints object of the
 * same name with subsets of `addresses` (Ready pods, or all with publishNotReadyAddresses)
 * and `notReadyAddresses`, each subset holding the addresses that share one set of ports
 * (RepackSubsets). Unlike slices, terminating pods are left out unless
 * publishNotReadyAddresses is set. The object carries endpointslice.kubernetes.io/skip-mirror
 * so the mirroring controller does not copy it into slices. At most 1000 addresses are kept
 * (annotation endpoints.kubernetes.io/over-capacity: truncated), as upstream.
 *
 * Endpoints of services without a selector belong to the user and are never touched; when a
 * Service is deleted, its Endpoints go too (as upstream).
 */
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { namespacedKey as key, type Controller, type ControllerContext } from './controller-context.js';
import { hasServiceSelector, matchesServiceSelector } from '../base/model/selector.js';
import { isPodReady, isPodTerminal } from './pod-conditions.js';
import { podsSelectedBy, resolveTargetPort, servicesSelectingPods, shouldSetHostname } from './endpointslice.js';
import { canonicalJson, sameJson } from './canonical-json.js';
import { StoreError } from '../base/store/errors.js';
import { WorkQueue } from '../base/work-queue.js';
import { LABEL_HEADLESS, LABEL_SKIP_MIRROR } from '../base/model/well-known.js';
import { isNamespaceTerminating } from '../base/admission/write-plan.js';

export const OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';
const MAX_ADDRESSES = 1000;

const ipNum = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const byIP = (a: EndpointAddress, b: EndpointAddress) => ipNum(a.ip) - ipNum(b.ip) || (a.targetRef?.uid ?? '').localeCompare(b.targetRef?.uid ?? '');

/** The subsets a Service's Endpoints should hold. */
export function desiredSubsets(svc: Service, pods: Pod[]): { subsets: EndpointSubset[]; truncated: boolean } {
  const publishNotReady = !!svc.spec?.publishNotReadyAddresses;
  // (address, ready) per port; the sentinel '' is "no ports" (headless services without ports).
  const byPort = new Map<string, { port?: EndpointPort; addrs: Map<string, { addr: EndpointAddress; ready: boolean }> }>();
  const add = (port: EndpointPort | undefined, addr: EndpointAddress, ready: boolean) => {
    const k = port ? canonicalJson(port) : '';
    let e = byPort.get(k);
    if (!e) byPort.set(k, (e = { port, addrs: new Map() }));
    e.addrs.set(addr.ip, { addr, ready });
  };
  for (const pod of pods) {
    if (pod.metadata?.namespace !== svc.metadata?.namespace || !matchesServiceSelector(svc.spec?.selector, pod.metadata?.labels)) continue;
    if (!pod.status?.podIP || pod.status.podIP.includes(':') || isPodTerminal(pod)) continue;
    if (pod.metadata?.deletionTimestamp && !publishNotReady) continue;
    const addr: EndpointAddress = {
      ip: pod.status.podIP,
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
      ...(shouldSetHostname(pod, svc) ? { hostname: pod.spec!.hostname } : {}),
    };
    const ready = publishNotReady || isPodReady(pod);
    const ports = svc.spec?.ports ?? [];
    if (ports.length === 0) {
      if (svc.spec?.clusterIP === 'None') add(undefined, addr, ready);
      continue;
    }
    for (const sp of ports) {
      const port = resolveTargetPort(pod, sp);
      if (port === undefined) continue;
      add({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) }, addr, ready);
    }
  }
  // RepackSubsets: ports offered by exactly the same addresses (with the same readiness) share a subset.
  const bySet = new Map<string, { ports: EndpointPort[]; addrs: Array<{ addr: EndpointAddress; ready: boolean }> }>();
  for (const { port, addrs } of byPort.values()) {
    const list = [...addrs.values()].sort((a, b) => byIP(a.addr, b.addr));
    const k = canonicalJson(list.map((a) => [a.addr.ip, a.ready]));
    let e = bySet.get(k);
    if (!e) bySet.set(k, (e = { ports: [], addrs: list }));
    if (port) e.ports.push(port);
  }
  let budget = MAX_ADDRESSES;
  let truncated = false;
  const subsets: EndpointSubset[] = [];
  const groups = [...bySet.values()].sort((a, b) => byIP(a.addrs[0]!.addr, b.addrs[0]!.addr));
  for (const g of groups) {
    let ready = g.addrs.filter((a) => a.ready).map((a) => a.addr);
    let notReady = g.addrs.filter((a) => !a.ready).map((a) => a.addr);
    if (ready.length + notReady.length > budget) {
      truncated = true;
      ready = ready.slice(0, budget);
      notReady = notReady.slice(0, Math.max(0, budget - ready.length));
    }
    budget -= ready.length + notReady.length;
    if (ready.length + notReady.length === 0) continue;
    const ports = g.ports.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || (a.port ?? 0) - (b.port ?? 0) || (a.protocol ?? '').localeCompare(b.protocol ?? ''));
    subsets.push({ ...(ready.length ? { addresses: ready } : {}), ...(notReady.length ? { notReadyAddresses: notReady } : {}), ...(ports.length ? { ports } : {}) });
  }
  return { subsets, truncated };
}

/** The whole Endpoints object the controller wants for a Service with a selector. */
export function desiredEndpoints(svc: Service, pods: Pod[]): Endpoints {
  const { subsets, truncated } = desiredSubsets(svc, pods);
  const labels: Record<string, string> = { ...svc.metadata?.labels };
  if (svc.spec?.clusterIP === 'None') labels[LABEL_HEADLESS] = '';
  else delete labels[LABEL_HEADLESS];
  labels[LABEL_SKIP_MIRROR] = 'true';
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: svc.metadata?.name, namespace: svc.metadata?.namespace, labels, ...(truncated ? { annotations: { [OVER_CAPACITY]: 'truncated' } } : {}) },
    ...(subsets.length ? { subsets } : {}),
  };
}

export function startEndpointsController(ctx: ControllerContext): Controller {
  const log = ctx.log.child('endpoints');
  const services = ctx.informers.informer<Service>('Service');
  const pods = ctx.informers.informer<Pod>('Pod');
  const endpoints = ctx.informers.informer<Endpoints>('Endpoints');
  // Legacy Endpoints hold every address in one object: batch bursts harder than slices.
  const queue = new WorkQueue('endpoints', reconcile, { log, concurrency: 2, minIntervalMs: 100 });
  const deleted = new Set<string>();
  const enqueuePod = (...ps: Pod[]) => {
    for (const s of servicesSelectingPods(services, ...ps)) queue.add(key(s));
  };
  const unsubscribe = [
    services.on({
      add: (s) => queue.add(key(s)),
      update: (_o, s) => queue.add(key(s)),
      delete: (s) => {
        deleted.add(key(s));
        queue.add(key(s));
      },
    }),
    pods.on({ add: (p) => enqueuePod(p), update: (o, p) => enqueuePod(o, p), delete: (p) => enqueuePod(p) }),
    endpoints.on({ update: (_o, e) => queue.add(key(e)), delete: (e) => queue.add(key(e)) }),
  ];
  // Endpoints we managed whose Service disappeared while we were down.
  for (const e of endpoints.list()) {
    if (e.metadata?.labels?.[LABEL_SKIP_MIRROR] !== 'true' || services.get(e.metadata?.namespace, e.metadata?.name ?? '')) continue;
    deleted.add(key(e));
    queue.add(key(e));
  }

  async function reconcile(k: string) {
    const [ns, name] = k.split('/') as [string, string];
    const expectKey = `ep/${k}`;
    if (!ctx.writes.expectations.satisfied(expectKey)) return { requeueAfterMs: ctx.writes.expectations.remainingMs(expectKey) + 10 };
    const svc = services.get(ns, name);
    const current = endpoints.get(ns, name);
    if (!svc) {
      if (deleted.delete(k) && current) await ctx.writes.delete(expectKey, 'Endpoints', ns, name);
      ctx.writes.expectations.forget(expectKey);
      return;
    }
    deleted.delete(k);
    if (!hasServiceSelector(svc.spec?.selector)) return; // the user's Endpoints: hands off
    const want = desiredEndpoints(svc, podsSelectedBy(pods, svc));
    if (!current) {
      try {
        await ctx.writes.create(expectKey, want);
      } catch (err) {
        if (isNamespaceTerminating(err)) return; // its namespace controller is deleting the Service
        if (!(err instanceof StoreError && err.reason === 'AlreadyExists')) throw err;
        queue.addAfter(k, 50); // the cache is behind; look again
      }
      return;
    }
    if (sameJson(view(current), view(want))) return;
    await ctx.writes.mutate<Endpoints>(expectKey, 'Endpoints', ns, name, (cur) => {
      const next: Endpoints = { ...cur, metadata: { ...cur.metadata, labels: want.metadata?.labels, annotations: mergeAnnotations(cur, want) } };
      if (want.subsets) next.subsets = want.subsets;
      else delete next.subsets;
      return next;
    });
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      await queue.close();
    },
  };
}

function view(e: Endpoints) {
  return { labels: e.metadata?.labels ?? {}, overCapacity: e.metadata?.annotations?.[OVER_CAPACITY], subsets: e.subsets ?? [] };
}

function mergeAnnotations(cur: Endpoints, want: Endpoints): Record<string, string> | undefined {
  const out = { ...cur.metadata?.annotations };
  delete out[OVER_CAPACITY];
  Object.assign(out, want.metadata?.annotations);
  return Object.keys(out).length ? out : undefined;
}
