/**
 * Topology Aware Routing's arithmetic (staging/src/k8s.io/endpointslice/topologycache, 1.32:
 * topologycache.go's SetNodes and getAllocations, utils.go), as pure functions. A Service with
 * `service.kubernetes.io/topology-mode: Auto` has its ready endpoints given out to zones in
 * proportion to each zone's share of the cluster's allocatable CPU:
 *
 *   ratio(zone)   = allocatable CPU of the zone's ready nodes / that of all ready nodes
 *   desired(zone) = ratio × ready endpoints
 *   minimum(zone) = ⌈desired / (1 + OVERLOAD_THRESHOLD)⌉   (no endpoint takes over 20 % more than its share)
 *   maximum(zone) = minimum + (endpoints − Σ minimum)
 *
 * Each endpoint starts hinted for its own zone; zones holding more than `desired` give endpoints
 * to zones holding fewer, whole endpoints at a time (getGivingAndReceivingZones). The safeguards,
 * each a `TopologyAwareHintsDisabled` event with upstream's message, come from here too.
 *
 * Go iterates maps in random order; here zones are visited in name order, so a tie (two zones
 * owed the same) always goes the same way.
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { parseQuantity } from '../base/model/quantity.js';
import { LABEL_TOPOLOGY_ZONE } from '../base/model/well-known.js';
import { isNodeReady } from './node-fit.js';

/** The most overload any one endpoint should be exposed to (topologycache.go's overloadThreshold). */
export const OVERLOAD_THRESHOLD = 0.2;

/** event.go: the events' messages, word for word. */
export const HINTS_MESSAGES = {
  NoZoneSpecified: 'One or more endpoints do not have a zone specified',
  NoAllocatedHintsForZones: 'No hints allocated for zones',
  TopologyAwareHintsEnabled: 'Topology Aware Hints has been enabled',
  TopologyAwareHintsDisabled: 'Topology Aware Hints has been disabled',
  InsufficientNodeInfo: 'Insufficient Node information: allocatable CPU or zone not specified on one or more nodes',
  NodesReadyInOneZoneOnly: 'Nodes only ready in one zone',
  InsufficientNumberOfEndpoints: 'Insufficient number of endpoints',
  MinAllocationExceedsOverloadThreshold: 'Unable to allocate minimum required endpoints to each zone without exceeding overload threshold',
} as const;

export const REASON_HINTS_DISABLED = 'TopologyAwareHintsDisabled';
export const REASON_HINTS_ENABLED = 'TopologyAwareHintsEnabled';

/** An event for the Service (topologycache's EventBuilder). */
export interface HintsEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** Endpoints (or hints) per zone (EndpointZoneInfo). */
export type ZoneCounts = Record<string, number>;

export interface Allocation {
  minimum: number;
  maximum: number;
  desired: number;
}

/** FormatWithAddressType. */
export function withAddressType(message: string, addressType: string): string {
  return `${message}, addressType: ${addressType}`;
}

export function disabledEvent(message: string): HintsEvent {
  return { type: 'Warning', reason: REASON_HINTS_DISABLED, message };
}

/** Nodes with either role label are left out of the capacity (hasExcludedLabels). */
function isExcluded(node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  return 'node-role.kubernetes.io/control-plane' in labels || 'node-role.kubernetes.io/master' in labels;
}

/**
 * SetNodes: each zone's share of the ready nodes' allocatable CPU, or undefined ("insufficient
 * node info") when a ready node lacks a zone or CPU, there is no CPU at all, or fewer than two
 * zones have any. CPU is counted in millicores, as Quantity.MilliValue.
 */
export function zoneCpuRatios(nodes: Iterable<Node>): ZoneCounts | undefined {
  const milliByZone: ZoneCounts = {};
  let total = 0;
  for (const node of nodes) {
    if (isExcluded(node) || !isNodeReady(node)) continue;
    const zone = node.metadata?.labels?.[LABEL_TOPOLOGY_ZONE];
    const milli = Math.round((parseQuantity(node.status?.allocatable?.cpu) ?? 0) * 1000);
    // Upstream bails out at the first such node: every Service loses its hints.
    if (!zone || milli <= 0) return undefined;
    total += milli;
    milliByZone[zone] = (milliByZone[zone] ?? 0) + milli;
  }
  if (total === 0 || Object.keys(milliByZone).length < 2) return undefined;
  const ratios: ZoneCounts = {};
  for (const [zone, milli] of Object.entries(milliByZone)) ratios[zone] = milli / total;
  return ratios;
}

/** getAllocations: each zone's minimum, maximum and desired count, or the event saying why there are none. */
export function getAllocations(ratios: ZoneCounts | undefined, numEndpoints: number): { allocations: Record<string, Allocation> } | { event: HintsEvent } {
  if (!ratios) return { event: disabledEvent(HINTS_MESSAGES.InsufficientNodeInfo) };
  const zones = Object.keys(ratios).sort();
  if (zones.length < 2) return { event: disabledEvent(HINTS_MESSAGES.NodesReadyInOneZoneOnly) };
  const counts = `(${numEndpoints} endpoints, ${zones.length} zones)`;
  if (zones.length > numEndpoints) return { event: disabledEvent(`${HINTS_MESSAGES.InsufficientNumberOfEndpoints} ${counts}`) };
  const allocations: Record<string, Allocation> = {};
  let minTotal = 0;
  for (const zone of zones) {
    const desired = ratios[zone]! * numEndpoints;
    const minimum = Math.ceil(desired * (1 / (1 + OVERLOAD_THRESHOLD)));
    allocations[zone] = { minimum, maximum: 0, desired: Math.max(desired, minimum) };
    minTotal += minimum;
    if (minTotal > numEndpoints) return { event: disabledEvent(`${HINTS_MESSAGES.MinAllocationExceedsOverloadThreshold} ${counts}`) };
  }
  for (const a of Object.values(allocations)) a.maximum = a.minimum + numEndpoints - minTotal;
  return { allocations };
}

/** getMost: the zone owed (or owing) the most, the first by name on a tie; "" when none is above 0. */
function getMost(zones: ZoneCounts): [string, number] {
  let best: [string, number] = ['', 0];
  for (const zone of Object.keys(zones).sort()) if (zones[zone]! > best[1]) best = [zone, zones[zone]!];
  return best;
}

/**
 * getGivingAndReceivingZones: how many whole endpoints each zone gives away and each receives,
 * from the allocations (desired) and the hints each zone holds now.
 */
export function getGivingAndReceivingZones(allocations: Record<string, Allocation>, allocated: ZoneCounts): { giving: ZoneCounts; receiving: ZoneCounts } {
  const givingDesired: ZoneCounts = {};
  const receivingDesired: ZoneCounts = {};
  for (const [zone, a] of Object.entries(allocations)) {
    const held = allocated[zone] ?? 0;
    if (held > a.desired) givingDesired[zone] = held - a.desired;
    else if (held < a.desired) receivingDesired[zone] = a.desired - held;
  }
  const giving: ZoneCounts = {};
  const receiving: ZoneCounts = {};
  for (;;) {
    const [from, toGive] = getMost(givingDesired);
    const [to, toReceive] = getMost(receivingDesired);
    // Stop once either side is out, both have less than one left, or either less than a half.
    if (!from || !to || (toGive < 1 && toReceive < 1) || toGive < 0.5 || toReceive < 0.5) break;
    giving[from] = (giving[from] ?? 0) + 1;
    givingDesired[from]! -= 1;
    receiving[to] = (receiving[to] ?? 0) + 1;
    receivingDesired[to]! -= 1;
  }
  return { giving, receiving };
}

export function isEndpointReady(ep: Endpoint): boolean {
  return ep.conditions?.ready === true;
}

/**
 * redistributeHints: re-hints endpoints of giving zones (in slice order) for receiving zones;
 * rewrites the slices' endpoints in place (the caller's own copies) and returns the change in
 * hints per zone. `giving` and `receiving` are used up.
 */
export function redistributeHints(slices: EndpointSlice[], giving: ZoneCounts, receiving: ZoneCounts): ZoneCounts {
  const changes: ZoneCounts = {};
  for (const slice of slices) {
    for (const [i, ep] of (slice.endpoints ?? []).entries()) {
      if (!isEndpointReady(ep)) continue;
      if (!Object.keys(giving).length || !Object.keys(receiving).length) return changes;
      const from = ep.zone;
      if (!from || !giving[from]) continue;
      const to = Object.keys(receiving).sort().find((z) => receiving[z]! > 0);
      if (!to) continue;
      slice.endpoints[i] = { ...ep, hints: { forZones: [{ name: to }] } };
      if (--giving[from]! === 0) delete giving[from];
      if (--receiving[to]! === 0) delete receiving[to];
      changes[to] = (changes[to] ?? 0) + 1;
      changes[from] = (changes[from] ?? 0) - 1;
    }
  }
  return changes;
}

/**
 * getHintsByZone: the hints an unchanged slice holds per zone, or undefined when they no longer
 * fit — a ready endpoint without hints, a hint for a zone with no allocation, or more hints for a
 * zone than its maximum — and the slice must be rewritten.
 */
export function getHintsByZone(slice: EndpointSlice, allocated: ZoneCounts, allocations: Record<string, Allocation>): ZoneCounts | undefined {
  const byZone: ZoneCounts = {};
  for (const ep of slice.endpoints ?? []) {
    if (!isEndpointReady(ep)) continue;
    const zones = ep.hints?.forZones ?? [];
    if (!zones.length) return undefined;
    for (const { name } of zones) {
      if (!allocations[name]) return undefined;
      byZone[name] = (byZone[name] ?? 0) + 1;
    }
  }
  for (const [zone, n] of Object.entries(byZone)) if (n + (allocated[zone] ?? 0) > allocations[zone]!.maximum) return undefined;
  return byZone;
}

/** serviceOverloaded: whether some zone now holds fewer hinted endpoints than its minimum (the nodes changed). */
export function serviceOverloaded(hints: ZoneCounts, ratios: ZoneCounts | undefined): boolean {
  if (!Object.keys(hints).length) return false;
  if (!ratios || !Object.keys(ratios).length) return true;
  const total = Object.values(hints).reduce((a, b) => a + b, 0);
  for (const [zone, ratio] of Object.entries(ratios)) {
    const held = hints[zone];
    if (held === undefined) return true;
    if (held < Math.ceil(total * ratio * (1 / (1 + OVERLOAD_THRESHOLD)))) return true;
  }
  return false;
}
