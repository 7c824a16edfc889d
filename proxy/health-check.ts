/**
 * What a healthCheckNodePort answers (k/k pkg/proxy/healthcheck/service_health.go): any path,
 * JSON naming the service and its ready local endpoints, 200 when there is at least one,
 * else 503 — so an outside load balancer sends traffic only to nodes that hold a pod.
 * Serving-but-terminating endpoints do not count: such a node still forwards but reports 503.
 */
import type { ServiceTable } from './service-table.js';
import { localReadyEndpointIPs } from './topology.js';

export interface HealthCheckResponse {
  status: 200 | 503;
  headers: Record<string, string>;
  body: string;
}

/** Ready endpoints of a service ("ns/name") on a node, counted by unique IP across its ports. */
export function localReadyEndpoints(table: ServiceTable, service: string, nodeName: string): number {
  const ips = new Set<string>();
  for (const port of table.values()) {
    if (`${port.namespace}/${port.name}` !== service) continue;
    for (const ip of localReadyEndpointIPs(port.endpoints, nodeName)) ips.add(ip);
  }
  return ips.size;
}

export function healthCheckResponse(service: string, localEndpoints: number, proxyHealthy = true): HealthCheckResponse {
  const [namespace = '', name = ''] = service.split('/');
  return {
    status: localEndpoints > 0 && proxyHealthy ? 200 : 503,
    headers: { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' },
    // Tab-indented like kube-proxy's dedented template.
    body: JSON.stringify({ service: { namespace, name }, localEndpoints, serviceProxyHealthy: proxyHealthy }, null, '\t'),
  };
}
