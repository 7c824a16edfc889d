/**
 * loadBalancerSourceRanges: which clients may reach a Service's LoadBalancer ingress IPs —
 * kube-proxy's firewall (the KUBE-FW-* chain of the iptables proxier, the firewall check of
 * the nftables one), Kubernetes 1.32:
 *
 * - it guards the LoadBalancer IPs only: the ClusterIP, the NodePorts and externalIPs of the
 *   same Service take any client;
 * - every source is checked, pods and nodes included: their packets to the LB IP meet the same
 *   rules (a pod outside the ranges is dropped too);
 * - except a node reaching its own VIP, whose packet comes back with the VIP as its source:
 *   allowed when some range holds the node's IP (the proxier's allowFromNode);
 * - a source outside is DROPped (the client's SYN goes unanswered), never rejected.
 *
 * Which ranges: `spec.loadBalancerSourceRanges` (each trimmed, as kube-proxy does for the
 * whitespace validation lets through); when that is empty, the
 * `service.beta.kubernetes.io/load-balancer-source-ranges` annotation (comma-separated), which
 * in a real cluster the cloud provider's load balancer applies (servicehelper's
 * GetLoadBalancerSourceRanges) — on knet the proxy is the load balancer, so it applies both.
 * Only IPv4 CIDRs count (knet is single-stack); invalid ones are left out, as kube-proxy's
 * MapCIDRsByIPFamily leaves them, and with none left every client is admitted.
 *
 * Pure: the service table keeps the parsed ranges, the route asks sourceRangeDenial.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import { ANNOTATION_LOAD_BALANCER_SOURCE_RANGES } from '../dataplane/base/model/well-known.js';
import { ipToInt, isIPv4, type Cidr } from '../dataplane/base/net/ip.js';

export interface SourceRange {
  /** As written ("10.0.0.0/8"), for messages. */
  text: string;
  cidr: Cidr;
}

/** The ranges a LoadBalancer Service admits; empty when it admits every client. */
export function loadBalancerSourceRanges(svc: Service): SourceRange[] {
  const field = svc.spec?.loadBalancerSourceRanges ?? [];
  const texts = field.length > 0 ? field : (svc.metadata?.annotations?.[ANNOTATION_LOAD_BALANCER_SOURCE_RANGES] ?? '').split(',');
  const out: SourceRange[] = [];
  for (const raw of texts) {
    const text = raw.trim();
    const cidr = parseIPv4Cidr(text);
    if (cidr) out.push({ text, cidr });
  }
  return out;
}

/**
 * Why `clientIp` may not reach a LoadBalancer IP of a service port whose ranges are `ranges`,
 * or undefined when it may. `lbIPs` are the port's LoadBalancer IPs and `nodeIp` the IP of
 * the node receiving the traffic, for the node's own VIP-sourced packets.
 */
export function sourceRangeDenial(ranges: readonly SourceRange[], lbIPs: readonly string[], clientIp: string, nodeIp: string | undefined): string | undefined {
  if (ranges.length === 0 || !isIPv4(clientIp)) return undefined;
  const client = ipToInt(clientIp);
  if (ranges.some((r) => holds(r.cidr, client))) return undefined;
  if (nodeIp && isIPv4(nodeIp) && lbIPs.includes(clientIp) && ranges.some((r) => holds(r.cidr, ipToInt(nodeIp)))) return undefined;
  return `source ${clientIp} is outside loadBalancerSourceRanges [${ranges.map((r) => r.text).join(', ')}]`;
}

function holds(cidr: Cidr, ip: number): boolean {
  return ip >= cidr.base && ip < cidr.base + cidr.size;
}

/** "a.b.c.d/n" with a prefix of 0–32 (host bits allowed and masked, as Go's ParseCIDR); undefined otherwise. */
function parseIPv4Cidr(text: string): Cidr | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!m || !isIPv4(m[1]!)) return undefined;
  const bits = Number(m[2]);
  if (bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  const ip = ipToInt(m[1]!);
  return { base: ip - (ip % size), bits, size };
}
