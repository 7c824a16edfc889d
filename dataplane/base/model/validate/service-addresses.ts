/**
 * knet's rules for the addresses a Service makes the proxy listen on — spec.externalIPs,
 * spec.loadBalancerIP and MetalLB's loadBalancerIPs annotation — on top of the apiserver's.
 *
 * Kubernetes leaves these addresses to whoever may write Services (CVE-2020-8554). On one
 * machine shared by several knet clusters that is too much: an externalIP on another cluster's
 * ClusterIP takes that cluster's traffic as soon as the address is free, and one on the host's
 * network interface exposes a pod to the network. So an address here must be
 *
 *  - written plainly: no leading zeros, no IPv4-mapped IPv6 (the apiserver's strict IP parsing,
 *    KEP-4858): the proxy hands the text to the OS, which reads "127.010.0.1" as 127.8.0.1;
 *  - outside the machine's own loopback addresses (127.0.0.0/16: localhost, where every
 *    cluster's state store listens; ::1);
 *  - outside every cluster's address block (cluster-config.ts), this cluster's included — only a
 *    loadBalancerIP may sit in this cluster's own LoadBalancer pool, which is what the pool is for;
 *  - on loopback, unless the cluster was started with `knet up --allow-external-ips`.
 *
 * Admission rejects a Service breaking them, and the proxy refuses to listen on such an address
 * even when one reached the store another way (proxy/address-guard.ts).
 */
import net from 'node:net';
import type { Service } from 'kubernetes-types/core/v1.js';
import { addressBlock, MAX_CLUSTER_INDEX, nodeRange, podRange, type ClusterConfig } from '../../cluster-config.js';
import { cidrContains, ipToInt } from '../../net/ip.js';
import { ANNOTATION_METALLB_LOADBALANCER_IPS } from '../well-known.js';
import { index, invalid, type FieldError } from './field-error.js';
import { IP_MSG, parseIPFamily, specialIPErrors } from './formats.js';

/** Which field asked for the address: only a loadBalancerIP may come from the LoadBalancer pool. */
export type ServiceAddressRole = 'externalIP' | 'loadBalancerIP';

export const ALLOW_EXTERNAL_IPS_FLAG = '--allow-external-ips';

const HOST_LOOPBACK = '127.0.0.0/16';

/** Why the proxy may not listen on `ip` for this cluster, or undefined when it may. */
export function serviceAddressProblem(ip: string, role: ServiceAddressRole, cluster: ClusterConfig): string | undefined {
  const family = parseIPFamily(ip);
  if (family === 0) return IP_MSG;
  if (family === 4 && /^::ffff:/i.test(ip)) return 'must not be an IPv4-mapped IPv6 address';
  if (family === 4 && !net.isIPv4(ip)) return 'must not have leading 0s';
  if (family === 6) {
    if (isIPv6Loopback(ip)) return "may not be ::1: the machine's own loopback address is not the cluster's to take";
    return cluster.allowExternalIPs ? undefined : notLoopback();
  }
  if (!cidrContains('127.0.0.0/8', ip)) return cluster.allowExternalIPs ? undefined : notLoopback();
  if (cidrContains(HOST_LOOPBACK, ip)) {
    return `may not be in ${HOST_LOOPBACK}: the machine's own loopback addresses (localhost, where every cluster's state store listens) are not the cluster's to take`;
  }
  return ownRangeProblem(ip, role, cluster) ?? otherBlockProblem(ip, cluster.index);
}

function notLoopback(): string {
  return (
    'must be a loopback address (127.0.0.0/8): this cluster serves Services on this machine only; ' +
    `start it with \`knet up ${ALLOW_EXTERNAL_IPS_FLAG}\` to let them listen on other addresses`
  );
}

function isIPv6Loopback(ip: string): boolean {
  const loopback = new net.BlockList();
  loopback.addAddress('::1', 'ipv6');
  return loopback.check(ip, 'ipv6');
}

function ownRangeProblem(ip: string, role: ServiceAddressRole, cluster: ClusterConfig): string | undefined {
  const pool = cluster.loadBalancerPool;
  const n = ipToInt(ip);
  if (n >= ipToInt(pool.first) && n <= ipToInt(pool.last)) {
    return role === 'loadBalancerIP'
      ? undefined
      : `may not be in this cluster's LoadBalancer pool (${pool.first}-${pool.last}): a Service of type LoadBalancer gets those addresses`;
  }
  const ranges: Array<[string, string]> = [
    ['service', cluster.serviceCIDR],
    ['node', nodeRange(cluster)],
    ['pod', podRange(cluster)],
  ];
  for (const [what, cidr] of ranges) if (cidrContains(cidr, ip)) return `may not be in this cluster's ${what} range (${cidr})`;
  const block = addressBlock(cluster.index).find((cidr) => cidrContains(cidr, ip));
  return block ? `may not be in this cluster's address block (${block})` : undefined;
}

/** Address blocks are claimed one cluster at a time, so every other block may belong to another cluster now or later. */
function otherBlockProblem(ip: string, ownIndex: number): string | undefined {
  for (let i = 0; i <= MAX_CLUSTER_INDEX; i++) {
    if (i === ownIndex) continue;
    const cidr = addressBlock(i).find((c) => cidrContains(c, ip));
    if (!cidr) continue;
    const whose = i === 0 ? 'address block 0 (the default cluster)' : `address block ${i}`;
    return `may not be in ${cidr}, ${whose} of another knet cluster on this machine: it would take that cluster's traffic`;
  }
  return undefined;
}

/** The addresses a Service asks for that break the rules above, as field errors. */
export function validateServiceAddresses(svc: Service, cluster: ClusterConfig): FieldError[] {
  const errs: FieldError[] = [];
  const check = (path: string, ip: string, role: ServiceAddressRole) => {
    const problem = serviceAddressProblem(ip, role, cluster);
    if (problem) errs.push(invalid(path, ip, problem));
  };
  (svc.spec?.externalIPs ?? []).forEach((ip, i) => {
    // A value the apiserver's own checks reject is reported once, by them.
    if (parseIPFamily(ip) !== 0 && specialIPErrors(ip).length === 0) check(index('spec.externalIPs', i), ip, 'externalIP');
  });
  const lbIP = svc.spec?.loadBalancerIP;
  if (lbIP) check('spec.loadBalancerIP', lbIP, 'loadBalancerIP');
  const annotation = svc.metadata?.annotations?.[ANNOTATION_METALLB_LOADBALANCER_IPS];
  if (annotation !== undefined) {
    for (const ip of annotation.split(',').map((s) => s.trim()).filter(Boolean)) check(`metadata.annotations[${ANNOTATION_METALLB_LOADBALANCER_IPS}]`, ip, 'loadBalancerIP');
  }
  return errs;
}

/** The IPv4 address a Service asks to get from the LoadBalancer pool, if any (MetalLB's annotation may list one per family). */
export function requestedLoadBalancerIP(svc: Service): string | undefined {
  if (svc.spec?.loadBalancerIP) return svc.spec.loadBalancerIP;
  const listed = svc.metadata?.annotations?.[ANNOTATION_METALLB_LOADBALANCER_IPS]?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
  return listed.find((ip) => parseIPFamily(ip) === 4) ?? listed[0];
}
