/**
 * The EndpointSlice mirroring controller (pkg/controller/endpointslicemirroring): a user's
 * Endpoints object for a Service *without* a selector is copied into EndpointSlices, so
 * slice consumers (knet proxy, DNS) serve it — e.g. a Service `db` pointing at a PostgreSQL
 * on 127.0.0.1.
 *
 * Mirrored: Endpoints that are not labelled endpointslice.kubernetes.io/skip-mirror=true,
 * whose Service exists and has no selector. Each subset's `addresses` become endpoints with
 * ready=true, `notReadyAddresses` ready=false (only `ready` is set, as upstream); nodeName,
 * hostname and targetRef are copied; subsets with the same ports share slices; the address
 * type follows each IP (IPv4/IPv6). Slices carry the Endpoints' labels plus
 * kubernetes.io/service-name and managed-by endpointslicemirroring-controller.k8s.io, its
 * annotations (minus kubectl's last-applied), and the Service as owner. At most 1000
 * addresses are mirrored. When the Endpoints goes, or its Service gains a selector or goes,
 * the mirrored slices are deleted.
 */
import type { EndpointAddress, Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { namespacedKey as key, type Controller, type ControllerContext } from './controller-context.js';
import { hasServiceSelector } from '../base/model/selector.js';
import { newControllerRef } from './owner-references.js';
import { planSlices, type EndpointGroup } from './slice-packing.js';
import { applySlicePlan, slicesOf } from './endpointslice.js';
import { canonicalJson } from './canonical-json.js';
import { WorkQueue } from '../base/work-queue.js';
import { ANNOTATION_LAST_APPLIED, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, LABEL_SKIP_MIRROR } from '../base/model/well-known.js';
import { indexSlicesByService, serviceKeyOfSlice } from '../base/informer/indexes.js';

export const MIRROR_CONTROLLER_NAME = 'endpointslicemirroring-controller.k8s.io';
const MAX_MIRRORED = 1000;
const SKIPPED_ANNOTATIONS = new Set([ANNOTATION_LAST_APPLIED, 'endpoints.kubernetes.io/last-change-trigger-time']);

export function shouldMirror(ep: Endpoints | undefined, svc: Service | undefined): boolean {
  return !!ep && !!svc && ep.metadata?.labels?.[LABEL_SKIP_MIRROR] !== 'true' && !hasServiceSelector(svc.spec?.selector);
}

function addressEndpoint(a: EndpointAddress, ready: boolean): Endpoint {
  return {
    addresses: [a.ip],
    conditions: { ready },
    ...(a.hostname ? { hostname: a.hostname } : {}),
    ...(a.nodeName ? { nodeName: a.nodeName } : {}),
    ...(a.targetRef ? { targetRef: a.targetRef } : {}),
  };
}

/** Endpoints subsets → slice groups (by address type and port list). */
export function mirroredGroups(ep: Endpoints): EndpointGroup[] {
  const groups = new Map<string, EndpointGroup>();
  let budget = MAX_MIRRORED;
  for (const subset of ep.subsets ?? []) {
    const ports: EndpointPort[] = (subset.ports ?? []).map((p) => ({
      name: p.name ?? '',
      port: p.port,
      protocol: p.protocol ?? 'TCP',
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    }));
    const all = [...(subset.addresses ?? []).map((a) => addressEndpoint(a, true)), ...(subset.notReadyAddresses ?? []).map((a) => addressEndpoint(a, false))];
    for (const e of all) {
      if (budget-- <= 0) break;
      const addressType = e.addresses[0]!.includes(':') ? 'IPv6' : 'IPv4';
      const k = `${addressType}|${canonicalJson(ports)}`;
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { addressType, ports, endpoints: [] }));
      g.endpoints.push(e);
    }
  }
  return [...groups.values()];
}

export function mirroredLabels(ep: Endpoints): Record<string, string> {
  return { ...ep.metadata?.labels, [LABEL_SERVICE_NAME]: ep.metadata!.name!, [LABEL_MANAGED_BY]: MIRROR_CONTROLLER_NAME };
}

export function mirroredAnnotations(ep: Endpoints): Record<string, string> {
  return Object.fromEntries(Object.entries(ep.metadata?.annotations ?? {}).filter(([k]) => !SKIPPED_ANNOTATIONS.has(k)));
}

export function startEndpointSliceMirroringController(ctx: ControllerContext): Controller {
  const log = ctx.log.child('endpointslice-mirroring');
  const events = ctx.recorder('endpointslice-mirroring-controller');
  const services = ctx.informers.informer<Service>('Service');
  const endpoints = ctx.informers.informer<Endpoints>('Endpoints');
  const slices = indexSlicesByService(ctx.informers.informer<EndpointSlice>('EndpointSlice'));
  const queue = new WorkQueue('endpointslice-mirroring', reconcile, { log });
  const enqueueSlice = (s: EndpointSlice) => {
    const svc = serviceKeyOfSlice(s);
    if (svc && s.metadata?.labels?.[LABEL_MANAGED_BY] === MIRROR_CONTROLLER_NAME) queue.add(svc);
  };
  const unsubscribe = [
    services.on({ add: (s) => queue.add(key(s)), update: (_o, s) => queue.add(key(s)), delete: (s) => queue.add(key(s)) }),
    endpoints.on({ add: (e) => queue.add(key(e)), update: (_o, e) => queue.add(key(e)), delete: (e) => queue.add(key(e)) }),
    slices.on({ add: enqueueSlice, update: (_o, s) => enqueueSlice(s), delete: enqueueSlice }),
  ];

  async function reconcile(k: string) {
    const [ns, name] = k.split('/') as [string, string];
    const expectKey = `mirror/${k}`;
    if (!ctx.writes.expectations.satisfied(expectKey)) return { requeueAfterMs: ctx.writes.expectations.remainingMs(expectKey) + 10 };
    const ep = endpoints.get(ns, name);
    const svc = services.get(ns, name);
    const existing = slicesOf(slices, ns, name, MIRROR_CONTROLLER_NAME);
    if (!shouldMirror(ep, svc)) {
      for (const s of existing) await ctx.writes.delete(expectKey, 'EndpointSlice', ns, s.metadata!.name!);
      if (!ep) ctx.writes.expectations.forget(expectKey);
      return;
    }
    const total = (ep!.subsets ?? []).reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);
    if (total > MAX_MIRRORED) events.record(ep!, 'Warning', 'EndpointsOverCapacity', `Endpoints has ${total} addresses; only ${MAX_MIRRORED} are mirrored to EndpointSlices`);
    const owner = newControllerRef({ ...svc!, apiVersion: 'v1', kind: 'Service' });
    const plan = planSlices(
      { namespace: ns, labels: mirroredLabels(ep!), annotations: mirroredAnnotations(ep!), ownerReferences: [owner] },
      mirroredGroups(ep!),
      existing,
      { placeholder: false },
    );
    await applySlicePlan(ctx, expectKey, name, plan);
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      await queue.close();
    },
  };
}
