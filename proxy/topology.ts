/**
 * Which endpoints a node may use for a service port: kube-proxy's CategorizeEndpoints
 * (pkg/proxy/topology.go), seen from one node.
 *
 * - cluster: the Ready endpoints (narrowed by topology hints when every ready endpoint has
 *   one and some match this node's zone); when none is Ready anywhere, the serving+terminating
 *   ones, so a rolling update's last pods keep serving.
 * - local: the same fallback worked out over this node's endpoints only (Local policies).
 * - hasAnyEndpoints: some Ready or serving+terminating endpoint exists anywhere; without one,
 *   kube-proxy REJECTs.
 */
import type { EndpointInfo } from './service-table.js';

export interface EndpointSets {
  cluster: EndpointInfo[];
  local: EndpointInfo[];
  hasAnyEndpoints: boolean;
}

const servingTerminating = (ep: EndpointInfo): boolean => ep.serving && ep.terminating;

export function categorizeEndpoints(
  endpoints: readonly EndpointInfo[],
  nodeName: string | undefined,
  nodeZone?: string,
): EndpointSets {
  const useTopology = canUseTopology(endpoints, nodeZone);
  let cluster = endpoints.filter((ep) => ep.ready && (!useTopology || ep.zoneHints.includes(nodeZone!)));
  // No ready endpoint anywhere (topology is already ignored when its zone has none).
  if (cluster.length === 0) cluster = endpoints.filter(servingTerminating);

  const isLocal = (ep: EndpointInfo): boolean => nodeName !== undefined && ep.nodeName === nodeName;
  let local = endpoints.filter((ep) => isLocal(ep) && ep.ready);
  if (local.length === 0) local = endpoints.filter((ep) => isLocal(ep) && servingTerminating(ep));

  return { cluster, local, hasAnyEndpoints: cluster.length > 0 };
}

/**
 * Topology hints are honoured only when every ready endpoint carries one and at least one is
 * for this node's zone; otherwise a partial rollout of hints would starve some zone.
 */
export function canUseTopology(endpoints: readonly EndpointInfo[], nodeZone: string | undefined): boolean {
  if (!nodeZone) return false;
  let hasEndpointForZone = false;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    if (ep.zoneHints.length === 0) return false;
    if (ep.zoneHints.includes(nodeZone)) hasEndpointForZone = true;
  }
  return hasEndpointForZone;
}

/** Local endpoints a health check reports: Ready only, counted by unique IP (service_health.go). */
export function localReadyEndpointIPs(endpoints: readonly EndpointInfo[], nodeName: string): Set<string> {
  const ips = new Set<string>();
  for (const ep of endpoints) if (ep.ready && ep.nodeName === nodeName) ips.add(ep.ip);
  return ips;
}
