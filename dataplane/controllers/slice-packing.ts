/**
 * Packing endpoints into EndpointSlices while keeping slices stable (the reconciler of
 * staging/src/k8s.io/endpointslice, shared by the EndpointSlice and mirroring controllers).
 *
 * Endpoints are grouped by their port list (pods whose named targetPort resolves to
 * different numbers need different slices). For each group:
 *  1. every existing slice with the same ports keeps the endpoints it already holds that are
 *     still wanted (refreshed to their current conditions), drops the rest;
 *  2. new endpoints fill those slices up to the limit (100), then reuse slices that would
 *     otherwise be deleted (rewriting their ports), then go into new slices.
 * An endpoint therefore stays in the slice it was in, names don't churn, and a slice is
 * written only when its content (compared canonically) changes. With nothing to publish, one
 * empty placeholder slice is kept when asked (as the EndpointSlice controller does).
 */
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { canonicalJson, sameJson } from './canonical-json.js';

export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface EndpointGroup {
  addressType: string;
  ports: EndpointPort[];
  endpoints: Endpoint[];
}

export interface SliceShape {
  namespace: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences: ObjectMeta['ownerReferences'];
}

export interface SlicePlan {
  /** New slices, without a name (the caller generates one). */
  create: EndpointSlice[];
  /** Existing slices with their new content (name and resourceVersion kept). */
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

/** Identity of an endpoint inside a group: its first address. */
export function endpointKey(ep: Endpoint): string {
  return ep.addresses[0] ?? '';
}

function groupKey(addressType: string, ports: EndpointPort[] | undefined): string {
  return `${addressType}|${canonicalJson(ports ?? [])}`;
}

export function planSlices(shape: SliceShape, groups: EndpointGroup[], existing: EndpointSlice[], opts: { placeholder: boolean; maxPerSlice?: number }): SlicePlan {
  const max = opts.maxPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  const byName = (a: EndpointSlice, b: EndpointSlice) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
  const existingByGroup = new Map<string, EndpointSlice[]>();
  for (const s of [...existing].sort(byName)) {
    const k = groupKey(s.addressType, s.ports);
    existingByGroup.set(k, [...(existingByGroup.get(k) ?? []), s]);
  }
  const wantedKeys = new Set(groups.filter((g) => g.endpoints.length > 0).map((g) => groupKey(g.addressType, g.ports)));
  // Slices whose port list no longer exists are spare from the start.
  const spare: EndpointSlice[] = [];
  for (const [k, slices] of existingByGroup) if (!wantedKeys.has(k)) spare.push(...slices);

  const results: Array<{ from?: EndpointSlice; addressType: string; ports: EndpointPort[]; endpoints: Endpoint[] }> = [];
  for (const g of groups) {
    if (g.endpoints.length === 0) continue;
    const k = groupKey(g.addressType, g.ports);
    const remaining = new Map<string, Endpoint>();
    for (const ep of g.endpoints) if (!remaining.has(endpointKey(ep))) remaining.set(endpointKey(ep), ep);
    const slots: Array<{ from?: EndpointSlice; endpoints: Endpoint[] }> = [];
    for (const s of existingByGroup.get(k) ?? []) {
      const kept: Endpoint[] = [];
      for (const ep of s.endpoints ?? []) {
        const want = remaining.get(endpointKey(ep));
        if (want && kept.length < max) {
          kept.push(want);
          remaining.delete(endpointKey(ep));
        }
      }
      if (kept.length) slots.push({ from: s, endpoints: kept });
      else spare.push(s);
    }
    const fresh = [...remaining.values()];
    for (const slot of slots) while (slot.endpoints.length < max && fresh.length) slot.endpoints.push(fresh.shift()!);
    while (fresh.length) slots.push({ from: spare.shift(), endpoints: fresh.splice(0, max) });
    for (const slot of slots) results.push({ ...slot, addressType: g.addressType, ports: g.ports });
  }
  if (results.length === 0 && opts.placeholder) {
    // Keep (or make) exactly one empty slice, reusing an existing one if possible.
    const reuse = spare.find((s) => (s.endpoints ?? []).length === 0) ?? spare[0];
    if (reuse) spare.splice(spare.indexOf(reuse), 1);
    results.push({ from: reuse, addressType: 'IPv4', ports: [], endpoints: [] });
  }

  const plan: SlicePlan = { create: [], update: [], delete: spare };
  for (const r of results) {
    const body: EndpointSlice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        ...r.from?.metadata,
        namespace: shape.namespace,
        labels: shape.labels,
        ...(shape.annotations && Object.keys(shape.annotations).length ? { annotations: shape.annotations } : {}),
        ownerReferences: shape.ownerReferences,
      },
      addressType: r.addressType,
      endpoints: r.endpoints,
      ports: r.ports,
    };
    if (!shape.annotations || !Object.keys(shape.annotations).length) delete body.metadata!.annotations;
    if (!r.from) plan.create.push(body);
    else if (!sameSlice(r.from, body)) plan.update.push(body);
  }
  return plan;
}

/** Compares what the controller owns in a slice: labels, annotations, owner, type, ports, endpoints. */
export function sameSlice(a: EndpointSlice, b: EndpointSlice): boolean {
  const view = (s: EndpointSlice) => ({
    labels: s.metadata?.labels ?? {},
    annotations: s.metadata?.annotations ?? {},
    owners: s.metadata?.ownerReferences ?? [],
    addressType: s.addressType,
    ports: s.ports ?? [],
    endpoints: s.endpoints ?? [],
  });
  return sameJson(view(a), view(b));
}
