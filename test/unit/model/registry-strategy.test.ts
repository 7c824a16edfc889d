import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { nextGeneration, prepareForCreate, prepareForUpdate, tracksGeneration } from '../../../dataplane/base/model/registry-strategy.js';
import { podQOSClass } from '../../../dataplane/base/model/pod-qos.js';
import type { KObject } from '../../../dataplane/base/model/object.js';

const pod = (resources: Array<{ requests?: Record<string, string>; limits?: Record<string, string> }>, init: typeof resources = []): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p' },
  spec: {
    containers: resources.map((r, i) => ({ name: `c${i}`, image: 'x', resources: r })),
    ...(init.length ? { initContainers: init.map((r, i) => ({ name: `i${i}`, image: 'x', resources: r })) } : {}),
  },
});

describe('podQOSClass (GetPodQOS)', () => {
  it.each<[string, Pod, string]>([
    ['nothing set', pod([{}]), 'BestEffort'],
    ['only other resources', pod([{ requests: { 'ephemeral-storage': '1Gi' } }]), 'BestEffort'],
    ['zero requests count as unset', pod([{ requests: { cpu: '0' } }]), 'BestEffort'],
    ['cpu and memory limits equal to requests', pod([{ requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '0.1', memory: '64Mi' } }]), 'Guaranteed'],
    ['limits alone (requests defaulted from them by the apiserver, absent here)', pod([{ limits: { cpu: '1', memory: '1Gi' } }]), 'Burstable'],
    ['limits only cpu', pod([{ requests: { cpu: '1' }, limits: { cpu: '1' } }]), 'Burstable'],
    ['requests below limits', pod([{ requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '64Mi' } }]), 'Burstable'],
    ['one container without limits', pod([{ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }, {}]), 'Burstable'],
    ['an init container counts', pod([{}], [{ requests: { memory: '10Mi' } }]), 'Burstable'],
  ])('%s → %s', (_name, p, want) => expect(podQOSClass(p)).toBe(want));
});

describe('registry strategy', () => {
  it('keeps metadata.generation only for the kinds whose strategy does', () => {
    for (const kind of ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Ingress', 'IngressClass', 'NetworkPolicy', 'EndpointSlice']) expect(tracksGeneration(kind)).toBe(true);
    for (const kind of ['Pod', 'Service', 'ConfigMap', 'Secret', 'Namespace', 'Node', 'Event', 'Endpoints', 'ServiceAccount']) expect(tracksGeneration(kind)).toBe(false);
  });

  it('bumps generation on a spec change (an EndpointSlice on its endpoints), never for kinds without one', () => {
    const d = { kind: 'Deployment', metadata: { name: 'd', generation: 3 }, spec: { replicas: 1 } } as KObject;
    expect(nextGeneration(d, { ...d, metadata: { ...d.metadata, labels: { a: 'b' } } })).toBe(3);
    expect(nextGeneration(d, { ...d, spec: { replicas: 2 } } as KObject)).toBe(4);
    const s = { kind: 'EndpointSlice', metadata: { name: 's', generation: 1 }, addressType: 'IPv4', endpoints: [] } as unknown as KObject;
    expect(nextGeneration(s, { ...s, endpoints: [{ addresses: ['10.0.0.1'] }] } as unknown as KObject)).toBe(2);
    const svc = { kind: 'Service', metadata: { name: 's' }, spec: { ports: [] } } as KObject;
    expect(nextGeneration(svc, { ...svc, spec: { ports: [{ port: 80 }] } } as KObject)).toBeUndefined();
  });

  it('a new Pod starts Pending with its QoS class; a new Namespace Active with the kubernetes finalizer; other status is dropped', () => {
    expect(prepareForCreate({ ...pod([{}]), status: { phase: 'Running' } } as KObject)).toMatchObject({ status: { phase: 'Pending', qosClass: 'BestEffort' } });
    const ns = prepareForCreate({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } });
    expect(ns).toMatchObject({ spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    expect(prepareForCreate({ kind: 'Deployment', metadata: { name: 'd' }, status: { replicas: 3 } } as KObject)).not.toHaveProperty('status');
    expect(prepareForCreate({ kind: 'Service', metadata: { name: 's' }, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } } as KObject)).toMatchObject({ status: { loadBalancer: {} } });
  });

  it("an update keeps a Namespace's finalizers", () => {
    const current = { kind: 'Namespace', metadata: { name: 'n' }, spec: { finalizers: ['kubernetes'] } } as KObject;
    expect(prepareForUpdate(current, { kind: 'Namespace', metadata: { name: 'n', labels: { a: 'b' } } })).toMatchObject({ spec: { finalizers: ['kubernetes'] } });
    expect(prepareForUpdate(current, { ...current, spec: { finalizers: [] } } as KObject)).toMatchObject({ spec: { finalizers: ['kubernetes'] } });
  });
});
