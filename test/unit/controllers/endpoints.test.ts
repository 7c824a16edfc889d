import { describe, expect, it } from 'vitest';
import type { Endpoints } from 'kubernetes-types/core/v1.js';
import { desiredEndpoints, desiredSubsets } from '../../../dataplane/controllers/endpoints.js';
import { mirroredAnnotations, mirroredGroups, mirroredLabels, shouldMirror } from '../../../dataplane/controllers/endpointslice-mirroring.js';
import { pod, service } from './fixtures.js';

const p = (name: string, ip: string, o: Parameters<typeof pod>[1] = {}) => pod(name, { ip, node: 'node-1', ready: true, ports: [{ name: 'http', containerPort: 8080 }], ...o });
const ref = (name: string) => ({ kind: 'Pod', namespace: 'default', name, uid: `uid-${name}` });

describe('legacy Endpoints (desiredSubsets)', () => {
  const svc = service('web', { ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] });

  it('puts Ready pods in addresses and others in notReadyAddresses, sorted by IP', () => {
    const { subsets } = desiredSubsets(svc, [p('b', '10.0.0.10'), p('a', '10.0.0.9'), p('c', '10.0.0.11', { ready: false })]);
    expect(subsets).toEqual([
      {
        addresses: [
          { ip: '10.0.0.9', nodeName: 'node-1', targetRef: ref('a') },
          { ip: '10.0.0.10', nodeName: 'node-1', targetRef: ref('b') },
        ],
        notReadyAddresses: [{ ip: '10.0.0.11', nodeName: 'node-1', targetRef: ref('c') }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
  });

  it('leaves out terminating and finished pods unless publishNotReadyAddresses', () => {
    const pods = [p('a', '10.0.0.1'), p('b', '10.0.0.2', { deleting: true }), p('c', '10.0.0.3', { phase: 'Failed' }), p('d', '10.0.0.4', { ready: false })];
    expect(desiredSubsets(svc, pods).subsets[0]!.addresses!.map((a) => a.ip)).toEqual(['10.0.0.1']);
    const publish = desiredSubsets({ ...svc, spec: { ...svc.spec, publishNotReadyAddresses: true } }, pods).subsets;
    expect(publish).toHaveLength(1);
    expect(publish[0]!.addresses!.map((a) => a.ip)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.4']);
    expect(publish[0]!.notReadyAddresses).toBeUndefined();
  });

  it('repacks: ports offered by the same addresses share a subset, different resolutions split', () => {
    const two = service('web', {
      ports: [
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        { name: 'raw', port: 81, targetPort: 9000, protocol: 'TCP' },
      ],
    });
    const { subsets } = desiredSubsets(two, [p('a', '10.0.0.1'), p('b', '10.0.0.2', { ports: [{ name: 'http', containerPort: 8081 }] })]);
    expect(subsets.map((s) => [s.addresses?.map((a) => a.ip), s.ports?.map((x) => `${x.name}:${x.port}`)])).toEqual([
      [['10.0.0.1'], ['http:8080']],
      [['10.0.0.1', '10.0.0.2'], ['raw:9000']],
      [['10.0.0.2'], ['http:8081']],
    ]);
  });

  it('headless services without ports still list addresses; hostnames for the subdomain', () => {
    const headless = service('nginx', { clusterIP: 'None', ports: [] });
    const { subsets } = desiredSubsets(headless, [p('web-0', '10.0.0.1', { hostname: 'web-0', subdomain: 'nginx' })]);
    expect(subsets).toEqual([{ addresses: [{ ip: '10.0.0.1', nodeName: 'node-1', targetRef: ref('web-0'), hostname: 'web-0' }] }]);
  });

  it('labels the object skip-mirror (and headless), and truncates beyond 1000 addresses', () => {
    const e = desiredEndpoints(service('web', { clusterIP: 'None' }, { app: 'web' }), []);
    expect(e.metadata).toEqual({ name: 'web', namespace: 'default', labels: { app: 'web', 'service.kubernetes.io/headless': '', 'endpointslice.kubernetes.io/skip-mirror': 'true' } });
    expect(e.subsets).toBeUndefined();
    const many = Array.from({ length: 1005 }, (_, i) => p(`p${i}`, `10.1.${Math.floor(i / 250)}.${i % 250}`));
    const big = desiredEndpoints(svc, many);
    expect(big.subsets!.reduce((n, s) => n + (s.addresses?.length ?? 0), 0)).toBe(1000);
    expect(big.metadata!.annotations).toEqual({ 'endpoints.kubernetes.io/over-capacity': 'truncated' });
  });
});

describe('Endpoints mirroring', () => {
  const ep: Endpoints = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'db', namespace: 'default', labels: { team: 'data' }, annotations: { note: 'x', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
    subsets: [
      { addresses: [{ ip: '127.0.0.1', nodeName: 'node-1' }], notReadyAddresses: [{ ip: '127.0.0.2', hostname: 'h' }], ports: [{ name: 'pg', port: 5432 }] },
      { addresses: [{ ip: '127.0.0.3' }, { ip: 'fd00::3' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] },
      { addresses: [{ ip: '127.0.0.4' }], ports: [{ name: 'other', port: 1 }] },
    ],
  };

  it('mirrors only user Endpoints of existing selector-less Services', () => {
    const noSel = service('db', { selector: undefined });
    expect(shouldMirror(ep, noSel)).toBe(true);
    expect(shouldMirror(ep, service('db'))).toBe(false);
    expect(shouldMirror(ep, undefined)).toBe(false);
    expect(shouldMirror({ ...ep, metadata: { ...ep.metadata, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } } }, noSel)).toBe(false);
  });

  it('groups addresses by type and ports: addresses ready, notReadyAddresses not', () => {
    const groups = mirroredGroups(ep);
    expect(groups.map((g) => [g.addressType, g.ports.map((p) => `${p.name}:${p.port}/${p.protocol}`).join(), g.endpoints])).toEqual([
      [
        'IPv4',
        'pg:5432/TCP',
        [
          { addresses: ['127.0.0.1'], conditions: { ready: true }, nodeName: 'node-1' },
          { addresses: ['127.0.0.2'], conditions: { ready: false }, hostname: 'h' },
          { addresses: ['127.0.0.3'], conditions: { ready: true } },
        ],
      ],
      ['IPv6', 'pg:5432/TCP', [{ addresses: ['fd00::3'], conditions: { ready: true } }]],
      ['IPv4', 'other:1/TCP', [{ addresses: ['127.0.0.4'], conditions: { ready: true } }]],
    ]);
  });

  it('copies labels and annotations, with the mirroring controller as manager', () => {
    expect(mirroredLabels(ep)).toEqual({ team: 'data', 'kubernetes.io/service-name': 'db', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' });
    expect(mirroredAnnotations(ep)).toEqual({ note: 'x' });
  });

  it('mirrors at most 1000 addresses', () => {
    const big: Endpoints = { ...ep, subsets: [{ addresses: Array.from({ length: 1200 }, (_, i) => ({ ip: `10.0.${Math.floor(i / 250)}.${i % 250}` })), ports: [{ port: 1 }] }] };
    expect(mirroredGroups(big)[0]!.endpoints).toHaveLength(1000);
  });
});
