import { describe, expect, it } from 'vitest';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint } from 'kubernetes-types/discovery/v1.js';
import { desiredEndpointGroups } from '../../../dataplane/controllers/endpointslice.js';
import { prefersClose, topologyModeAuto, withZoneHints } from '../../../dataplane/controllers/traffic-distribution.js';
import { node, pod, service } from './fixtures.js';

const nodes = new Map<string, Node>([
  ['node-1', node('node-1', { labels: { 'topology.kubernetes.io/zone': 'zone-a' } })],
  ['node-2', node('node-2', { labels: { 'topology.kubernetes.io/zone': 'zone-b' } })],
  ['node-3', node('node-3')],
]);
const annotated = (svc: Service, annotations: Record<string, string>): Service => ({ ...svc, metadata: { ...svc.metadata, annotations } });
const preferClose = service('web', { trafficDistribution: 'PreferClose' });

describe('topologyModeAuto (the reconciler’s hintsEnabled)', () => {
  it.each<[string, Record<string, string> | undefined, boolean]>([
    ['no annotations', undefined, false],
    ['topology-mode Auto', { 'service.kubernetes.io/topology-mode': 'Auto' }, true],
    ['topology-mode auto', { 'service.kubernetes.io/topology-mode': 'auto' }, true],
    ['topology-mode Disabled', { 'service.kubernetes.io/topology-mode': 'Disabled' }, false],
    ['topology-mode with another value', { 'service.kubernetes.io/topology-mode': 'PreferZone' }, false],
    ['the older name', { 'service.kubernetes.io/topology-aware-hints': 'Auto' }, true],
    ['the older name wins when both are set', { 'service.kubernetes.io/topology-aware-hints': 'Disabled', 'service.kubernetes.io/topology-mode': 'Auto' }, false],
  ])('%s', (_n, annotations, want) => {
    expect(topologyModeAuto(annotations)).toBe(want);
  });
});

describe('prefersClose', () => {
  it('is PreferClose without topology-mode Auto, which takes precedence', () => {
    expect(prefersClose(preferClose)).toBe(true);
    expect(prefersClose(service('web'))).toBe(false);
    expect(prefersClose(annotated(preferClose, { 'service.kubernetes.io/topology-mode': 'Auto' }))).toBe(false);
    expect(prefersClose(annotated(preferClose, { 'service.kubernetes.io/topology-mode': 'Disabled' }))).toBe(true);
  });
});

describe('withZoneHints (trafficdist heuristics)', () => {
  const ep = (o: Partial<Endpoint> = {}): Endpoint => ({ addresses: ['10.0.0.1'], conditions: { ready: true, serving: true, terminating: false }, zone: 'zone-a', ...o });
  it.each<[string, Endpoint, boolean, Endpoint['hints']]>([
    ['ready with a zone: hinted for its own zone', ep(), true, { forZones: [{ name: 'zone-a' }] }],
    ['a wrong hint is replaced', ep({ hints: { forZones: [{ name: 'zone-b' }, { name: 'zone-a' }] } }), true, { forZones: [{ name: 'zone-a' }] }],
    ['no zone: no hint (a stale one removed)', ep({ zone: undefined, hints: { forZones: [{ name: 'zone-a' }] } }), true, undefined],
    ['not ready: no hint', ep({ conditions: { ready: false, serving: true, terminating: true } }), true, undefined],
    ['without PreferClose: hints removed', ep({ hints: { forZones: [{ name: 'zone-a' }] } }), false, undefined],
  ])('%s', (_n, endpoint, close, want) => {
    const out = withZoneHints(endpoint, close);
    if (want) expect(out.hints).toEqual(want);
    else expect(out).not.toHaveProperty('hints');
    expect(out.zone).toBe(endpoint.zone);
  });
});

describe('desiredEndpointGroups with trafficDistribution', () => {
  const pods = [
    pod('a', { ip: '10.0.0.1', node: 'node-1', ready: true }),
    pod('b', { ip: '10.0.0.2', node: 'node-2', ready: true }),
    pod('c', { ip: '10.0.0.3', node: 'node-3', ready: true }),
    pod('d', { ip: '10.0.0.4', node: 'node-1', ready: false }),
  ];
  const hintsOf = (svc: Service) => desiredEndpointGroups(svc, pods, nodes)[0]!.endpoints.map((e) => [e.targetRef!.name, e.hints?.forZones?.map((z) => z.name) ?? null]);

  it('PreferClose: each ready endpoint hinted for its node’s zone; a zoneless node’s and unready ones get none', () => {
    expect(hintsOf(preferClose)).toEqual([
      ['a', ['zone-a']],
      ['b', ['zone-b']],
      ['c', null],
      ['d', null],
    ]);
  });

  it('no trafficDistribution, or topology-mode Auto: no hints', () => {
    expect(hintsOf(service('web')).every(([, h]) => h === null)).toBe(true);
    expect(hintsOf(annotated(preferClose, { 'service.kubernetes.io/topology-mode': 'Auto' })).every(([, h]) => h === null)).toBe(true);
  });
});
