/**
 * The Service columns kubectl computes rather than copies: PORT(S), EXTERNAL-IP, and knet's own
 * wide ENDPOINTS (where the proxy sends the traffic). `knet up`'s summary and `knet describe`
 * show the same texts.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ANNOTATION_DNS_PORT } from '../model/well-known.js';
import { groupSlicesByService, type SlicesOfService } from '../informer/indexes.js';
import { none } from './columns.js';

export function servicePorts(s: Service): string {
  const ports = s.spec?.ports ?? [];
  if (!ports.length) return none;
  // The DNS server falls back from port 53 when it may not bind it; show where it really serves.
  const dnsPort = s.metadata?.annotations?.[ANNOTATION_DNS_PORT];
  const served = (p: { port: number }) => (dnsPort && p.port === 53 && dnsPort !== '53' ? `→${dnsPort}` : '');
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}${served(p)}`).join(',');
}

export function externalIP(s: Service): string {
  const type = s.spec?.type ?? 'ClusterIP';
  if (type === 'ExternalName') return s.spec?.externalName ?? none;
  const ips = [...(s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? ''), ...(s.spec?.externalIPs ?? [])].filter(Boolean);
  if (ips.length) return ips.join(',');
  return type === 'LoadBalancer' ? '<pending>' : none;
}

/**
 * The endpoints a Service's traffic goes to, as the proxy picks them: the ready endpoints of
 * its EndpointSlices, or — when none is ready — the serving terminating ones (kube-proxy's
 * fallback). "ip:port", at most three and a count, as kubectl shows Endpoints.
 */
export function serviceEndpoints(s: Service, slices: readonly EndpointSlice[] | SlicesOfService): string {
  if ((s.spec?.type ?? 'ClusterIP') === 'ExternalName') return none;
  const ready = new Set<string>();
  const fallback = new Set<string>();
  for (const slice of lookupOf(slices)(s.metadata?.namespace, s.metadata?.name ?? '')) {
    for (const ep of slice.endpoints ?? []) {
      const c = ep.conditions ?? {};
      const into = c.ready !== false ? ready : c.serving !== false && c.terminating === true ? fallback : undefined;
      for (const p of slice.ports ?? []) if (into && ep.addresses[0] && p.port != null) into.add(`${ep.addresses[0]}:${p.port}`);
    }
  }
  const inUse = [...(ready.size ? ready : fallback)].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (!inUse.length) return none;
  return inUse.slice(0, 3).join(',') + (inUse.length > 3 ? ` + ${inUse.length - 3} more...` : '');
}

/** A list's service-name lookup, grouped once per list (a table prints many Services from one). */
const lookups = new WeakMap<readonly EndpointSlice[], SlicesOfService>();
function lookupOf(slices: readonly EndpointSlice[] | SlicesOfService): SlicesOfService {
  if (typeof slices === 'function') return slices;
  let lookup = lookups.get(slices);
  if (!lookup) lookups.set(slices, (lookup = groupSlicesByService(slices)));
  return lookup;
}
