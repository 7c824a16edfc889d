/**
 * The listeners the service table asks for: knet's equivalent of the rules kube-proxy's
 * syncProxyRules writes. Pure; the proxier diffs this list against the sockets it holds.
 *
 * - every ClusterIP:port, every externalIP and LoadBalancer ingress IP at the service port,
 *   and every served node IP at each nodePort (NodePort and LoadBalancer services);
 * - only while the service port has a usable endpoint somewhere: with none, kube-proxy REJECTs,
 *   and a closed port is how a userspace proxy gives the client "connection refused";
 * - a healthCheckNodePort HTTP listener on each served node IP for LoadBalancer services with
 *   externalTrafficPolicy Local, whether or not they have endpoints (503 says "not here").
 */
import type { ListenerRefusal } from './address-guard.js';
import type { NodeAddress } from './traffic-source.js';
import { categorizeEndpoints } from './topology.js';
import type { ServicePortInfo, ServiceTable } from './service-table.js';

export type FrontendRole = 'clusterIP' | 'nodePort' | 'loadBalancer' | 'externalIP' | 'healthCheck';

export interface ListenerSpec {
  /** "TCP/127.96.0.10:53": one socket per id, so TCP and UDP share a port number. */
  id: string;
  protocol: 'TCP' | 'UDP';
  address: string;
  port: number;
  role: FrontendRole;
  /** The service port key, or "ns/name" for a health check listener. */
  serviceKey: string;
  /** "ns/name", for messages. */
  service: string;
  /**
   * nodePort and healthCheck: the node owning the address. loadBalancer and externalIP: the
   * node that announces the address and so receives outside traffic for it.
   */
  node?: string;
}

export interface ListenerProblem {
  spec: ListenerSpec;
  error: string;
  /** Refused by policy (address-guard.ts), not a conflict. */
  refused?: boolean;
}

export interface DesiredListeners {
  listeners: ListenerSpec[];
  /** Specs that cannot be served at all: an address:port claimed twice, SCTP, an address `refuse` rejects. */
  problems: ListenerProblem[];
}

export function listenerId(protocol: string, address: string, port: number): string {
  return `${protocol}/${address}:${port}`;
}

export function desiredListeners(table: ServiceTable, servedNodes: readonly NodeAddress[], refuse?: ListenerRefusal): DesiredListeners {
  const nodes = [...servedNodes].sort((a, b) => a.name.localeCompare(b.name));
  const byId = new Map<string, ListenerSpec>();
  const problems: ListenerProblem[] = [];
  const add = (spec: ListenerSpec): void => {
    const refusal = refuse?.(spec);
    if (refusal) {
      problems.push({ spec, error: refusal, refused: true });
      return;
    }
    const holder = byId.get(spec.id);
    if (holder) {
      if (holder.serviceKey !== spec.serviceKey) {
        problems.push({ spec, error: `${spec.address}:${spec.port}/${spec.protocol} is already served for ${holder.service} (${holder.role})` });
      }
      return;
    }
    byId.set(spec.id, spec);
  };

  const ports = [...table.values()].sort((a, b) => a.key.localeCompare(b.key));
  const healthChecks = new Map<string, number>();
  for (const port of ports) {
    const service = `${port.namespace}/${port.name}`;
    if (port.healthCheckNodePort > 0) healthChecks.set(service, port.healthCheckNodePort);
    const frontends = frontendsOf(port, nodes);
    if (port.protocol === 'SCTP') {
      for (const f of frontends) problems.push({ spec: { ...f, protocol: 'TCP', id: listenerId('SCTP', f.address, f.port) }, error: 'SCTP is not supported by knet' });
      continue;
    }
    if (!categorizeEndpoints(port.endpoints, undefined).hasAnyEndpoints) continue;
    for (const f of frontends) add({ ...f, protocol: port.protocol, id: listenerId(port.protocol, f.address, f.port) });
  }
  for (const [service, hcPort] of healthChecks) {
    for (const node of nodes) {
      add({ id: listenerId('TCP', node.ip, hcPort), protocol: 'TCP', address: node.ip, port: hcPort, role: 'healthCheck', serviceKey: service, service, node: node.name });
    }
  }
  return { listeners: [...byId.values()], problems };
}

/**
 * Service ports (keys) that have no usable endpoint anywhere, so no listener: a client gets
 * connection refused. SCTP ports are left out (never served).
 */
export function portsWithoutEndpoints(table: ServiceTable): Set<string> {
  const out = new Set<string>();
  for (const port of table.values()) if (port.protocol !== 'SCTP' && !categorizeEndpoints(port.endpoints, undefined).hasAnyEndpoints) out.add(port.key);
  return out;
}

type Frontend = Omit<ListenerSpec, 'id' | 'protocol'>;

function frontendsOf(port: ServicePortInfo, nodes: readonly NodeAddress[]): Frontend[] {
  const service = `${port.namespace}/${port.name}`;
  const base = { serviceKey: port.key, service };
  const out: Frontend[] = [{ ...base, role: 'clusterIP', address: port.clusterIP, port: port.port }];
  if (port.nodePort > 0) {
    for (const n of nodes) out.push({ ...base, role: 'nodePort', address: n.ip, port: port.nodePort, node: n.name });
  }
  const announcer = announcingNode(port, nodes);
  for (const ip of port.loadBalancerIPs) out.push({ ...base, role: 'loadBalancer', address: ip, port: port.port, ...(announcer ? { node: announcer } : {}) });
  for (const ip of port.externalIPs) out.push({ ...base, role: 'externalIP', address: ip, port: port.port, ...(announcer ? { node: announcer } : {}) });
  return out;
}

/**
 * Which served node receives outside traffic for a LoadBalancer or external IP. On one
 * machine every node shares the address, so knet picks one as MetalLB's L2 mode does: for
 * externalTrafficPolicy Local a node that has a local endpoint (MetalLB announces only from
 * those), otherwise the first node by name.
 */
export function announcingNode(port: ServicePortInfo, nodes: readonly NodeAddress[]): string | undefined {
  const sorted = [...nodes].sort((a, b) => a.name.localeCompare(b.name));
  if (port.externalTrafficPolicy === 'Local') {
    const withReady = sorted.find((n) => port.endpoints.some((ep) => ep.nodeName === n.name && ep.ready));
    if (withReady) return withReady.name;
    const withServing = sorted.find((n) => port.endpoints.some((ep) => ep.nodeName === n.name && ep.serving && ep.terminating));
    if (withServing) return withServing.name;
  }
  return sorted[0]?.name;
}
