/**
 * Host ports: which `<node IP>:<hostPort>` → `<pod IP>:<containerPort>` forwards this node should
 * have, as a kind node gets them — the kubelet hands the runtime its pod's port mappings
 * (kuberuntime generatePodSandboxConfig: `kubecontainer.MakePortMappings` over
 * `spec.containers`, never init containers), containerd keeps those with `hostPort > 0`
 * (toCNIPortMappings) and calls no CNI for a `hostNetwork` pod, and the CNI `portmap` plugin
 * chained after the pod network DNATs them. Pure: the forwarder (host-port-forwarder.ts) binds
 * what this says and closes what it no longer says.
 *
 * - `hostIP` unset or `0.0.0.0` (portmap: no `-d` match, any local address) → the node IP, the
 *   one address knet's node has. The node's own IP → itself. Any other address is not bound:
 *   portmap's DNAT would only match packets to an address of the node, and knet never listens
 *   off its node's loopback address (another node's, another cluster's, 127.0.0.1 — all of
 *   them local to this machine, none of them this node). An IPv6 `hostIP` is skipped by portmap
 *   for an IPv4 pod (family mismatch); knet is IPv4-only and says so too.
 * - SCTP: portmap maps it; knet has no SCTP, so it is reported, not bound.
 * - Two mappings on one listener (the same protocol and host port: two pods bound here without
 *   the scheduler — `nodeName` set by hand — or one pod's `hostIP: ""` and `"0.0.0.0"`): the
 *   first pod started here keeps it, as the first DNAT rule in CNI-HOSTPORT-DNAT matches first;
 *   the other is reported.
 */
import type { ContainerPort, Pod } from 'kubernetes-types/core/v1.js';
import { cidrContains, type Cidr } from '../base/net/ip.js';

export interface HostPortNode {
  /** The node IP: the address host ports listen on. */
  ip: string;
  /** This node's pod CIDR (its pods' addresses). */
  podCIDR: string | Cidr;
}

/** A pod this node runs with its address, in the order the node started them. */
export interface HostPortPod {
  /** "ns/name" */
  key: string;
  pod: Pod;
  podIP: string;
}

export type HostPortProtocol = 'TCP' | 'UDP';

export interface HostPortForward {
  /** The listener: "TCP/127.18.0.2:8081". */
  id: string;
  protocol: HostPortProtocol;
  hostIP: string;
  hostPort: number;
  /** The pod forwarded to: "ns/name", its uid and address. */
  pod: string;
  uid: string;
  podIP: string;
  containerPort: number;
  container: string;
}

/** A mapping the node does not forward, with why (a Warning event on its pod). */
export interface HostPortProblem {
  pod: string;
  uid: string;
  /** The mapping, stable across plans: "TCP/127.0.0.1:8081". */
  mapping: string;
  message: string;
}

export interface HostPortPlan {
  forwards: HostPortForward[];
  problems: HostPortProblem[];
}

/** One of a container's port mappings, as MakePortMappings returns them. */
export interface PortMapping {
  container: string;
  protocol: string;
  hostIP: string;
  hostPort: number;
  containerPort: number;
}

/**
 * A pod's port mappings with a host port, as the runtime gets them: per container in
 * `spec.containers`, a port name (or, unnamed, family-protocol-hostIP:containerPort:hostPort)
 * seen twice in one container is dropped (MakePortMappings); `hostPort` 0 is not mapped
 * (containerd); a hostNetwork pod has none (no CNI is called for it).
 */
export function portMappings(pod: Pod): PortMapping[] {
  if (pod.spec?.hostNetwork) return [];
  return (pod.spec?.containers ?? []).flatMap((c) => {
    const names = new Set<string>();
    const out: PortMapping[] = [];
    for (const p of c.ports ?? []) {
      const name = p.name || unnamedMapping(p);
      if (names.has(name)) continue;
      names.add(name);
      if ((p.hostPort ?? 0) <= 0) continue;
      out.push({ container: c.name, protocol: p.protocol ?? 'TCP', hostIP: p.hostIP ?? '', hostPort: p.hostPort!, containerPort: p.containerPort });
    }
    return out;
  });
}

/** MakePortMappings' name for an unnamed port. */
function unnamedMapping(p: ContainerPort): string {
  const hostIP = p.hostIP ?? '';
  const family = hostIP === '' ? 'any' : hostIP.includes(':') ? 'v6' : 'v4';
  return `${family}-${p.protocol ?? 'TCP'}-${hostIP}:${p.containerPort}:${p.hostPort ?? 0}`;
}

/** The forwards the node should have and the mappings it does not forward, pods in start order. */
export function planHostPorts(pods: readonly HostPortPod[], node: HostPortNode): HostPortPlan {
  const forwards: HostPortForward[] = [];
  const problems: HostPortProblem[] = [];
  const byId = new Map<string, HostPortForward>();
  for (const { key, pod, podIP } of pods) {
    const uid = pod.metadata?.uid ?? '';
    for (const m of portMappings(pod)) {
      const mapping = `${m.protocol}/${m.hostIP || '0.0.0.0'}:${m.hostPort}`;
      const refused = refusal(m, node);
      if (refused) {
        problems.push({ pod: key, uid, mapping, message: refused });
        continue;
      }
      const id = `${m.protocol}/${node.ip}:${m.hostPort}`;
      const holder = byId.get(id);
      if (holder) {
        problems.push({ pod: key, uid, mapping, message: `host port ${m.hostPort}/${m.protocol} on ${node.ip} is not forwarded: it is already forwarded to ${holder.pod} (container port ${holder.containerPort})` });
        continue;
      }
      const forward: HostPortForward = { id, protocol: m.protocol as HostPortProtocol, hostIP: node.ip, hostPort: m.hostPort, pod: key, uid, podIP, containerPort: m.containerPort, container: m.container };
      byId.set(id, forward);
      forwards.push(forward);
    }
  }
  return { forwards, problems };
}

/** Why a mapping cannot be forwarded on this node, or undefined. */
function refusal(m: PortMapping, node: HostPortNode): string | undefined {
  const what = `host port ${m.hostPort}/${m.protocol}`;
  if (m.protocol !== 'TCP' && m.protocol !== 'UDP') return `${what} is not forwarded: knet has no ${m.protocol}`;
  if (m.hostIP === '' || m.hostIP === '0.0.0.0' || m.hostIP === node.ip) return undefined;
  if (m.hostIP.includes(':')) return `${what} on hostIP ${m.hostIP} is not forwarded: the pod's address is IPv4 and knet is IPv4-only (portmap skips a mapping of the other family)`;
  return `${what} on hostIP ${m.hostIP} is not forwarded: ${m.hostIP} is not this node's address (${node.ip}); knet listens only on its node's own address (leave hostIP empty for the node IP)`;
}

/**
 * The source address the pod sees for a client of a host port. portmap's DNAT keeps the
 * client's address; with `snat` (its default) it marks for masquerade what comes from the pod
 * network of the node (iptables backend, kind's: `-s <pod IP>/<prefix>`, the whole pod CIDR of
 * the node; the nftables backend only the pod itself) and from 127.0.0.1 (the node's own
 * localhost) — so a pod reaching a host port of its own node (hairpin) is answered through the
 * node. knet masquerades the node's pods to the node IP (on kind: the host end of the pod's
 * veth, an address of the node too); 127.0.0.1 in knet is a client outside the cluster
 * (DESIGN.md §1), not the node's localhost, so it is kept, as is every other address: pods of
 * other nodes, other nodes, the node itself.
 */
export function hostPortSource(clientIp: string, node: HostPortNode): string {
  return cidrContains(node.podCIDR, clientIp) ? node.ip : clientIp;
}
