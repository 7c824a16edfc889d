/**
 * Topology Aware Routing (topology-mode Auto): upstream's topologycache tests
 * (topologycache_test.go, utils_test.go) as tables, plus each safeguard's event message.
 */
import { describe, expect, it } from 'vitest';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { getAllocations, getGivingAndReceivingZones, getHintsByZone, redistributeHints, serviceOverloaded, zoneCpuRatios, type Allocation, type ZoneCounts } from '../../../dataplane/controllers/topology-hints.js';
import { TopologyCache, carryHints, hintSlicePlan, type SliceInfo } from '../../../dataplane/controllers/topology-cache.js';

function zoneNode(zone: string | undefined, cpu: string | undefined, ready = true, labels: Record<string, string> = {}): Node {
  return {
    metadata: { name: `n-${Math.random()}`, labels: { ...labels, ...(zone ? { 'topology.kubernetes.io/zone': zone } : {}) } },
    status: { allocatable: cpu ? { cpu } : {}, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

/** An endpoint: ready unless said otherwise (`ready: undefined` leaves the condition unset). */
function ep(address: string, zone: string | undefined, o: { ready?: boolean | null; hint?: string } = {}): Endpoint {
  const ready = o.ready === undefined ? true : o.ready;
  return {
    addresses: [address],
    conditions: ready === null ? {} : { ready },
    ...(zone ? { zone } : {}),
    ...(o.hint ? { hints: { forZones: [{ name: o.hint }] } } : {}),
  };
}
const slice = (name: string, endpoints: Endpoint[]): EndpointSlice => ({ metadata: { name }, addressType: 'IPv4', endpoints });
const hintsOf = (slices: EndpointSlice[]) => slices.flatMap((s) => s.endpoints.map((e) => `${e.addresses[0]}:${e.hints?.forZones?.map((z) => z.name).join() ?? ''}`));
const cacheWith = (nodes: Node[]) => {
  const cache = new TopologyCache();
  cache.setNodes(nodes);
  return cache;
};
const twoZones = [zoneNode('zone-a', '1'), zoneNode('zone-b', '1')];

describe('zoneCpuRatios (SetNodes)', () => {
  it.each<[string, Node[], ZoneCounts | undefined]>([
    ['empty', [], undefined],
    ['single node', [zoneNode('zone-a', '1000m')], undefined],
    ['single zone', [zoneNode('zone-a', '1000m'), zoneNode('zone-a', '1000m')], undefined],
    ['2 zones', [zoneNode('zone-a', '1000m'), zoneNode('zone-b', '1000m')], { 'zone-a': 0.5, 'zone-b': 0.5 }],
    ['2 zones, unready node in 1, ready node in 1', [zoneNode('zone-a', '1000m', false), zoneNode('zone-b', '1000m')], undefined],
    ['2 zones, control plane node in 1, ready node in 1', [zoneNode('zone-a', '1000m'), zoneNode('zone-b', '1000m', true, { 'node-role.kubernetes.io/control-plane': '' })], undefined],
    ['2 zones, unready node in 1, ready node in 2', [zoneNode('zone-a', '1000m'), zoneNode('zone-b', '1000m'), zoneNode('zone-b', '1000m', false)], { 'zone-a': 0.5, 'zone-b': 0.5 }],
    ['2 zones, control plane node in 1, ready node in 2', [zoneNode('zone-a', '1000m'), zoneNode('zone-b', '1000m'), zoneNode('zone-b', '1000m', true, { 'node-role.kubernetes.io/control-plane': '' })], { 'zone-a': 0.5, 'zone-b': 0.5 }],
    [
      '3 zones, 4 nodes in 1, 2 nodes in 1, 1 node in 1',
      [zoneNode('zone-a', '1000m'), zoneNode('zone-a', '1000m'), zoneNode('zone-a', '1000m'), zoneNode('zone-a', '2000m'), zoneNode('zone-b', '3000m'), zoneNode('zone-b', '1500m'), zoneNode('zone-c', '500m')],
      { 'zone-a': 0.5, 'zone-b': 0.45, 'zone-c': 0.05 },
    ],
    ['a ready node without a zone', [zoneNode('zone-a', '1'), zoneNode('zone-b', '1'), zoneNode(undefined, '1')], undefined],
    ['a ready node without allocatable CPU', [zoneNode('zone-a', '1'), zoneNode('zone-b', '1'), zoneNode('zone-b', undefined)], undefined],
    ['unequal whole CPUs (knet nodes report the host’s count)', [zoneNode('zone-a', '4'), zoneNode('zone-b', '12')], { 'zone-a': 0.25, 'zone-b': 0.75 }],
  ])('%s', (_name, nodes, want) => {
    expect(zoneCpuRatios(nodes)).toEqual(want);
  });
});

describe('getAllocations: the expected count per zone and the safeguards’ messages', () => {
  it.each<[string, ZoneCounts | undefined, number, string]>([
    ['no node info', undefined, 4, 'Insufficient Node information: allocatable CPU or zone not specified on one or more nodes'],
    ['one zone', { 'zone-a': 1 }, 4, 'Nodes only ready in one zone'],
    ['fewer endpoints than zones', { 'zone-a': 0.3, 'zone-b': 0.4, 'zone-c': 0.3 }, 2, 'Insufficient number of endpoints (2 endpoints, 3 zones)'],
    ['minimums over the total', { 'zone-a': 0.1, 'zone-b': 0.9 }, 2, 'Unable to allocate minimum required endpoints to each zone without exceeding overload threshold (2 endpoints, 2 zones)'],
  ])('%s', (_name, ratios, n, message) => {
    expect(getAllocations(ratios, n)).toEqual({ event: { type: 'Warning', reason: 'TopologyAwareHintsDisabled', message } });
  });

  it('gives each zone its share: minimum ⌈desired/1.2⌉, maximum minimum + the slack', () => {
    const result = getAllocations({ 'zone-a': 0.5, 'zone-b': 0.45, 'zone-c': 0.05 }, 20);
    expect(result).toEqual({
      allocations: {
        'zone-a': { desired: 10, minimum: 9, maximum: 11 },
        'zone-b': { desired: 9, minimum: 8, maximum: 10 },
        'zone-c': { desired: 1, minimum: 1, maximum: 3 },
      },
    });
  });
});

describe('getGivingAndReceivingZones (utils_test.go)', () => {
  const alloc = (d: ZoneCounts) => Object.fromEntries(Object.entries(d).map(([z, desired]) => [z, { desired, minimum: 0, maximum: 0 }]));
  it.each<[string, ZoneCounts, ZoneCounts, ZoneCounts, ZoneCounts]>([
    ['empty', {}, {}, {}, {}],
    ['no need for rebalancing', { 'zone-a': 1.2, 'zone-b': 1.1, 'zone-c': 1.0 }, { 'zone-a': 1, 'zone-b': 1, 'zone-c': 1 }, {}, {}],
    ['same zone preferred over a slightly better spread', { 'zone-a': 5.1, 'zone-b': 5.1, 'zone-c': 5.8 }, { 'zone-a': 16 }, { 'zone-a': 10 }, { 'zone-b': 5, 'zone-c': 5 }],
    ['two zones need < 1: the neediest gets it', { 'zone-a': 5.0, 'zone-b': 5.6, 'zone-c': 5.4 }, { 'zone-a': 16 }, { 'zone-a': 11 }, { 'zone-b': 6, 'zone-c': 5 }],
    ['two zones with extra: the one with most gives', { 'zone-a': 5.0, 'zone-b': 5.6, 'zone-c': 5.4 }, { 'zone-b': 8, 'zone-c': 8 }, { 'zone-b': 2, 'zone-c': 3 }, { 'zone-a': 5 }],
    ['more allocated than allocations', { 'zone-a': 5, 'zone-b': 5, 'zone-c': 5 }, { 'zone-a': 6, 'zone-b': 6, 'zone-c': 6 }, {}, {}],
    ['negative allocations', { 'zone-a': -5, 'zone-b': -5, 'zone-c': -5 }, { 'zone-a': 6, 'zone-b': 6, 'zone-c': 6 }, {}, {}],
    ['negative allocated', { 'zone-a': 5, 'zone-b': 5, 'zone-c': 5 }, { 'zone-a': -4, 'zone-b': -3, 'zone-c': -2 }, {}, {}],
    ['negative for one zone', { 'zone-a': 5, 'zone-b': 5, 'zone-c': 5 }, { 'zone-a': -40, 'zone-b': 20, 'zone-c': 20 }, { 'zone-b': 15, 'zone-c': 15 }, { 'zone-a': 30 }],
  ])('%s', (_name, desired, allocated, giving, receiving) => {
    expect(getGivingAndReceivingZones(alloc(desired), allocated)).toEqual({ giving, receiving });
  });
});

describe('redistributeHints (utils_test.go)', () => {
  it.each<[string, Endpoint[], ZoneCounts, ZoneCounts, ZoneCounts]>([
    ['empty', [], {}, {}, {}],
    ['single endpoint', [ep('10.0.0.1', 'zone-a', { hint: 'zone-a' })], { 'zone-a': 1 }, { 'zone-b': 1 }, { 'zone-a': -1, 'zone-b': 1 }],
    ['1 zone to 2 others', ['1', '2', '3'].map((i) => ep(`10.0.0.${i}`, 'zone-a', { hint: 'zone-a' })), { 'zone-a': 2 }, { 'zone-b': 1, 'zone-c': 1 }, { 'zone-a': -2, 'zone-b': 1, 'zone-c': 1 }],
  ])('%s', (_name, endpoints, giving, receiving, want) => {
    expect(redistributeHints([slice('s', endpoints)], giving, receiving)).toEqual(want);
  });
});

describe('getHintsByZone (utils_test.go)', () => {
  const max = (m: ZoneCounts): Record<string, Allocation> => Object.fromEntries(Object.entries(m).map(([z, maximum]) => [z, { maximum, minimum: 0, desired: 0 }]));
  it.each<[string, Endpoint[], ZoneCounts, ZoneCounts, ZoneCounts | undefined]>([
    ['empty', [], {}, {}, {}],
    ['single zone hint', [ep('1', 'zone-a', { hint: 'zone-a' })], { 'zone-a': 3 }, { 'zone-a': 1 }, { 'zone-a': 1 }],
    ['unready and unknown endpoints ignored', [ep('1', 'zone-a', { hint: 'zone-a' }), ep('2', 'zone-a', { hint: 'zone-a', ready: false }), ep('3', 'zone-a', { hint: 'zone-a', ready: null })], { 'zone-a': 3 }, { 'zone-a': 1 }, { 'zone-a': 1 }],
    ['multiple zone hints', [ep('1', 'zone-a', { hint: 'zone-a' }), ep('2', 'zone-a', { hint: 'zone-b' }), ep('3', 'zone-b', { hint: 'zone-b' })], { 'zone-a': 3, 'zone-b': 3, 'zone-c': 3 }, { 'zone-a': 1, 'zone-b': 1, 'zone-c': 1 }, { 'zone-a': 1, 'zone-b': 2 }],
    ['a zone no longer allocated', [ep('1', 'zone-a', { hint: 'zone-gone' })], { 'zone-a': 3 }, {}, undefined],
    ['a ready endpoint without hints', [ep('1', 'zone-a')], { 'zone-a': 3 }, {}, undefined],
    ['over the maximum', [ep('1', 'zone-a', { hint: 'zone-a' }), ep('2', 'zone-a', { hint: 'zone-a' })], { 'zone-a': 2 }, { 'zone-a': 1 }, undefined],
  ])('%s', (_name, endpoints, maxima, allocated, want) => {
    expect(getHintsByZone(slice('s', endpoints), allocated, max(maxima))).toEqual(want);
  });
});

describe('TopologyCache.addHints (topologycache_test.go TestAddHints)', () => {
  const info = (o: Partial<SliceInfo>): SliceInfo => ({ serviceKey: 'ns/svc', addressType: 'IPv4', toCreate: [], toUpdate: [], unchanged: [], ...o });
  const ratios = (r: ZoneCounts) => {
    // Nodes whose allocatable CPU gives exactly these ratios (in millicores of 1000 in all).
    const cache = new TopologyCache();
    cache.setNodes(Object.entries(r).map(([zone, ratio]) => zoneNode(zone, `${Math.round(ratio * 1000)}m`)));
    return cache;
  };

  it('no node info: no hints, "Insufficient Node information"', () => {
    const r = new TopologyCache().addHints(info({ toCreate: [slice('', [ep('10.1.2.3', 'zone-a')])] }));
    expect(hintsOf(r.toCreate)).toEqual(['10.1.2.3:']);
    expect(r.events).toEqual([{ type: 'Warning', reason: 'TopologyAwareHintsDisabled', message: 'Insufficient Node information: allocatable CPU or zone not specified on one or more nodes, addressType: IPv4' }]);
  });

  it('2 endpoints, 3 zones: "Insufficient number of endpoints"', () => {
    const r = ratios({ 'zone-a': 0.3, 'zone-b': 0.4, 'zone-c': 0.3 }).addHints(info({ toCreate: [slice('', [ep('10.1.2.3', 'zone-a'), ep('10.1.2.4', 'zone-b')])] }));
    expect(hintsOf(r.toCreate)).toEqual(['10.1.2.3:', '10.1.2.4:']);
    expect(r.events.map((e) => [e.reason, e.message])).toEqual([['TopologyAwareHintsDisabled', 'Insufficient number of endpoints (2 endpoints, 3 zones), addressType: IPv4']]);
  });

  it('2 ready, 1 unready, 1 unknown endpoints in 2 zones: hints for the ready ones, "has been enabled"', () => {
    const cache = ratios({ 'zone-a': 0.45, 'zone-b': 0.55 });
    const r = cache.addHints(info({ toCreate: [slice('', [ep('10.1.2.3', 'zone-a'), ep('10.1.2.4', 'zone-b'), ep('10.1.2.5', 'zone-b', { ready: false }), ep('10.1.2.6', 'zone-b', { ready: null })])] }));
    expect(hintsOf(r.toCreate)).toEqual(['10.1.2.3:zone-a', '10.1.2.4:zone-b', '10.1.2.5:', '10.1.2.6:']);
    expect(r.events).toEqual([{ type: 'Normal', reason: 'TopologyAwareHintsEnabled', message: 'Topology Aware Hints has been enabled, addressType: IPv4' }]);
    expect(cache.hintsOf('ns/svc')).toEqual({ 'zone-a': 1, 'zone-b': 1 });
    // Enabled only once: the next sync with hints says nothing.
    expect(cache.addHints(info({ toCreate: [slice('', [ep('10.1.2.3', 'zone-a'), ep('10.1.2.4', 'zone-b')])] })).events).toEqual([]);
  });

  it('slices to create and update within the 3-zone threshold: zone-a gives one endpoint to zone-b', () => {
    const cache = ratios({ 'zone-a': 0.35, 'zone-b': 0.35, 'zone-c': 0.3 });
    const r = cache.addHints(
      info({
        toCreate: [slice('', [ep('10.1.2.3', 'zone-a'), ep('10.1.2.4', 'zone-b')]), slice('', [ep('10.1.3.3', 'zone-c'), ep('10.1.3.4', 'zone-c'), ep('10.1.3.5', 'zone-a')])],
        toUpdate: [slice('u1', [ep('10.2.2.3', 'zone-a'), ep('10.2.2.4', 'zone-a')]), slice('u2', [ep('10.2.3.3', 'zone-b'), ep('10.2.3.4', 'zone-c'), ep('10.2.3.5', 'zone-a')])],
      }),
    );
    expect(hintsOf(r.toCreate)).toEqual(['10.1.2.3:zone-b', '10.1.2.4:zone-b', '10.1.3.3:zone-c', '10.1.3.4:zone-c', '10.1.3.5:zone-a']);
    expect(hintsOf(r.toUpdate)).toEqual(['10.2.2.3:zone-a', '10.2.2.4:zone-a', '10.2.3.3:zone-b', '10.2.3.4:zone-c', '10.2.3.5:zone-a']);
    expect(cache.hintsOf('ns/svc')).toEqual({ 'zone-a': 4, 'zone-b': 3, 'zone-c': 3 });
  });

  it('an endpoint without a zone: no hints anywhere, unchanged slices with hints rewritten', () => {
    const unchanged = slice('old', [ep('10.0.0.1', 'zone-a', { hint: 'zone-a' }), ep('10.0.0.2', 'zone-b', { hint: 'zone-b' })]);
    const r = cacheWith(twoZones).addHints(info({ toCreate: [slice('', [ep('10.0.0.3', undefined), ep('10.0.0.4', 'zone-b')])], unchanged: [unchanged] }));
    expect(hintsOf([...r.toCreate, ...r.toUpdate])).toEqual(['10.0.0.3:', '10.0.0.4:', '10.0.0.1:', '10.0.0.2:']);
    expect(r.events.map((e) => e.message)).toEqual(['One or more endpoints do not have a zone specified, addressType: IPv4']);
    expect(unchanged.endpoints[0]!.hints).toBeDefined(); // the cached object is not touched
  });

  it('an unchanged slice whose hints still fit is left alone; one over its zone’s maximum is rewritten', () => {
    const cache = cacheWith(twoZones);
    const fits = slice('fits', [ep('10.0.0.1', 'zone-a', { hint: 'zone-a' }), ep('10.0.0.2', 'zone-b', { hint: 'zone-b' })]);
    const r = cache.addHints(info({ toCreate: [slice('', [ep('10.0.0.3', 'zone-a'), ep('10.0.0.4', 'zone-b')])], unchanged: [fits] }));
    expect(r.toUpdate).toEqual([]);
    expect(hintsOf(r.toCreate)).toEqual(['10.0.0.3:zone-a', '10.0.0.4:zone-b']);
    // 4 endpoints, 2 zones: maximum 2 each; three hints for zone-a cannot stay.
    const skewed = slice('skewed', [ep('10.0.0.1', 'zone-a', { hint: 'zone-a' }), ep('10.0.0.2', 'zone-a', { hint: 'zone-a' }), ep('10.0.0.3', 'zone-a', { hint: 'zone-a' }), ep('10.0.0.4', 'zone-b', { hint: 'zone-b' })]);
    const again = cache.addHints(info({ unchanged: [skewed] }));
    expect(hintsOf(again.toUpdate)).toEqual(['10.0.0.1:zone-b', '10.0.0.2:zone-a', '10.0.0.3:zone-a', '10.0.0.4:zone-b']);
  });
});

describe('overloaded services (GetOverloadedServices) and the reconciler step', () => {
  it('a Service is overloaded when a zone it has no hints for appears, or a zone falls below its minimum', () => {
    expect(serviceOverloaded({ 'zone-a': 2, 'zone-b': 2 }, { 'zone-a': 0.5, 'zone-b': 0.5 })).toBe(false);
    expect(serviceOverloaded({ 'zone-a': 2, 'zone-b': 2 }, { 'zone-a': 1 / 3, 'zone-b': 1 / 3, 'zone-c': 1 / 3 })).toBe(true);
    expect(serviceOverloaded({ 'zone-a': 1, 'zone-b': 3 }, { 'zone-a': 0.5, 'zone-b': 0.5 })).toBe(true);
    expect(serviceOverloaded({ 'zone-a': 2 }, undefined)).toBe(true);
    expect(serviceOverloaded({}, undefined)).toBe(false);

    const cache = cacheWith(twoZones);
    cache.addHints({ serviceKey: 'ns/svc', addressType: 'IPv4', toCreate: [slice('', [ep('1', 'zone-a'), ep('2', 'zone-b')])], toUpdate: [], unchanged: [] });
    expect(cache.overloadedServices()).toEqual([]);
    expect(cache.setNodes([...twoZones, zoneNode('zone-c', '1')])).toBe(true);
    expect(cache.overloadedServices()).toEqual(['ns/svc']);
  });

  it('hintSlicePlan: the annotation removed forgets the hints with "has been disabled", once', () => {
    const cache = cacheWith(twoZones);
    const existing = [slice('web-1', [ep('1', 'zone-a'), ep('2', 'zone-b')])];
    const plan = { create: [], update: [], delete: [] };
    const on = hintSlicePlan(cache, 'ns/svc', true, plan, existing);
    expect(hintsOf(on.plan.update)).toEqual(['1:zone-a', '2:zone-b']);
    expect(on.events.map((e) => e.reason)).toEqual(['TopologyAwareHintsEnabled']);
    const off = hintSlicePlan(cache, 'ns/svc', false, plan, on.plan.update);
    expect(off.events).toEqual([{ type: 'Warning', reason: 'TopologyAwareHintsDisabled', message: 'Topology Aware Hints has been disabled, addressType: IPv4' }]);
    expect(hintSlicePlan(cache, 'ns/svc', false, plan, on.plan.update).events).toEqual([]);
  });

  it('carryHints keeps a ready endpoint’s old hint so an unchanged slice compares equal', () => {
    const existing = [slice('web-1', [ep('1', 'zone-a', { hint: 'zone-b' }), ep('2', 'zone-b', { hint: 'zone-b' })])];
    expect(carryHints([ep('1', 'zone-a'), ep('2', 'zone-b', { ready: false }), ep('3', 'zone-a')], existing).map((e) => e.hints?.forZones?.[0]?.name)).toEqual(['zone-b', undefined, undefined]);
  });
});
