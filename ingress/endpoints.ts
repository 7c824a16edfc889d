/**
 * Service backend → pod endpoints, as ingress-nginx resolves them (controller.go
 * serviceEndpoints + endpointslices.go getEndpointsFromSlices): the Ingress names a Service
 * port by number or name; that Service port's name selects the EndpointSlice port; only
 * ready endpoints count (a missing `ready` condition means ready). The Service is only
 * used to find the endpoints — traffic goes straight to the pods.
 */
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

export interface Endpoint {
  address: string;
  port: number;
  /** `ip:port`, the name nginx logs as `$upstream_addr`. */
  id: string;
  podName?: string;
  nodeName?: string;
}

export interface ServiceBackendPort {
  number?: number;
  name?: string;
}

export interface ResolvedEndpoints {
  endpoints: Endpoint[];
  /** Why there are none, for logs and `describe`. */
  problem?: string;
}

/** The Service port an Ingress backend port refers to: by port number, targetPort, or name. */
export function findServicePort(service: Service, port: ServiceBackendPort): ServicePort | undefined {
  const want = port.number !== undefined ? String(port.number) : port.name ?? '';
  return (service.spec?.ports ?? []).find(
    (p) => String(p.port) === want || (p.targetPort !== undefined && String(p.targetPort) === want) || (p.name ?? '') === want,
  );
}

export function resolveEndpoints(
  service: Service | undefined,
  servicePort: ServicePort | undefined,
  slices: readonly EndpointSlice[],
  serviceKey: string,
): ResolvedEndpoints {
  if (!service) return { endpoints: [], problem: `Service ${serviceKey} not found` };
  if (service.spec?.type === 'ExternalName') {
    return { endpoints: [], problem: `Service ${serviceKey} is of type ExternalName, which knet's ingress does not resolve` };
  }
  if (!servicePort) return { endpoints: [], problem: `Service ${serviceKey} has no such port` };
  const seen = new Set<string>();
  const endpoints: Endpoint[] = [];
  for (const slice of slices) {
    if (slice.addressType && slice.addressType !== 'IPv4') continue;
    for (const epPort of slice.ports ?? []) {
      if ((epPort.protocol ?? 'TCP') !== 'TCP') continue;
      let target = 0;
      // An unnamed Service port (allowed when it is the only one) matches any slice port.
      if (!servicePort.name) target = epPort.port ?? 0;
      else if (servicePort.name === (epPort.name ?? '')) target = epPort.port ?? 0;
      if (target === 0 && typeof servicePort.targetPort === 'number') target = servicePort.targetPort;
      if (target <= 0) continue;
      for (const ep of slice.endpoints ?? []) {
        if (ep.conditions?.ready === false) continue;
        for (const address of ep.addresses ?? []) {
          const id = `${address}:${target}`;
          if (seen.has(id)) continue;
          seen.add(id);
          const e: Endpoint = { address, port: target, id };
          if (ep.targetRef?.kind === 'Pod' && ep.targetRef.name) e.podName = ep.targetRef.name;
          if (ep.nodeName) e.nodeName = ep.nodeName;
          endpoints.push(e);
        }
      }
    }
  }
  // A stable order keeps round-robin and hashing independent of slice arrival order.
  endpoints.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return endpoints.length ? { endpoints } : { endpoints, problem: `Service ${serviceKey} has no ready endpoints` };
}
