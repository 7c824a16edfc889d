/**
 * Topology hints from `spec.trafficDistribution` (staging/src/k8s.io/endpointslice/trafficdist,
 * Kubernetes 1.32): with `PreferClose`, every ready endpoint that has a zone (its node's
 * topology.kubernetes.io/zone) is hinted for that zone alone, so kube-proxy keeps a client's
 * traffic in its own zone when the zone has an endpoint (proxy/topology.ts). Without it, no
 * endpoint carries a hint: removing the field removes them.
 *
 * - An endpoint without a zone gets no hint; kube-proxy then ignores the hints of the whole
 *   service (it honours them only when every ready endpoint has one), so a cluster whose nodes
 *   have no zone routes exactly as before.
 * - Not-ready endpoints get no hint (kube-proxy does not look at them).
 * - The `service.kubernetes.io/topology-mode: Auto` annotation (or its older name
 *   `service.kubernetes.io/topology-aware-hints`, read first) takes precedence, as in the
 *   reconciler: trafficDistribution is then not applied, and topology-cache.ts gives the
 *   endpoints out in proportion to each zone's allocatable CPU.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint } from 'kubernetes-types/discovery/v1.js';
import { ANNOTATION_TOPOLOGY_AWARE_HINTS, ANNOTATION_TOPOLOGY_MODE } from '../base/model/well-known.js';

/** The reconciler's hintsEnabled: the older annotation first, then topology-mode; only "Auto"/"auto" enable. */
export function topologyModeAuto(annotations: Record<string, string> | undefined): boolean {
  const value = annotations?.[ANNOTATION_TOPOLOGY_AWARE_HINTS] ?? annotations?.[ANNOTATION_TOPOLOGY_MODE];
  return value === 'Auto' || value === 'auto';
}

/** Whether trafficDistribution decides this Service's hints: PreferClose, and no topology-mode Auto. */
export function prefersClose(svc: Service): boolean {
  return svc.spec?.trafficDistribution === 'PreferClose' && !topologyModeAuto(svc.metadata?.annotations);
}

/**
 * The endpoint with the hints its Service asks for: `{ forZones: [{ name: zone }] }` for a ready
 * endpoint with a zone under PreferClose, none otherwise (trafficdist's preferCloseHeuristic and
 * defaultHeuristic, applied to every endpoint the controller writes).
 */
export function withZoneHints(ep: Endpoint, preferClose: boolean): Endpoint {
  const out: Endpoint = { ...ep };
  delete out.hints;
  if (preferClose && out.conditions?.ready === true && out.zone) out.hints = { forZones: [{ name: out.zone }] };
  return out;
}
