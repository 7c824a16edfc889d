/**
 * The EndpointSlice controller's TopologyCache (staging/src/k8s.io/endpointslice/topologycache,
 * 1.32): the zones' CPU ratios from the Nodes, and per Service the hints it was last given, and
 * AddHints — a slice plan's endpoints hinted for `topology-mode: Auto` (topology-hints.ts has
 * the arithmetic).
 *
 * AddHints works on the plan the way the reconciler's SliceInfo does: slices to create or update
 * get fresh hints (own zone, then redistributed); an unchanged slice keeps its hints while they
 * still fit the allocations (getHintsByZone), so a pod coming or going does not rewrite every
 * slice. When a safeguard fails, every slice loses its hints (unchanged ones with hints are
 * rewritten) and the Service gets a `TopologyAwareHintsDisabled` event; when hints come back,
 * `TopologyAwareHintsEnabled`.
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import {
  HINTS_MESSAGES,
  REASON_HINTS_ENABLED,
  disabledEvent,
  getAllocations,
  getGivingAndReceivingZones,
  getHintsByZone,
  isEndpointReady,
  redistributeHints,
  serviceOverloaded,
  withAddressType,
  zoneCpuRatios,
  type HintsEvent,
  type ZoneCounts,
} from './topology-hints.js';
import { endpointKey, sameSlice, type SlicePlan } from './slice-packing.js';

/** The slices of one Service and address type, as the reconciler is about to write them. */
export interface SliceInfo {
  serviceKey: string;
  addressType: string;
  toCreate: EndpointSlice[];
  toUpdate: EndpointSlice[];
  unchanged: EndpointSlice[];
}

export interface HintedSlices {
  toCreate: EndpointSlice[];
  toUpdate: EndpointSlice[];
  events: HintsEvent[];
}

/** A slice with its own endpoint array and endpoints, so hints can be written without touching a cached object. */
function copySlice(s: EndpointSlice): EndpointSlice {
  return { ...s, endpoints: (s.endpoints ?? []).map((ep) => ({ ...ep })) };
}

function withoutHints(ep: Endpoint): Endpoint {
  const { hints: _hints, ...rest } = ep;
  return rest;
}

/** RemoveHintsFromSlices: no hints anywhere; an unchanged slice that had some is rewritten. */
export function removeHintsFromSlices(si: SliceInfo): { toCreate: EndpointSlice[]; toUpdate: EndpointSlice[] } {
  const strip = (s: EndpointSlice): EndpointSlice => ({ ...s, endpoints: (s.endpoints ?? []).map(withoutHints) });
  const toUpdate = si.toUpdate.map(strip);
  for (const s of si.unchanged) if ((s.endpoints ?? []).some((ep) => ep.hints !== undefined)) toUpdate.push(strip(s));
  return { toCreate: si.toCreate.map(strip), toUpdate };
}

/**
 * The endpoints with the hints the existing slices gave them. Upstream's reconciler compares
 * endpoints without their hints when deciding what to rewrite; carrying the old hints over makes
 * slice-packing's comparison do the same, and AddHints then decides them.
 */
export function carryHints(endpoints: Endpoint[], existing: EndpointSlice[]): Endpoint[] {
  const hints = new Map<string, Endpoint['hints']>();
  for (const s of existing) for (const ep of s.endpoints ?? []) if (ep.hints) hints.set(endpointKey(ep), ep.hints);
  return endpoints.map((ep) => {
    const h = hints.get(endpointKey(ep));
    return h && isEndpointReady(ep) ? { ...ep, hints: h } : ep;
  });
}

export class TopologyCache {
  private ratios: ZoneCounts | undefined;
  /** The hints per zone each Service ("ns/name") was last given; present only while it has hints. */
  private readonly hintsByService = new Map<string, ZoneCounts>();

  /** SetNodes; returns whether the zones' ratios changed. */
  setNodes(nodes: Iterable<Node>): boolean {
    const next = zoneCpuRatios(nodes);
    const changed = JSON.stringify(next ?? null) !== JSON.stringify(this.ratios ?? null);
    this.ratios = next;
    return changed;
  }

  /** The zones' CPU ratios, undefined while the node info is insufficient. */
  cpuRatios(): ZoneCounts | undefined {
    return this.ratios && { ...this.ratios };
  }

  hasPopulatedHints(serviceKey: string): boolean {
    return this.hintsByService.has(serviceKey);
  }

  /** The hints per zone the Service was last given (undefined: none). */
  hintsOf(serviceKey: string): ZoneCounts | undefined {
    return this.hintsByService.get(serviceKey);
  }

  removeHints(serviceKey: string): void {
    this.hintsByService.delete(serviceKey);
  }

  /** GetOverloadedServices: Services with hints that some zone can no longer carry. */
  overloadedServices(): string[] {
    return [...this.hintsByService].filter(([, hints]) => serviceOverloaded(hints, this.ratios)).map(([key]) => key);
  }

  /** AddHints. */
  addHints(si: SliceInfo): HintedSlices {
    const ready = [...si.toCreate, ...si.toUpdate, ...si.unchanged].reduce((n, s) => n + (s.endpoints ?? []).filter(isEndpointReady).length, 0);
    const result = getAllocations(this.ratios, ready);
    if ('event' in result) return this.disable(si, result.event.message);
    const { allocations } = result;

    // Unchanged slices whose hints still fit keep them; the others are rewritten (getAllocatedHintsByZone).
    const allocated: ZoneCounts = {};
    const toCreate = si.toCreate.map(copySlice);
    const toUpdate = si.toUpdate.map(copySlice);
    for (const s of si.unchanged) {
      const held = getHintsByZone(s, allocated, allocations);
      if (!held) toUpdate.push(copySlice(s));
      else for (const [zone, n] of Object.entries(held)) allocated[zone] = (allocated[zone] ?? 0) + n;
    }
    // Step 1: every ready endpoint of the slices being written hinted for its own zone.
    const writing = [...toCreate, ...toUpdate];
    for (const s of writing) {
      for (const [i, ep] of s.endpoints.entries()) {
        if (!isEndpointReady(ep)) {
          s.endpoints[i] = withoutHints(ep);
          continue;
        }
        if (!ep.zone) return this.disable(si, HINTS_MESSAGES.NoZoneSpecified);
        allocated[ep.zone] = (allocated[ep.zone] ?? 0) + 1;
        s.endpoints[i] = { ...ep, hints: { forZones: [{ name: ep.zone }] } };
      }
    }
    // Steps 2 and 3: zones over their share give endpoints to zones under it.
    const { giving, receiving } = getGivingAndReceivingZones(allocations, allocated);
    for (const [zone, diff] of Object.entries(redistributeHints(writing, giving, receiving))) allocated[zone] = (allocated[zone] ?? 0) + diff;
    if (!Object.keys(allocated).length) return this.disable(si, HINTS_MESSAGES.NoAllocatedHintsForZones);

    const events: HintsEvent[] = [];
    if (!this.hintsByService.has(si.serviceKey)) {
      events.push({ type: 'Normal', reason: REASON_HINTS_ENABLED, message: withAddressType(HINTS_MESSAGES.TopologyAwareHintsEnabled, si.addressType) });
    }
    this.hintsByService.set(si.serviceKey, allocated);
    return { toCreate, toUpdate, events };
  }

  private disable(si: SliceInfo, message: string): HintedSlices {
    this.removeHints(si.serviceKey);
    return { ...removeHintsFromSlices(si), events: [disabledEvent(withAddressType(message, si.addressType))] };
  }
}

/**
 * The reconciler's hints step over a slice plan (IPv4, knet's one address type). With topology
 * Auto: AddHints over the plan, the existing slices it leaves alone being the unchanged ones.
 * Without it: hints this cache gave earlier are forgotten with upstream's "has been disabled"
 * event (the endpoints' hints are already trafficDistribution's, or none).
 */
export function hintSlicePlan(cache: TopologyCache, serviceKey: string, auto: boolean, plan: SlicePlan, existing: EndpointSlice[]): { plan: SlicePlan; events: HintsEvent[] } {
  if (!auto) {
    const events = cache.hasPopulatedHints(serviceKey) ? [disabledEvent(withAddressType(HINTS_MESSAGES.TopologyAwareHintsDisabled, 'IPv4'))] : [];
    cache.removeHints(serviceKey);
    return { plan, events };
  }
  const touched = new Set([...plan.update, ...plan.delete].map((s) => s.metadata?.name));
  const unchanged = existing.filter((s) => !touched.has(s.metadata?.name));
  const hinted = cache.addHints({ serviceKey, addressType: 'IPv4', toCreate: plan.create, toUpdate: plan.update, unchanged });
  // A slice whose hints came out as they were is not written.
  const byName = new Map(existing.map((s) => [s.metadata?.name, s]));
  const toUpdate = hinted.toUpdate.filter((s) => {
    const before = byName.get(s.metadata?.name);
    return !before || !sameSlice(before, s);
  });
  return { plan: { create: hinted.toCreate, update: toUpdate, delete: plan.delete }, events: hinted.events };
}
