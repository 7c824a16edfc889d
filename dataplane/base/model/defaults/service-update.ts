/**
 * What the apiserver does to a Service update before validating it (pkg/registry/core/service/
 * storage): carry allocated values the client left out (so re-applying a manifest without a
 * clusterIP or nodePort is not a change), and drop values that no longer apply after a type
 * change (so NodePort → ClusterIP does not fail on leftover nodePorts).
 *
 * Use on an update, after applyDefaults(new) and before allocation and validateUpdate:
 *   next = dropTypeDependentFields(old, normalizeClusterIPs(old, patchAllocatedValues(old, applyDefaults(next))))
 */
import type { Service, ServiceSpec } from 'kubernetes-types/core/v1.js';
import { asObject, asObjects, cloneWithoutNulls, type JsonObject } from './json.js';

const needsClusterIP = (s: ServiceSpec): boolean => s.type !== 'ExternalName';
const needsNodePort = (s: ServiceSpec): boolean =>
  s.type === 'NodePort' || (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts !== false);
const needsHCNodePort = (s: ServiceSpec): boolean => s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
const externallyAccessible = (s: ServiceSpec): boolean =>
  s.type === 'LoadBalancer' || s.type === 'NodePort' || (s.type === 'ClusterIP' && (s.externalIPs ?? []).length > 0);

const sameJSON = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function specs(oldSvc: Service, newSvc: Service): { out: Service; o: ServiceSpec; n: ServiceSpec & JsonObject } | undefined {
  const out = cloneWithoutNulls(newSvc) as Service;
  const n = asObject(out.spec);
  if (!n) return undefined;
  return { out, o: oldSvc.spec ?? {}, n: n as ServiceSpec & JsonObject };
}

/** patchAllocatedValues: fill clusterIP(s), nodePorts and healthCheckNodePort from the old object. */
export function patchAllocatedValues(oldSvc: Service, newSvc: Service): Service {
  const s = specs(oldSvc, newSvc);
  if (!s) return cloneWithoutNulls(newSvc) as Service;
  const { out, o, n } = s;
  if (needsClusterIP(o) && needsClusterIP(n)) {
    if (!n.clusterIP && o.clusterIP) n.clusterIP = o.clusterIP;
    if ((n.clusterIPs ?? []).length === 0 && (o.clusterIPs ?? []).length > 0) n.clusterIPs = [...(o.clusterIPs ?? [])];
  }
  if (needsNodePort(o) && needsNodePort(n)) {
    const usedByNew = new Set(asObjects(n.ports).map((p) => p.nodePort).filter((p) => typeof p === 'number' && p !== 0));
    const byName = new Map((o.ports ?? []).map((p) => [p.name ?? '', p.nodePort ?? 0]));
    for (const p of asObjects(n.ports)) {
      if (p.nodePort !== undefined && p.nodePort !== 0) continue;
      // Ports are matched by name; an old port already claimed elsewhere in the new spec is not reused.
      const old = byName.get(typeof p.name === 'string' ? p.name : '') ?? 0;
      if (old !== 0 && !usedByNew.has(old)) p.nodePort = old;
    }
  }
  if (needsHCNodePort(o) && needsHCNodePort(n) && !n.healthCheckNodePort && o.healthCheckNodePort) {
    n.healthCheckNodePort = o.healthCheckNodePort;
  }
  return out;
}

const sameIPs = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean =>
  (a ?? []).length === (b ?? []).length && (a ?? []).every((ip, i) => ip === b?.[i]);

/**
 * normalizeClusterIPs on update: keeps clusterIPs in step with a clusterIP the client changed
 * while leaving clusterIPs as they were (kubectl apply of a manifest that sets only
 * `clusterIP`, e.g. `None` over an allocated IP). The update rules then judge the change
 * itself (`spec.clusterIPs[0]: … may not change once set`), as the apiserver does, instead
 * of reporting the two fields out of step.
 */
export function normalizeClusterIPs(oldSvc: Service, newSvc: Service): Service {
  const s = specs(oldSvc, newSvc);
  if (!s) return cloneWithoutNulls(newSvc) as Service;
  const { out, o, n } = s;
  if ((o.clusterIPs ?? []).length > 0 && (n.clusterIPs ?? []).length === 0 && (o.clusterIP ?? '') === (n.clusterIP ?? '')) n.clusterIPs = [...(o.clusterIPs ?? [])];
  if ((o.clusterIP ?? '') !== (n.clusterIP ?? '') && sameIPs(o.clusterIPs, n.clusterIPs)) {
    if (o.clusterIP && !n.clusterIP) delete n.clusterIPs;
    else if (n.clusterIP) n.clusterIPs = [n.clusterIP];
  }
  return out;
}

/** dropTypeDependentFields: clear fields the new type no longer uses, when the client left them unchanged. */
export function dropTypeDependentFields(oldSvc: Service, newSvc: Service): Service {
  const s = specs(oldSvc, newSvc);
  if (!s) return cloneWithoutNulls(newSvc) as Service;
  const { out, o, n } = s;
  if (needsClusterIP(o) && !needsClusterIP(n)) {
    if (sameJSON(o.clusterIP, n.clusterIP) && sameJSON(o.clusterIPs, n.clusterIPs)) {
      delete n.clusterIP;
      delete n.clusterIPs;
    }
    if (sameJSON(o.ipFamilies, n.ipFamilies)) delete n.ipFamilies;
    if (sameJSON(o.ipFamilyPolicy, n.ipFamilyPolicy)) delete n.ipFamilyPolicy;
  }
  const nodePortsOf = (ports: unknown): unknown[] => asObjects(ports).map((p) => p.nodePort ?? 0);
  if (needsNodePort(o) && !needsNodePort(n) && sameJSON(nodePortsOf(o.ports), nodePortsOf(n.ports))) {
    for (const p of asObjects(n.ports)) delete p.nodePort;
  }
  if (needsHCNodePort(o) && !needsHCNodePort(n) && sameJSON(o.healthCheckNodePort, n.healthCheckNodePort)) {
    delete n.healthCheckNodePort;
  }
  if (o.type === 'LoadBalancer' && n.type !== 'LoadBalancer') {
    if (o.allocateLoadBalancerNodePorts !== undefined && o.allocateLoadBalancerNodePorts === n.allocateLoadBalancerNodePorts) {
      delete n.allocateLoadBalancerNodePorts;
    }
    if (sameJSON(o.loadBalancerClass, n.loadBalancerClass)) delete n.loadBalancerClass;
  }
  if (externallyAccessible(o) && !externallyAccessible(n) && sameJSON(o.externalTrafficPolicy, n.externalTrafficPolicy)) {
    delete n.externalTrafficPolicy;
  }
  const status = asObject(out.status);
  if (n.type !== 'LoadBalancer' && status?.loadBalancer !== undefined) status.loadBalancer = {};
  return out;
}
