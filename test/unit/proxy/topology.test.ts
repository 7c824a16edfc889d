import { describe, expect, it } from 'vitest';
import { canUseTopology, categorizeEndpoints, localReadyEndpointIPs } from '../../../proxy/topology.js';
import type { EndpointInfo } from '../../../proxy/service-table.js';

function e(ip: string, node: string, cond: Partial<EndpointInfo> = {}): EndpointInfo {
  return { ip, port: 8080, nodeName: node, zoneHints: [], ready: true, serving: true, terminating: false, ...cond };
}
const TERM = { ready: false, serving: true, terminating: true };
const DEAD = { ready: false, serving: false, terminating: true };
const UNREADY = { ready: false, serving: false, terminating: false };
const ips = (eps: EndpointInfo[]) => eps.map((x) => x.ip);

describe('categorizeEndpoints', () => {
  it.each<[string, EndpointInfo[], string | undefined, string[], string[], boolean]>([
    ['ready only', [e('a', 'node-1'), e('b', 'node-2', UNREADY)], 'node-1', ['a'], ['a'], true],
    ['terminating not used while any ready', [e('a', 'node-2'), e('b', 'node-1', TERM)], 'node-1', ['a'], ['b'], true],
    ['fallback to serving+terminating', [e('a', 'node-1', TERM), e('b', 'node-2', DEAD), e('c', 'node-2', UNREADY)], 'node-1', ['a'], ['a'], true],
    ['local fallback computed over local endpoints', [e('a', 'node-2'), e('b', 'node-1', TERM)], 'node-1', ['a'], ['b'], true],
    ['local ready wins over local terminating', [e('a', 'node-1'), e('b', 'node-1', TERM)], 'node-1', ['a'], ['a'], true],
    ['no local', [e('a', 'node-2')], 'node-1', ['a'], [], true],
    ['nothing usable', [e('a', 'node-1', DEAD), e('b', 'node-1', UNREADY)], 'node-1', [], [], false],
    ['empty', [], 'node-1', [], [], false],
    ['no node: nothing is local', [e('a', 'node-1')], undefined, ['a'], [], true],
  ])('%s', (_n, eps, node, cluster, local, any) => {
    const s = categorizeEndpoints(eps, node);
    expect(ips(s.cluster)).toEqual(cluster);
    expect(ips(s.local)).toEqual(local);
    expect(s.hasAnyEndpoints).toBe(any);
  });

  it('honours topology hints only when every ready endpoint has one and some match', () => {
    const hinted = [e('a', 'node-1', { zoneHints: ['z1'] }), e('b', 'node-2', { zoneHints: ['z2'] })];
    expect(ips(categorizeEndpoints(hinted, 'node-1', 'z1').cluster)).toEqual(['a']);
    expect(ips(categorizeEndpoints(hinted, 'node-1', 'z3').cluster)).toEqual(['a', 'b']);
    expect(ips(categorizeEndpoints(hinted, 'node-1', undefined).cluster)).toEqual(['a', 'b']);
    const partial = [e('a', 'node-1', { zoneHints: ['z1'] }), e('b', 'node-2')];
    expect(canUseTopology(partial, 'z1')).toBe(false);
    expect(ips(categorizeEndpoints(partial, 'node-1', 'z1').cluster)).toEqual(['a', 'b']);
    // Unready endpoints' missing hints do not matter.
    expect(canUseTopology([...hinted, e('c', 'node-1', UNREADY)], 'z1')).toBe(true);
  });
});

describe('PreferClose hints (each ready endpoint hinted for its own zone)', () => {
  const a1 = e('a1', 'node-1', { zone: 'zone-a', zoneHints: ['zone-a'] });
  const a2 = e('a2', 'node-3', { zone: 'zone-a', zoneHints: ['zone-a'] });
  const b1 = e('b1', 'node-2', { zone: 'zone-b', zoneHints: ['zone-b'] });
  it.each<[string, EndpointInfo[], string | undefined, string[]]>([
    ['a zone with endpoints keeps to them', [a1, a2, b1], 'zone-a', ['a1', 'a2']],
    ['the other zone to its own', [a1, a2, b1], 'zone-b', ['b1']],
    ['a zone without an endpoint falls back to all of them', [a1, a2, b1], 'zone-c', ['a1', 'a2', 'b1']],
    ['a node without a zone uses all of them', [a1, a2, b1], undefined, ['a1', 'a2', 'b1']],
    ['its zone’s endpoints not ready: all the ready ones', [{ ...a1, ...UNREADY }, { ...a2, ...UNREADY }, b1], 'zone-a', ['b1']],
    ['a ready endpoint on a zoneless node has no hint: hints ignored', [a1, b1, e('c', 'node-4')], 'zone-a', ['a1', 'b1', 'c']],
  ])('%s', (_n, eps, zone, want) => {
    expect(ips(categorizeEndpoints(eps, 'node-1', zone).cluster)).toEqual(want);
  });
});

describe('localReadyEndpointIPs', () => {
  it('counts ready local endpoints by unique IP; terminating ones do not count', () => {
    const eps = [e('a', 'node-1'), { ...e('a', 'node-1'), port: 9090 }, e('b', 'node-1', TERM), e('c', 'node-2')];
    expect([...localReadyEndpointIPs(eps, 'node-1')]).toEqual(['a']);
    expect(localReadyEndpointIPs(eps, 'node-3').size).toBe(0);
  });
});
