import { describe, expect, it } from 'vitest';
import type { Node, Pod, ServicePort } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import {
  desiredEndpointGroups,
  managesSlicesFor,
  podEndpoint,
  resolveTargetPort,
  sliceLabels,
} from '../../../dataplane/controllers/endpointslice.js';
import { planSlices, type EndpointGroup } from '../../../dataplane/controllers/slice-packing.js';
import { node, pod, service } from './fixtures.js';

const nodes = new Map<string, Node>([
  ['node-1', node('node-1', { labels: { 'topology.kubernetes.io/zone': 'zone-a' } })],
  ['node-2', node('node-2')],
]);

describe('resolveTargetPort (podutil.FindPort)', () => {
  const p: Pod = {
    ...pod('p'),
    spec: {
      containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 5353, protocol: 'UDP' }] }],
      initContainers: [
        { name: 'sidecar', restartPolicy: 'Always', ports: [{ name: 'metrics', containerPort: 9090 }] },
        { name: 'init', ports: [{ name: 'setup', containerPort: 7070 }] },
      ],
    },
  };
  const cases: Array<[string, ServicePort, number | undefined]> = [
    ['number', { port: 80, targetPort: 9000 }, 9000],
    ['unset → port', { port: 80 }, 80],
    ['name', { port: 80, targetPort: 'http' }, 8080],
    ['name with matching protocol', { port: 53, targetPort: 'dns', protocol: 'UDP' }, 5353],
    ['name with another protocol does not match', { port: 53, targetPort: 'dns', protocol: 'TCP' }, undefined],
    ['sidecar init container', { port: 90, targetPort: 'metrics' }, 9090],
    ['plain init container does not count', { port: 70, targetPort: 'setup' }, undefined],
    ['unknown name', { port: 80, targetPort: 'nope' }, undefined],
  ];
  it.each(cases)('%s', (_n, sp, want) => {
    expect(resolveTargetPort(p, sp)).toBe(want);
  });
});

describe('podEndpoint conditions', () => {
  const cases: Array<[string, { ready: boolean; deleting?: boolean }, boolean, Endpoint['conditions']]> = [
    ['ready pod', { ready: true }, false, { ready: true, serving: true, terminating: false }],
    ['unready pod', { ready: false }, false, { ready: false, serving: false, terminating: false }],
    ['terminating ready pod', { ready: true, deleting: true }, false, { ready: false, serving: true, terminating: true }],
    ['terminating unready pod', { ready: false, deleting: true }, false, { ready: false, serving: false, terminating: true }],
    ['publishNotReadyAddresses: unready is ready', { ready: false }, true, { ready: true, serving: false, terminating: false }],
    ['publishNotReadyAddresses: terminating is ready', { ready: true, deleting: true }, true, { ready: true, serving: true, terminating: true }],
  ];
  it.each(cases)('%s', (_n, o, publish, want) => {
    const ep = podEndpoint(service('web', { publishNotReadyAddresses: publish }), pod('p', { ip: '10.0.0.1', node: 'node-1', ...o }), nodes.get('node-1'));
    expect(ep.conditions).toEqual(want);
  });

  it('carries nodeName, zone, targetRef and hostname only for the named subdomain', () => {
    const svc = service('nginx');
    const ep = podEndpoint(svc, pod('web-0', { ip: '10.0.0.1', node: 'node-1', ready: true, hostname: 'web-0', subdomain: 'nginx' }), nodes.get('node-1'));
    expect(ep).toEqual({
      addresses: ['10.0.0.1'],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: 'node-1',
      zone: 'zone-a',
      hostname: 'web-0',
      targetRef: { kind: 'Pod', namespace: 'default', name: 'web-0', uid: 'uid-web-0' },
    });
    expect(podEndpoint(service('other'), pod('web-0', { ip: '10.0.0.1', node: 'node-2', hostname: 'web-0', subdomain: 'nginx' }), nodes.get('node-2'))).not.toHaveProperty('hostname');
    expect(podEndpoint(svc, pod('x', { ip: '10.0.0.1', node: 'node-2' }), nodes.get('node-2'))).not.toHaveProperty('zone');
  });
});

describe('desiredEndpointGroups', () => {
  const named = service('web', { ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] });
  const withPort = (name: string, port: number | undefined, o: Parameters<typeof pod>[1] = {}) =>
    pod(name, { ip: `10.0.0.${name.charCodeAt(0) - 96}`, node: 'node-1', ready: true, ...(port ? { ports: [{ name: 'http', containerPort: port }] } : {}), ...o });

  it('includes selected pods with an IP that are not finished, terminating ones too', () => {
    const pods = [
      withPort('a', 8080),
      withPort('b', 8080, { deleting: true }),
      withPort('c', 8080, { phase: 'Succeeded' }),
      withPort('d', 8080, { phase: 'Failed' }),
      pod('e', { node: 'node-1', ports: [{ name: 'http', containerPort: 8080 }] }),
      withPort('f', 8080, { labels: { app: 'other' } }),
      withPort('g', 8080, { ns: 'other' }),
    ];
    const groups = desiredEndpointGroups(named, pods, nodes);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.endpoints.map((e) => e.targetRef!.name)).toEqual(['a', 'b']);
  });

  it('splits pods whose named port resolves differently, and leaves out a port a pod lacks', () => {
    const two = service('web', {
      ports: [
        { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
        { name: 'raw', port: 81, targetPort: 9000, protocol: 'TCP' },
      ],
    });
    const groups = desiredEndpointGroups(two, [withPort('a', 8080), withPort('b', 8081), withPort('c', 8080), withPort('d', undefined)], nodes);
    const summary = groups.map((g) => [g.ports.map((p) => `${p.name}:${p.port}`).join(','), g.endpoints.map((e) => e.targetRef!.name).join(',')]);
    expect(summary).toEqual([
      ['http:8080,raw:9000', 'a,c'],
      ['http:8081,raw:9000', 'b'],
      ['raw:9000', 'd'],
    ]);
  });

  it('skips IPv6 pod IPs (slices are IPv4)', () => {
    expect(desiredEndpointGroups(named, [withPort('a', 8080, { ip: 'fd00::1' })], nodes)).toEqual([]);
  });
});

describe('slice labels and management', () => {
  it('copies service labels and adds service-name, managed-by, and headless for clusterIP None', () => {
    expect(sliceLabels(service('db', { clusterIP: 'None' }, { team: 'data', 'kubernetes.io/service-name': 'spoof' }))).toEqual({
      team: 'data',
      'kubernetes.io/service-name': 'db',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      'service.kubernetes.io/headless': '',
    });
  });
  it('manages slices only for services with a selector, not ExternalName', () => {
    expect(managesSlicesFor(service('a'))).toBe(true);
    expect(managesSlicesFor(service('a', { selector: undefined }))).toBe(false);
    expect(managesSlicesFor(service('a', { selector: {} }))).toBe(false);
    expect(managesSlicesFor(service('a', { type: 'ExternalName', externalName: 'x.example' }))).toBe(false);
    expect(managesSlicesFor(undefined)).toBe(false);
  });
});

describe('planSlices (stable packing)', () => {
  const shape = { namespace: 'default', labels: { l: 'v' }, ownerReferences: [] };
  const ports = [{ name: 'http', port: 8080, protocol: 'TCP' }];
  const ep = (i: number, ready = true): Endpoint => ({ addresses: [`10.0.${Math.floor(i / 250)}.${i % 250}`], conditions: { ready } });
  const group = (ids: number[], p = ports, ready = true): EndpointGroup => ({ addressType: 'IPv4', ports: p, endpoints: ids.map((i) => ep(i, ready)) });
  const slice = (name: string, ids: number[], p = ports): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'default', labels: { l: 'v' }, ownerReferences: [] },
    addressType: 'IPv4',
    ports: p,
    endpoints: ids.map((i) => ep(i)),
  });
  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

  it('creates ceil(n/100) slices of at most 100', () => {
    const plan = planSlices(shape, [group(range(0, 250))], [], { placeholder: true });
    expect(plan.create.map((s) => s.endpoints.length)).toEqual([100, 100, 50]);
  });

  it('writes nothing when nothing changed', () => {
    expect(planSlices(shape, [group([1, 2, 3])], [slice('a', [1, 2, 3])], { placeholder: true })).toEqual({ create: [], update: [], delete: [] });
  });

  it('keeps endpoints in the slice they were in and adds new ones where there is room', () => {
    const plan = planSlices(shape, [group([1, 2, 4, 5])], [slice('a', [1, 2, 3])], { placeholder: true });
    expect(plan.create).toEqual([]);
    expect(plan.update.map((s) => [s.metadata!.name, s.endpoints.map((e) => e.addresses[0])])).toEqual([['a', ['10.0.0.1', '10.0.0.2', '10.0.0.4', '10.0.0.5']]]);
  });

  it('updates conditions in place', () => {
    const plan = planSlices(shape, [group([1, 2], ports, false)], [slice('a', [1, 2])], { placeholder: true });
    expect(plan.update.map((s) => s.metadata!.name)).toEqual(['a']);
    expect(plan.update[0]!.endpoints.every((e) => e.conditions?.ready === false)).toBe(true);
  });

  it('reuses a slice that would be deleted instead of deleting one and creating another', () => {
    const other = [{ name: 'http', port: 9090, protocol: 'TCP' }];
    const plan = planSlices(shape, [group([1, 2], other)], [slice('a', [1, 2])], { placeholder: true });
    expect(plan.create).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.update.map((s) => [s.metadata!.name, s.ports])).toEqual([['a', other]]);
  });

  it('deletes emptied slices but keeps one empty placeholder', () => {
    const plan = planSlices(shape, [group([1])], [slice('a', [1]), slice('b', [2])], { placeholder: true });
    expect(plan.delete.map((s) => s.metadata!.name)).toEqual(['b']);
    const none = planSlices(shape, [], [slice('a', [1]), slice('b', [2])], { placeholder: true });
    expect(none.update.map((s) => [s.metadata!.name, s.endpoints, s.ports])).toEqual([['a', [], []]]);
    expect(none.delete.map((s) => s.metadata!.name)).toEqual(['b']);
    expect(planSlices(shape, [], [], { placeholder: true }).create.map((s) => [s.endpoints, s.ports])).toEqual([[[], []]]);
    expect(planSlices(shape, [], [slice('a', [1])], { placeholder: false })).toMatchObject({ create: [], update: [], delete: [{ metadata: { name: 'a' } }] });
  });

  it('drops duplicates across slices', () => {
    const plan = planSlices(shape, [group([1, 2])], [slice('a', [1, 2]), slice('b', [2])], { placeholder: true });
    expect(plan.delete.map((s) => s.metadata!.name)).toEqual(['b']);
    expect(plan.update).toEqual([]);
  });

  it('rewrites labels and owner when the service changes them', () => {
    const plan = planSlices({ ...shape, labels: { l: 'w' } }, [group([1])], [slice('a', [1])], { placeholder: true });
    expect(plan.update[0]!.metadata!.labels).toEqual({ l: 'w' });
  });
});
