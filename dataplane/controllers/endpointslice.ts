/**
 * The EndpointSlice controller (pkg/controller/endpointslice, staging/src/k8s.io/endpointslice):
 * for every Service with a selector, the pods it selects as EndpointSlices.
 *
 * A pod is an endpoint when the selector matches its labels, it has a pod IP and it is not
 * finished (Succeeded/Failed); terminating pods stay, with their conditions saying so:
 *   serving = the pod's Ready condition, terminating = deletionTimestamp set,
 *   ready = publishNotReadyAddresses || (serving && !terminating).
 * Ports: each service port's targetPort, resolved per pod (a name by name AND protocol among
 * the containers' ports and sidecar init containers'); a pod without a match is left out of
 * that port, and pods resolving to different numbers land in different slices. Endpoints
 * carry nodeName, zone (the node's topology.kubernetes.io/zone), targetRef, and hostname when
 * pod.spec.subdomain names this service, and with `trafficDistribution: PreferClose` a hint
 * for their own zone (traffic-distribution.ts) — or, with `topology-mode: Auto`, hints given out
 * by the zones' CPU (topology-cache.ts; events on the Service). Slices: IPv4, at most 100 endpoints, generated names
 * `<svc>-xxxxx` kept stable (slice-packing.ts), labels kubernetes.io/service-name,
 * endpointslice.kubernetes.io/managed-by and service.kubernetes.io/headless for headless
 * services, owned by the Service. ExternalName services and services without a selector
 * get no managed slices.
 */
import type { Node, Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { namespacedKey as key, type Controller, type ControllerContext } from './controller-context.js';
import { hasServiceSelector, matchesServiceSelector } from '../base/model/selector.js';
import { isPodReady, isPodTerminal } from './pod-conditions.js';
import { newControllerRef } from './owner-references.js';
import { planSlices, type EndpointGroup } from './slice-packing.js';
import { prefersClose, topologyModeAuto, withZoneHints } from './traffic-distribution.js';
import { carryHints, hintSlicePlan, TopologyCache } from './topology-cache.js';
import { isNodeReady } from './node-fit.js';
import { canonicalJson } from './canonical-json.js';
import { WorkQueue } from '../base/work-queue.js';
import { LABEL_HEADLESS, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_TOPOLOGY_ZONE } from '../base/model/well-known.js';
import type { Informer } from '../base/informer/informer-types.js';
import { indexSlicesByService, inNamespace, selectByLabels, serviceKeyOfSlice, slicesOfService } from '../base/informer/indexes.js';
import { unlessNamespaceTerminating } from '../base/admission/write-plan.js';

export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';

/** podutil.FindPort: the container port a service port's targetPort means for this pod. */
export function resolveTargetPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target === 0 ? sp.port : target;
  const protocol = sp.protocol ?? 'TCP';
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  for (const c of [...(pod.spec?.containers ?? []), ...sidecars]) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

/** ShouldPodBeInEndpoints with terminating pods included (the slice controller's view). */
export function podIsEndpointCandidate(pod: Pod): boolean {
  return !!pod.status?.podIP && !isPodTerminal(pod);
}

export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  return !!pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace;
}

/** podToEndpoint. */
export function podEndpoint(svc: Service, pod: Pod, node: Node | undefined): Endpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata?.deletionTimestamp;
  const ep: Endpoint = {
    addresses: [pod.status!.podIP!],
    conditions: { ready: !!svc.spec?.publishNotReadyAddresses || (serving && !terminating), serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
  };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata?.labels?.[LABEL_TOPOLOGY_ZONE];
  if (zone) ep.zone = zone;
  if (shouldSetHostname(pod, svc)) ep.hostname = pod.spec!.hostname;
  return ep;
}

/** A node by name (a Map, or an informer's cache). */
export interface NodeLookup {
  get(name: string): Node | undefined;
}

/** The endpoints a Service should publish, grouped by resolved port list. `pods`: at least those it selects. */
export function desiredEndpointGroups(svc: Service, pods: Pod[], nodes: NodeLookup): EndpointGroup[] {
  const groups = new Map<string, EndpointGroup>();
  const preferClose = prefersClose(svc);
  const selected = pods
    .filter((p) => p.metadata?.namespace === svc.metadata?.namespace && matchesServiceSelector(svc.spec?.selector, p.metadata?.labels))
    .filter((p) => podIsEndpointCandidate(p) && !p.status!.podIP!.includes(':'))
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const pod of selected) {
    const ports: EndpointPort[] = [];
    for (const sp of svc.spec?.ports ?? []) {
      const port = resolveTargetPort(pod, sp);
      if (port === undefined) continue;
      ports.push({ name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    const k = canonicalJson(ports);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { addressType: 'IPv4', ports, endpoints: [] }));
    g.endpoints.push(withZoneHints(podEndpoint(svc, pod, nodes.get(pod.spec?.nodeName ?? '')), preferClose));
  }
  return [...groups.values()];
}

/** setEndpointSliceLabels: the service's labels plus the controller's own. */
export function sliceLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata?.labels ?? {})) if (k !== LABEL_SERVICE_NAME && k !== LABEL_MANAGED_BY) labels[k] = v;
  if (svc.spec?.clusterIP === 'None') labels[LABEL_HEADLESS] = '';
  else delete labels[LABEL_HEADLESS];
  labels[LABEL_SERVICE_NAME] = svc.metadata!.name!;
  labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
  return labels;
}

export function managesSlicesFor(svc: Service | undefined): svc is Service {
  return !!svc && hasServiceSelector(svc.spec?.selector) && svc.spec?.type !== 'ExternalName';
}

/** Slices of one service written by the given managed-by controller (the informer's service-name index). */
export function slicesOf(slices: Informer<EndpointSlice>, namespace: string, service: string, managedBy: string): EndpointSlice[] {
  return slicesOfService(slices, namespace, service).filter((s) => s.metadata?.labels?.[LABEL_MANAGED_BY] === managedBy);
}

/** Services in the pod's namespace whose selector matches the pod (old or new labels). */
export function servicesSelecting(services: Service[], ...pods: Pod[]): Service[] {
  return services.filter((s) => pods.some((p) => s.metadata?.namespace === p.metadata?.namespace && matchesServiceSelector(s.spec?.selector, p.metadata?.labels)));
}

/** servicesSelecting over an informer: only the pods' own namespaces are looked at. */
export function servicesSelectingPods(services: Informer<Service>, ...pods: Pod[]): Service[] {
  const namespaces = new Set(pods.map((p) => p.metadata?.namespace ?? 'default'));
  return [...namespaces].flatMap((ns) => servicesSelecting(inNamespace(services, ns), ...pods));
}

/** The pods a Service's selector picks, through the pod informer's label indexes. */
export function podsSelectedBy(pods: Informer<Pod>, svc: Service): Pod[] {
  return selectByLabels(pods, svc.metadata?.namespace ?? 'default', svc.spec?.selector);
}

/** A node lookup over the Node informer. */
export function nodeLookup(nodes: Informer<Node>): NodeLookup {
  return { get: (name) => nodes.get(undefined, name) };
}

export function startEndpointSliceController(ctx: ControllerContext): Controller {
  const log = ctx.log.child('endpointslice');
  const services = ctx.informers.informer<Service>('Service');
  const pods = ctx.informers.informer<Pod>('Pod');
  const nodes = ctx.informers.informer<Node>('Node');
  const events = ctx.recorder('endpoint-slice-controller');
  const topology = new TopologyCache();
  // The caches have synced: the first syncs see the zones (the nodes' replayed adds come too).
  topology.setNodes(nodes.list());
  const slices = indexSlicesByService(ctx.informers.informer<EndpointSlice>('EndpointSlice'));
  // A short per-service interval batches bursts of pod changes; a lone change is written at once.
  const queue = new WorkQueue('endpointslice', reconcile, { log, concurrency: 4, minIntervalMs: 20 });
  const enqueuePod = (...ps: Pod[]) => {
    for (const s of servicesSelectingPods(services, ...ps)) queue.add(key(s));
  };
  const enqueueAll = () => {
    for (const s of services.list()) queue.add(key(s));
  };
  // Every managed slice wakes its service, also one deleted while we were down (the replay).
  const enqueueSlice = (s: EndpointSlice) => {
    const svc = serviceKeyOfSlice(s);
    if (svc && s.metadata?.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME) queue.add(svc);
  };
  const unsubscribe = [
    services.on({ add: (s) => queue.add(key(s)), update: (_o, s) => queue.add(key(s)), delete: (s) => queue.add(key(s)) }),
    pods.on({ add: (p) => enqueuePod(p), update: (o, p) => enqueuePod(o, p), delete: (p) => enqueuePod(p) }),
    slices.on({ add: enqueueSlice, update: (_o, s) => enqueueSlice(s), delete: enqueueSlice }),
    nodes.on({
      add: () => checkNodeTopology(),
      update: (o, n) => {
        // A zone label changes every endpoint's zone on that node (and the ratios).
        if (o.metadata?.labels?.[LABEL_TOPOLOGY_ZONE] !== n.metadata?.labels?.[LABEL_TOPOLOGY_ZONE]) {
          topology.setNodes(nodes.list());
          enqueueAll();
        } else if (nodeTopologyChanged(o, n)) checkNodeTopology();
      },
      delete: () => checkNodeTopology(),
    }),
  ];

  /**
   * checkNodeTopologyDistribution: new zone ratios, then the Services whose hints some zone can no
   * longer carry. knet also requeues the topology-Auto Services without hints, which upstream
   * leaves until their next sync, so hints appear as soon as the nodes allow them.
   */
  function checkNodeTopology() {
    if (!topology.setNodes(nodes.list())) return;
    for (const k of topology.overloadedServices()) queue.add(k);
    for (const s of services.list()) if (topologyModeAuto(s.metadata?.annotations) && !topology.hasPopulatedHints(key(s))) queue.add(key(s));
  }

  async function reconcile(k: string) {
    const [ns, name] = k.split('/') as [string, string];
    const expectKey = `eps/${k}`;
    if (!ctx.writes.expectations.satisfied(expectKey)) return { requeueAfterMs: ctx.writes.expectations.remainingMs(expectKey) + 10 };
    const svc = services.get(ns, name);
    const existing = slicesOf(slices, ns, name, CONTROLLER_NAME);
    if (!managesSlicesFor(svc)) {
      topology.removeHints(k);
      for (const s of existing) await ctx.writes.delete(expectKey, 'EndpointSlice', ns, s.metadata!.name!);
      if (!svc) ctx.writes.expectations.forget(expectKey);
      return;
    }
    // topology-mode Auto: the endpoints keep their hints until AddHints decides (topology-cache.ts).
    const auto = topologyModeAuto(svc.metadata?.annotations);
    const groups = desiredEndpointGroups(svc, podsSelectedBy(pods, svc), nodeLookup(nodes)).map((g) => (auto ? { ...g, endpoints: carryHints(g.endpoints, existing) } : g));
    const owner = newControllerRef({ ...svc, apiVersion: 'v1', kind: 'Service' });
    const planned = planSlices({ namespace: ns, labels: sliceLabels(svc), ownerReferences: [owner] }, groups, existing, { placeholder: true });
    const { plan, events: hintEvents } = hintSlicePlan(topology, k, auto, planned, existing);
    await applySlicePlan(ctx, expectKey, name, plan);
    for (const e of hintEvents) events.record({ ...svc, apiVersion: 'v1', kind: 'Service' }, e.type, e.reason, e.message);
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      await queue.close();
    },
  };
}

/** A node change that can move the zones' CPU ratios: readiness, allocatable CPU, the role labels upstream leaves out. */
export function nodeTopologyChanged(o: Node, n: Node): boolean {
  const roles = (x: Node) => ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'].map((l) => l in (x.metadata?.labels ?? {})).join();
  return isNodeReady(o) !== isNodeReady(n) || o.status?.allocatable?.cpu !== n.status?.allocatable?.cpu || roles(o) !== roles(n);
}

/** Writes a slice plan: creates with generated names, replaces managed content, deletes. */
export async function applySlicePlan(ctx: ControllerContext, expectKey: string, base: string, plan: ReturnType<typeof planSlices>): Promise<void> {
  for (const s of plan.update) {
    await ctx.writes.mutate<EndpointSlice>(expectKey, 'EndpointSlice', s.metadata?.namespace, s.metadata!.name!, (cur) => ({
      ...cur,
      metadata: { ...cur.metadata, labels: s.metadata?.labels, annotations: s.metadata?.annotations, ownerReferences: s.metadata?.ownerReferences },
      addressType: s.addressType,
      endpoints: s.endpoints,
      ports: s.ports,
    }));
  }
  // A Terminating namespace refuses new slices: its namespace controller is deleting the Service.
  for (const s of plan.create) if (!(await ctx.writes.createGenerated(expectKey, base, s).catch(unlessNamespaceTerminating))) break;
  for (const s of plan.delete) await ctx.writes.delete(expectKey, 'EndpointSlice', s.metadata?.namespace, s.metadata!.name!);
}
