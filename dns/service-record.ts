/**
 * One Service and its EndpointSlices reduced to what DNS answers from: the service's kind,
 * ClusterIPs and ports, and its ready endpoint addresses with their DNS names. Pure; the
 * record index recomputes a service's record from scratch on every event touching it.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { parseIP } from './ip-address.js';

export interface PortRecord {
  /** '' for an unnamed port. */
  name: string;
  /** -1 is CoreDNS's sentinel for a slice without ports (answers A, skipped in SRV). */
  port: number;
  /** 'TCP' | 'UDP' | 'SCTP'; '' for the sentinel. */
  protocol: string;
}

export interface AddressRecord {
  /** Canonical text (Go's net.IP.String()). */
  ip: string;
  family: 4 | 6;
}

export interface EndpointRecord extends AddressRecord {
  /** The endpoint's DNS label: the slice's hostname, else the dashed IP (kubernetes.go endpointHostname). */
  hostname: string;
  /** The ports of the slice the address came from. */
  ports: PortRecord[];
}

export type ServiceKind = 'ClusterIP' | 'Headless' | 'ExternalName';

export interface ServiceRecord {
  /** "ns/name" */
  key: string;
  namespace: string;
  name: string;
  kind: ServiceKind;
  /** ClusterIPs for kind ClusterIP (NodePort and LoadBalancer included); empty otherwise. */
  clusterIPs: AddressRecord[];
  ports: PortRecord[];
  /** spec.externalName for kind ExternalName, as written. */
  externalName: string;
  /**
   * Ready addresses, one entry per (slice, endpoint, address) in slice-name order. Duplicates
   * across slices are kept, as CoreDNS keeps them (A answers de-duplicate, SRV weights count them).
   */
  endpoints: EndpointRecord[];
}

export function serviceKind(svc: Service): ServiceKind {
  if (svc.spec?.type === 'ExternalName') return 'ExternalName';
  if (svc.spec?.clusterIP === 'None') return 'Headless';
  return 'ClusterIP';
}

/**
 * @param slices the EndpointSlices labelled with this service's name, any order.
 */
export function buildServiceRecord(svc: Service, slices: readonly EndpointSlice[]): ServiceRecord {
  const namespace = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name ?? '';
  const kind = serviceKind(svc);
  const spec = svc.spec ?? {};
  const clusterIPs: AddressRecord[] = [];
  if (kind === 'ClusterIP') {
    const ips = spec.clusterIPs && spec.clusterIPs.length > 0 ? spec.clusterIPs : [spec.clusterIP ?? ''];
    for (const text of ips) {
      const ip = parseIP(text);
      if (ip && !clusterIPs.some((c) => c.ip === ip.text)) clusterIPs.push({ ip: ip.text, family: ip.family });
    }
  }
  const ports: PortRecord[] = (spec.ports ?? []).map((p) => ({
    name: p.name ?? '',
    port: p.port,
    protocol: p.protocol ?? 'TCP',
  }));
  // The EndpointSlice controller already marks every endpoint ready when the service sets
  // publishNotReadyAddresses; honouring the flag here too keeps hand-written slices consistent.
  const publishNotReady = spec.publishNotReadyAddresses === true;
  const endpoints: EndpointRecord[] = [];
  const ordered = [...slices].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const slice of ordered) {
    if (slice.addressType === 'FQDN') continue;
    const slicePorts: PortRecord[] =
      slice.ports && slice.ports.length > 0
        ? slice.ports.map((p) => ({ name: p.name ?? '', port: p.port ?? -1, protocol: p.protocol ?? 'TCP' }))
        : [{ name: '', port: -1, protocol: '' }];
    for (const ep of slice.endpoints ?? []) {
      // CoreDNS keeps endpoints whose ready condition is true or unset (object/endpoint.go).
      if (ep.conditions?.ready === false && !publishNotReady) continue;
      for (const text of ep.addresses ?? []) {
        const ip = parseIP(text);
        if (!ip) continue;
        endpoints.push({ ip: ip.text, family: ip.family, hostname: ep.hostname || dashedIP(ip.text), ports: slicePorts });
      }
    }
  }
  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    kind,
    clusterIPs,
    ports,
    externalName: kind === 'ExternalName' ? (spec.externalName ?? '') : '',
    endpoints,
  };
}

/** 10.244.1.5 → 10-244-1-5; 1234:abcd::1 → 1234-abcd--1; a trailing '-' gets a '0'. */
export function dashedIP(ip: string): string {
  if (ip.includes('.')) return ip.replaceAll('.', '-');
  const dashed = ip.replaceAll(':', '-');
  return dashed.endsWith('-') ? dashed + '0' : dashed;
}
