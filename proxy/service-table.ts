/**
 * The service table: Services joined with their EndpointSlices into one entry per service
 * port, the shape kube-proxy's ServicePortInfo + endpointsMap give its sync loop.
 *
 * Pure: objects in, table out. The proxier rebuilds the whole table on every sync (full state
 * over incremental patches, as kube-proxy's syncProxyRules does); it is cheap enough that a
 * thousand services rebuild in about a millisecond.
 */
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { LABEL_HEADLESS, LABEL_SERVICE_PROXY_NAME } from '../dataplane/base/model/well-known.js';
import { groupSlicesByService, type SlicesOfService } from '../dataplane/base/informer/indexes.js';
import { loadBalancerSourceRanges, type SourceRange } from './source-ranges.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type TrafficPolicy = 'Cluster' | 'Local';

/** ClientIP affinity's default and ceiling (pkg/apis/core/v1/defaults.go, validation.go). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10_800;


export interface EndpointInfo {
  ip: string;
  port: number;
  nodeName?: string;
  zone?: string;
  /** Zones this endpoint is hinted for (topology-aware routing); empty when the slice has no hints. */
  zoneHints: string[];
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** The Pod behind the endpoint (targetRef), when the slice names one: how a user sees which pod served. */
  podName?: string;
}

export interface SessionAffinity {
  type: 'None' | 'ClientIP';
  timeoutSeconds: number;
}

export interface ServicePortInfo {
  /** "ns/name:portName/protocol" (portName empty for an unnamed port: "ns/name:/TCP"). */
  key: string;
  namespace: string;
  name: string;
  portName: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  /** 0 when the service has no node port (type ClusterIP). */
  nodePort: number;
  externalIPs: string[];
  loadBalancerIPs: string[];
  /** Who may reach the LoadBalancer IPs (source-ranges.ts); empty: anyone. */
  loadBalancerSourceRanges: SourceRange[];
  affinity: SessionAffinity;
  /** Effective policy: Local only for externally reachable services that ask for it. */
  externalTrafficPolicy: TrafficPolicy;
  internalTrafficPolicy: TrafficPolicy;
  /** 0 unless type LoadBalancer with externalTrafficPolicy Local. */
  healthCheckNodePort: number;
  endpoints: EndpointInfo[];
}

export type ServiceTable = Map<string, ServicePortInfo>;

export function servicePortKey(namespace: string, name: string, portName: string, protocol: string): string {
  return `${namespace}/${name}:${portName}/${protocol}`;
}

/**
 * Why a Service gets no proxying at all, or undefined when it is proxied
 * (kube-proxy's ShouldSkipService plus the label checks of its service informer).
 */
export function skipReason(svc: Service): string | undefined {
  const spec = svc.spec ?? {};
  const labels = svc.metadata?.labels ?? {};
  if (spec.type === 'ExternalName') return 'ExternalName';
  if (!spec.clusterIP || spec.clusterIP === 'None') return 'headless';
  if (LABEL_HEADLESS in labels) return `labelled ${LABEL_HEADLESS}`;
  if (labels[LABEL_SERVICE_PROXY_NAME]) return `${LABEL_SERVICE_PROXY_NAME}=${labels[LABEL_SERVICE_PROXY_NAME]}`;
  return undefined;
}

/** `slices`: every slice (tests), or the lookup by Service the proxier takes from its informer's index. */
export function buildServiceTable(services: readonly Service[], slices: readonly EndpointSlice[] | SlicesOfService): ServiceTable {
  const slicesOf = typeof slices === 'function' ? slices : groupSlicesByService(slices);
  const table: ServiceTable = new Map();
  for (const svc of services) {
    if (skipReason(svc)) continue;
    const namespace = svc.metadata?.namespace ?? 'default';
    const name = svc.metadata?.name ?? '';
    // We are IPv4-only; FQDN slices are not proxied by kube-proxy either.
    const svcSlices = slicesOf(namespace, name).filter((s) => s.addressType === 'IPv4');
    for (const port of svc.spec?.ports ?? []) {
      const info = servicePortInfo(svc, namespace, name, port, svcSlices);
      table.set(info.key, info);
    }
  }
  return table;
}

function servicePortInfo(
  svc: Service,
  namespace: string,
  name: string,
  port: ServicePort,
  slices: readonly EndpointSlice[],
): ServicePortInfo {
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  const protocol = (port.protocol ?? 'TCP') as Protocol;
  const portName = port.name ?? '';
  const hasNodePorts = type === 'NodePort' || type === 'LoadBalancer';
  const loadBalancerIPs =
    type === 'LoadBalancer'
      ? (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => !!ip)
      : [];
  const externalIPs = spec.externalIPs ?? [];
  const externallyAccessible = hasNodePorts || externalIPs.length > 0 || loadBalancerIPs.length > 0;
  const externalTrafficPolicy: TrafficPolicy = externallyAccessible && spec.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster';
  const clientIP = spec.sessionAffinity === 'ClientIP';
  return {
    key: servicePortKey(namespace, name, portName, protocol),
    namespace,
    name,
    portName,
    protocol,
    clusterIP: spec.clusterIP ?? '',
    port: port.port,
    nodePort: hasNodePorts ? (port.nodePort ?? 0) : 0,
    externalIPs,
    loadBalancerIPs,
    loadBalancerSourceRanges: loadBalancerIPs.length > 0 ? loadBalancerSourceRanges(svc) : [],
    affinity: {
      type: clientIP ? 'ClientIP' : 'None',
      timeoutSeconds: clientIP
        ? spec.sessionAffinityConfig?.clientIP?.timeoutSeconds || DEFAULT_AFFINITY_TIMEOUT_SECONDS
        : 0,
    },
    externalTrafficPolicy,
    internalTrafficPolicy: spec.internalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    healthCheckNodePort:
      type === 'LoadBalancer' && externalTrafficPolicy === 'Local' ? (spec.healthCheckNodePort ?? 0) : 0,
    endpoints: collectEndpoints(slices, portName, protocol),
  };
}

/**
 * The endpoints of one service port across all its slices. A slice port matches by name and
 * protocol; the same ip:port in two slices counts once, a ready copy winning
 * (kube-proxy's endpointSliceCache does the same).
 */
function collectEndpoints(slices: readonly EndpointSlice[], portName: string, protocol: Protocol): EndpointInfo[] {
  const byAddress = new Map<string, EndpointInfo>();
  for (const slice of slices) {
    const slicePort = (slice.ports ?? []).find(
      (p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol,
    );
    // A port with no number means "all ports"; kube-proxy ignores it, so do we.
    if (!slicePort || slicePort.port === undefined || slicePort.port === null) continue;
    for (const ep of slice.endpoints ?? []) {
      const info = endpointInfo(ep, slicePort.port);
      if (!info) continue;
      const id = `${info.ip}:${info.port}`;
      const seen = byAddress.get(id);
      if (!seen || (info.ready && !seen.ready)) byAddress.set(id, info);
    }
  }
  return [...byAddress.values()];
}

function endpointInfo(ep: Endpoint, port: number): EndpointInfo | undefined {
  const ip = ep.addresses?.[0];
  if (!ip) return undefined;
  const c = ep.conditions ?? {};
  // nil ready = ready, nil serving = serving, terminating only when true (endpointslicecache.go).
  const info: EndpointInfo = {
    ip,
    port,
    zoneHints: (ep.hints?.forZones ?? []).map((z) => z.name),
    ready: c.ready !== false,
    serving: c.serving !== false,
    terminating: c.terminating === true,
  };
  if (ep.nodeName) info.nodeName = ep.nodeName;
  if (ep.zone) info.zone = ep.zone;
  if (ep.targetRef?.kind === 'Pod' && ep.targetRef.name) info.podName = ep.targetRef.name;
  return info;
}

export function endpointId(ep: Pick<EndpointInfo, 'ip' | 'port'>): string {
  return `${ep.ip}:${ep.port}`;
}
