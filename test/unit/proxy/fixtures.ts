/** Builders for hand-written Services and EndpointSlices in the proxy's test block 127.51.0.0/16. */
import type { Service, ServicePort, ServiceSpec } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointSlice, EndpointPort } from 'kubernetes-types/discovery/v1.js';
import type { NodeAddress } from '../../../proxy/traffic-source.js';

export const NODE1: NodeAddress = { name: 'node-1', ip: '127.51.0.2', podCIDR: '127.51.1.0/24' };
export const NODE2: NodeAddress = { name: 'node-2', ip: '127.51.0.3', podCIDR: '127.51.2.0/24' };
export const NODES = [NODE1, NODE2];

export function svc(
  name: string,
  spec: Partial<ServiceSpec> & { ports?: ServicePort[] },
  extra: { namespace?: string; labels?: Record<string, string>; lbIPs?: string[] } = {},
): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: extra.namespace ?? 'default', ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: { type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }], ...spec },
    ...(extra.lbIPs ? { status: { loadBalancer: { ingress: extra.lbIPs.map((ip) => ({ ip })) } } } : {}),
  };
}

export interface EP {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  zone?: string;
  hints?: string[];
  pod?: string;
}

export function ep(e: EP): Endpoint {
  const conditions: Endpoint['conditions'] = {};
  if (e.ready !== undefined) conditions.ready = e.ready;
  if (e.serving !== undefined) conditions.serving = e.serving;
  if (e.terminating !== undefined) conditions.terminating = e.terminating;
  return {
    addresses: [e.ip],
    conditions,
    ...(e.node ? { nodeName: e.node } : {}),
    ...(e.zone ? { zone: e.zone } : {}),
    ...(e.hints ? { hints: { forZones: e.hints.map((name) => ({ name })) } } : {}),
    ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod, namespace: 'default' } } : {}),
  };
}

export function slice(service: string, ports: EndpointPort[], endpoints: EP[], name = `${service}-abc`, namespace = 'default'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports,
    endpoints: endpoints.map(ep),
  };
}
