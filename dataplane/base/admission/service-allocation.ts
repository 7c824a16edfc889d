/**
 * ClusterIP, NodePort, healthCheckNodePort and LoadBalancer IP allocation on write, as the
 * apiserver's service REST storage (and MetalLB for LB IPs) do it. Pure: given what is
 * taken, it returns the service with its allocations filled in plus the claims/releases the
 * commit script applies atomically (the script re-checks, so two racing writers can never
 * both win).
 *
 * Like the apiserver, dynamic allocation avoids the lower "static" band of each range so
 * that requested values rarely collide with dynamically chosen ones.
 */
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { type ClusterConfig, loadBalancerAddresses } from '../cluster-config.js';
import { cidrAddress, cidrContains, parseCidr } from '../net/ip.js';
import { requestedLoadBalancerIP } from '../model/validate/service-addresses.js';

export type Pool = 'clusterip' | 'nodeport' | 'lbip';

/** value → owner ("Service/ns/name") per pool. */
export type Taken = Record<Pool, Map<string, string>>;

export interface AllocationResult {
  service: Service;
  claims: Array<[Pool, string]>;
  releases: Array<[Pool, string]>;
  errors: string[];
}

export function ownerOf(svc: Service): string {
  return `Service/${svc.metadata?.namespace ?? 'default'}/${svc.metadata?.name}`;
}

export function emptyTaken(): Taken {
  return { clusterip: new Map(), nodeport: new Map(), lbip: new Map() };
}

/** Values this service holds now (from its stored state). */
export function heldBy(svc: Service | undefined): Array<[Pool, string]> {
  if (!svc?.spec) return [];
  const out: Array<[Pool, string]> = [];
  const ip = svc.spec.clusterIP;
  if (ip && ip !== 'None') out.push(['clusterip', ip]);
  for (const p of svc.spec.ports ?? []) if (p.nodePort) out.push(['nodeport', String(p.nodePort)]);
  if (svc.spec.healthCheckNodePort) out.push(['nodeport', String(svc.spec.healthCheckNodePort)]);
  for (const ing of svc.status?.loadBalancer?.ingress ?? []) if (ing.ip) out.push(['lbip', ing.ip]);
  return dedupe(out);
}

export function allocateService(
  desired: Service,
  current: Service | undefined,
  taken: Taken,
  config: ClusterConfig,
  random: () => number = Math.random,
): AllocationResult {
  const owner = ownerOf(desired);
  const svc: Service = structuredClone(desired);
  const spec = (svc.spec ??= {});
  const type = spec.type ?? 'ClusterIP';
  const errors: string[] = [];
  const free = (pool: Pool, value: string) => {
    const holder = taken[pool].get(value);
    return holder === undefined || holder === owner;
  };
  const mine: Array<[Pool, string]> = [];
  const take = (pool: Pool, value: string) => {
    mine.push([pool, value]);
    taken[pool].set(value, owner);
  };

  // --- ClusterIP ---------------------------------------------------------------------------
  if (type === 'ExternalName') {
    delete spec.clusterIP;
    delete spec.clusterIPs;
  } else if (spec.clusterIP === 'None') {
    spec.clusterIPs = ['None'];
  } else {
    const requested = spec.clusterIP || current?.spec?.clusterIP;
    if (requested && requested !== 'None') {
      if (!cidrContains(config.serviceCIDR, requested)) {
        errors.push(`spec.clusterIPs: Invalid value: []string{"${requested}"}: failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${config.serviceCIDR}`);
      } else if (!free('clusterip', requested)) {
        errors.push(`spec.clusterIPs: Invalid value: []string{"${requested}"}: failed to allocate IP ${requested}: provided IP is already allocated`);
      } else {
        take('clusterip', requested);
        spec.clusterIP = requested;
      }
    } else {
      const ip = pickClusterIP(config, (v) => free('clusterip', v), random);
      if (!ip) errors.push('spec.clusterIPs: Internal error: failed to allocate a serviceIP: range is full');
      else {
        take('clusterip', ip);
        spec.clusterIP = ip;
      }
    }
    if (spec.clusterIP) spec.clusterIPs = [spec.clusterIP];
  }

  // --- NodePorts ---------------------------------------------------------------------------
  const wantsNodePorts = type === 'NodePort' || (type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
  const { min, max } = config.nodePortRange;
  const rangeText = `The range of valid ports is ${min}-${max}`;
  const byPortNumber = new Map<number, number>();
  (spec.ports ?? []).forEach((p: ServicePort, i) => {
    if (!wantsNodePorts) {
      if (type !== 'LoadBalancer') delete p.nodePort;
      return;
    }
    let np = p.nodePort ?? carriedNodePort(current, p) ?? byPortNumber.get(p.port);
    const field = `spec.ports[${i}].nodePort`;
    if (np !== undefined) {
      if (np < min || np > max) {
        errors.push(`${field}: Invalid value: ${np}: provided port is not in the valid range. ${rangeText}`);
        return;
      }
      // Ports with the same number (TCP 80 and UDP 80) share one nodePort.
      if (!free('nodeport', String(np)) && byPortNumber.get(p.port) !== np) {
        errors.push(`${field}: Invalid value: ${np}: provided port is already allocated`);
        return;
      }
    } else {
      np = pickNodePort(config, (v) => free('nodeport', String(v)), random);
      if (np === undefined) {
        errors.push(`${field}: Internal error: failed to allocate a nodePort: range is full`);
        return;
      }
    }
    p.nodePort = np;
    byPortNumber.set(p.port, np);
    take('nodeport', String(np));
  });

  // --- healthCheckNodePort -----------------------------------------------------------------
  if (type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local') {
    let hc = spec.healthCheckNodePort ?? current?.spec?.healthCheckNodePort;
    if (hc !== undefined) {
      if (hc < min || hc > max) errors.push(`spec.healthCheckNodePort: Invalid value: ${hc}: provided port is not in the valid range. ${rangeText}`);
      else if (!free('nodeport', String(hc))) errors.push(`spec.healthCheckNodePort: Invalid value: ${hc}: provided port is already allocated`);
    } else {
      hc = pickNodePort(config, (v) => free('nodeport', String(v)), random);
      if (hc === undefined) errors.push('spec.healthCheckNodePort: Internal error: failed to allocate a nodePort: range is full');
    }
    if (hc !== undefined && errors.length === 0) {
      spec.healthCheckNodePort = hc;
      take('nodeport', String(hc));
    }
  } else {
    delete spec.healthCheckNodePort;
  }

  // --- LoadBalancer IP (MetalLB's job in kind; knet does it on write) ----------------------
  if (type === 'LoadBalancer' && !spec.loadBalancerClass) {
    const pool = loadBalancerAddresses(config);
    const requested = requestedLoadBalancerIP(svc) || current?.status?.loadBalancer?.ingress?.[0]?.ip;
    let ip: string | undefined;
    if (requested) {
      if (!free('lbip', requested)) errors.push(`spec.loadBalancerIP: Invalid value: "${requested}": provided IP is already allocated`);
      else ip = requested;
    } else {
      ip = pool.find((a) => free('lbip', a));
      // A full pool leaves the service <pending>, as MetalLB does; it is not an error.
    }
    if (ip) {
      take('lbip', ip);
      writable(svc).status = { ...svc.status, loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } };
    } else {
      writable(svc).status = { ...svc.status, loadBalancer: {} };
    }
  } else if (svc.status?.loadBalancer) {
    writable(svc).status = { ...svc.status, loadBalancer: {} };
  }

  const claims = dedupe(mine);
  const keep = new Set(claims.map(([p, v]) => `${p}|${v}`));
  const releases = heldBy(current).filter(([p, v]) => !keep.has(`${p}|${v}`));
  return { service: svc, claims, releases, errors };
}

function carriedNodePort(current: Service | undefined, p: ServicePort): number | undefined {
  const match = current?.spec?.ports?.find((c) => c.port === p.port && (c.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
  return match?.nodePort;
}

function staticBand(size: number, min: number, max: number): number {
  return Math.min(Math.max(min, Math.floor(size / 32)), max);
}

/** Random in the dynamic (upper) band first, then anywhere; undefined when full. */
function pickFrom(size: number, offset: number, isFree: (n: number) => boolean, random: () => number): number | undefined {
  const tries = Math.min(size, 64);
  for (let i = 0; i < tries; i++) {
    const n = offset + Math.floor(random() * (size - offset));
    if (isFree(n)) return n;
  }
  for (let n = offset; n < size; n++) if (isFree(n)) return n;
  for (let n = 0; n < offset; n++) if (isFree(n)) return n;
  return undefined;
}

export function pickNodePort(config: ClusterConfig, isFree: (port: number) => boolean, random: () => number = Math.random): number | undefined {
  const { min, max } = config.nodePortRange;
  const size = max - min + 1;
  const n = pickFrom(size, staticBand(size, 16, 128), (k) => isFree(min + k), random);
  return n === undefined ? undefined : min + n;
}

export function pickClusterIP(config: ClusterConfig, isFree: (ip: string) => boolean, random: () => number = Math.random): string | undefined {
  const c = parseCidr(config.serviceCIDR);
  // Skip the network address and the broadcast address; .1 and .10 are claimed by the
  // kubernetes and kube-dns services through the same pool.
  const usable = c.size - 2;
  const n = pickFrom(usable, Math.min(staticBand(usable, 16, 256), usable - 1), (k) => isFree(cidrAddress(c, k + 1)), random);
  return n === undefined ? undefined : cidrAddress(c, n + 1);
}

/** kubernetes-types marks status read-only (clients never write it); the apiserver side does. */
function writable(svc: Service): { status?: Service['status'] } {
  return svc as { status?: Service['status'] };
}

function dedupe(list: Array<[Pool, string]>): Array<[Pool, string]> {
  const seen = new Set<string>();
  return list.filter(([p, v]) => {
    const k = `${p}|${v}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
