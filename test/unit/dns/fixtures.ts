/**
 * A small hand-written cluster for the DNS tests: Services, EndpointSlices, Pods and
 * Namespaces covering every record kind, fed through a MemoryInformerFactory.
 */
import type { Namespace, Pod, Service, ServicePort, ServiceSpec } from 'kubernetes-types/core/v1.js';
import type { EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import type { KObject } from '../../../dataplane/base/model/object.js';
import { RecordIndex } from '../../../dns/record-index.js';

/** SOA serial of the fixture index: its clock is frozen at this instant. */
export const SERIAL = 1732000000;

export function service(namespace: string, name: string, spec: ServiceSpec): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec };
}

export function clusterIP(namespace: string, name: string, ips: string[], ports: ServicePort[], extra: ServiceSpec = {}): Service {
  return service(namespace, name, { type: 'ClusterIP', clusterIP: ips[0], clusterIPs: ips, ports, ...extra });
}

export function headless(namespace: string, name: string, ports: ServicePort[], extra: ServiceSpec = {}): Service {
  return service(namespace, name, { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports, ...extra });
}

export function externalName(namespace: string, name: string, target: string): Service {
  return service(namespace, name, { type: 'ExternalName', externalName: target });
}

export interface EndpointSpec {
  ip: string;
  ready?: boolean;
  hostname?: string;
}

export function slice(
  namespace: string,
  serviceName: string,
  endpoints: EndpointSpec[],
  ports: EndpointPort[] | undefined,
  name = `${serviceName}-abcde`,
  addressType = 'IPv4',
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace, name, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType,
    ...(ports ? { ports } : {}),
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }),
      ...(e.hostname ? { hostname: e.hostname } : {}),
    })),
  };
}

export function namespace(name: string): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

export function pod(namespace: string, name: string, ip: string): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace, name }, spec: { containers: [] }, status: { podIP: ip, podIPs: [{ ip }] } };
}

export const tcp = (name: string | undefined, port: number): ServicePort & EndpointPort => ({
  ...(name ? { name } : {}),
  port,
  protocol: 'TCP',
});
export const udp = (name: string | undefined, port: number): ServicePort & EndpointPort => ({
  ...(name ? { name } : {}),
  port,
  protocol: 'UDP',
});

/** The fixture cluster's objects. The DNS server's own address is 10.96.0.10. */
export function fixtureObjects(): KObject[] {
  return [
    namespace('prod'),
    namespace('empty-ns'),
    namespace('testns'),
    clusterIP('kube-system', 'kube-dns', ['10.96.0.10'], [udp('dns', 53), tcp('dns-tcp', 53), tcp('metrics', 9153)]),
    clusterIP('default', 'kubernetes', ['10.96.0.1'], [tcp('https', 443)]),
    clusterIP('prod', 'web', ['10.96.5.5'], [tcp('http', 80), tcp('https', 443)]),
    slice('prod', 'web', [{ ip: '10.244.1.5' }, { ip: '10.244.1.6', ready: false }], [tcp('http', 80), tcp('https', 443)]),
    clusterIP('prod', 'dual', ['10.96.5.6', 'fd00::6'], [tcp('http', 80)]),
    clusterIP('prod', 'unnamed', ['10.96.5.7'], [tcp(undefined, 8080)]),
    headless('prod', 'db', [tcp('postgres', 5432)]),
    slice(
      'prod',
      'db',
      [
        { ip: '10.244.1.7', hostname: 'db-0' },
        { ip: '10.244.2.8', hostname: 'db-1', ready: true },
        { ip: '10.244.3.9', hostname: 'db-2', ready: false },
      ],
      [tcp('postgres', 5432)],
    ),
    headless('prod', 'empty-headless', [tcp('http', 80)]),
    headless('prod', 'unready', [tcp('http', 80)]),
    slice('prod', 'unready', [{ ip: '10.244.6.1', ready: false }], [tcp('http', 80)]),
    headless('prod', 'pub', [tcp('peer', 7000)], { publishNotReadyAddresses: true }),
    slice('prod', 'pub', [{ ip: '10.244.4.1', ready: false }], [tcp('peer', 7000)]),
    headless('prod', 'portless', []),
    slice('prod', 'portless', [{ ip: '10.244.5.1' }], undefined),
    headless('prod', 'three', [tcp('http', 80)]),
    slice('prod', 'three', [{ ip: '10.244.7.1' }, { ip: '10.244.7.2' }, { ip: '10.244.7.3' }], [tcp('http', 80)]),
    headless('prod', 'shared', [tcp('http', 80)]),
    slice('prod', 'shared', [{ ip: '10.244.8.1', hostname: 'same' }], [tcp('http', 80)], 'shared-a'),
    slice('prod', 'shared', [{ ip: '10.244.8.2', hostname: 'same' }], [tcp('http', 80)], 'shared-b'),
    headless('prod', 'six', [tcp('http', 80)]),
    slice('prod', 'six', [{ ip: '10.244.9.1' }, { ip: '10.244.9.2' }, { ip: '10.244.9.3' }], [tcp('http', 80)], 'six-a'),
    slice('prod', 'six', [{ ip: '10.244.9.1' }, { ip: '10.244.9.4' }, { ip: '10.244.9.5' }], [tcp('http', 80)], 'six-b'),
    headless('prod', 'v6', [tcp('http', 80)]),
    slice('prod', 'v6', [{ ip: 'fd00:10:244::5' }], [tcp('http', 80)], 'v6-abcde', 'IPv6'),
    externalName('prod', 'ext', 'foo.example.com'),
    externalName('prod', 'ext-in', 'web.prod.svc.cluster.local'),
    externalName('prod', 'ext-missing', 'nope.prod.svc.cluster.local'),
    externalName('prod', 'ext-ip', '1.2.3.4'),
    clusterIP('testns', 'svc1', ['10.96.7.1'], [tcp('http', 80)]),
    clusterIP('applied-only', 'lonely', ['10.96.8.1'], [tcp('http', 80)]),
    pod('pods-only', 'p', '10.244.10.1'),
  ];
}

export function fixtureCluster(objects: KObject[] = fixtureObjects()): { informers: MemoryInformerFactory; index: RecordIndex } {
  const informers = new MemoryInformerFactory();
  for (const o of objects) informers.upsert(o);
  const index = new RecordIndex(informers, { now: () => SERIAL * 1000 });
  return { informers, index };
}
