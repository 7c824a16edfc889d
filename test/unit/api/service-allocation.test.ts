import { describe, expect, it } from 'vitest';
import type { Service } from 'kubernetes-types/core/v1.js';
import { allocateService, emptyTaken, pickNodePort, type Taken } from '../../../dataplane/base/admission/service-allocation.js';
import { clusterConfig } from '../../../dataplane/base/cluster-config.js';

const config = clusterConfig(0);
const fixed = () => 0.5;

function svc(spec: Service['spec'], name = 'web'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec };
}

describe('allocateService', () => {
  const cases: Array<{ name: string; spec: Service['spec']; taken?: (t: Taken) => void; expectError?: string; check?: (s: Service) => void }> = [
    { name: 'ClusterIP gets an IP in the service CIDR', spec: { ports: [{ port: 80 }] }, check: (s) => expect(s.spec?.clusterIP).toMatch(/^127\.(9[6-9]|10\d|11[01])\./) },
    { name: 'requested ClusterIP is honoured', spec: { clusterIP: '127.96.1.1', ports: [{ port: 80 }] }, check: (s) => expect(s.spec?.clusterIPs).toEqual(['127.96.1.1']) },
    { name: 'requested ClusterIP outside the CIDR', spec: { clusterIP: '10.0.0.1', ports: [{ port: 80 }] }, expectError: 'spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 127.96.0.0/12' },
    { name: 'requested ClusterIP taken', spec: { clusterIP: '127.96.0.10', ports: [{ port: 53 }] }, taken: (t) => t.clusterip.set('127.96.0.10', 'Service/kube-system/kube-dns'), expectError: 'spec.clusterIPs: Invalid value: []string{"127.96.0.10"}: failed to allocate IP 127.96.0.10: provided IP is already allocated' },
    { name: 'headless gets no IP', spec: { clusterIP: 'None', ports: [{ port: 80 }] }, check: (s) => expect(s.spec?.clusterIPs).toEqual(['None']) },
    { name: 'ExternalName gets no IP', spec: { type: 'ExternalName', externalName: 'example.com' }, check: (s) => expect(s.spec?.clusterIP).toBeUndefined() },
    { name: 'NodePort dynamic from the upper band', spec: { type: 'NodePort', ports: [{ port: 80 }] }, check: (s) => expect(s.spec?.ports?.[0]?.nodePort).toBeGreaterThanOrEqual(30086) },
    { name: 'NodePort requested out of range', spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 29999 }] }, expectError: 'spec.ports[0].nodePort: Invalid value: 29999: provided port is not in the valid range. The range of valid ports is 30000-32767' },
    { name: 'NodePort requested taken', spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }, taken: (t) => t.nodeport.set('30080', 'Service/default/other'), expectError: 'spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated' },
    {
      name: 'TCP and UDP on one port share a nodePort',
      spec: { type: 'NodePort', ports: [{ name: 'a', port: 53, protocol: 'TCP' }, { name: 'b', port: 53, protocol: 'UDP' }] },
      check: (s) => expect(s.spec?.ports?.[0]?.nodePort).toBe(s.spec?.ports?.[1]?.nodePort),
    },
    { name: 'LB + Local gets a healthCheckNodePort', spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }, check: (s) => expect(s.spec?.healthCheckNodePort).toBeGreaterThanOrEqual(30000) },
    { name: 'LB gets the first free pool IP', spec: { type: 'LoadBalancer', ports: [{ port: 80 }] }, taken: (t) => t.lbip.set('127.18.255.200', 'x'), check: (s) => expect(s.status?.loadBalancer?.ingress?.[0]?.ip).toBe('127.18.255.201') },
    { name: 'LB with a full pool stays pending', spec: { type: 'LoadBalancer', ports: [{ port: 80 }] }, taken: (t) => { for (let i = 200; i <= 250; i++) t.lbip.set(`127.18.255.${i}`, 'x'); }, check: (s) => expect(s.status?.loadBalancer).toEqual({}) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const taken = emptyTaken();
      c.taken?.(taken);
      const r = allocateService(svc(c.spec), undefined, taken, config, fixed);
      if (c.expectError) expect(r.errors).toEqual([c.expectError]);
      else {
        expect(r.errors).toEqual([]);
        c.check?.(r.service);
      }
    });
  }

  it('keeps allocations on update and releases what a type change drops', () => {
    const first = allocateService(svc({ type: 'NodePort', ports: [{ port: 80 }] }), undefined, emptyTaken(), config, fixed).service;
    const taken = emptyTaken();
    taken.clusterip.set(first.spec!.clusterIP!, 'Service/default/web');
    taken.nodeport.set(String(first.spec!.ports![0]!.nodePort), 'Service/default/web');
    const again = allocateService(svc({ type: 'NodePort', ports: [{ port: 80 }] }), first, taken, config, fixed);
    expect(again.service.spec?.ports?.[0]?.nodePort).toBe(first.spec?.ports?.[0]?.nodePort);
    expect(again.releases).toEqual([]);
    const toClusterIP = allocateService(svc({ type: 'ClusterIP', ports: [{ port: 80 }] }), first, taken, config, fixed);
    expect(toClusterIP.releases).toEqual([['nodeport', String(first.spec!.ports![0]!.nodePort)]]);
  });

  it('reports a full NodePort range', () => {
    expect(pickNodePort(config, () => false)).toBeUndefined();
    const taken = emptyTaken();
    for (let p = 30000; p <= 32767; p++) taken.nodeport.set(String(p), 'x');
    expect(allocateService(svc({ type: 'NodePort', ports: [{ port: 80 }] }), undefined, taken, config).errors).toEqual(['spec.ports[0].nodePort: Internal error: failed to allocate a nodePort: range is full']);
  });

  it('never hands out the same NodePort twice while free ones remain', () => {
    const taken = emptyTaken();
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const r = allocateService(svc({ type: 'NodePort', ports: [{ port: 80 }] }, `s${i}`), undefined, taken, config);
      const np = r.service.spec!.ports![0]!.nodePort!;
      expect(seen.has(np)).toBe(false);
      seen.add(np);
    }
  });
});
