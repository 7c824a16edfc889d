/**
 * Where things are, for a test: a Service's ClusterIP / NodePort / LoadBalancer address, the
 * ingress controller and the cluster DNS, and a `dns.lookup` that resolves cluster names
 * through the cluster DNS and Ingress hosts to the ingress controller.
 */
import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { Ingress } from 'kubernetes-types/networking/v1.js';
import { nodeIP } from '../base/cluster-config.js';
import type { KObject } from '../base/model/object.js';
import type { ClusterContext } from './cluster-context.js';

export interface Address {
  host: string;
  port: number;
}

export type ServiceAddressType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';

export type LookupCallback = (err: NodeJS.ErrnoException | null, address?: string | LookupAddress[], family?: number) => void;
export type Lookup = (hostname: string, options: LookupOptions | number | LookupCallback, callback?: LookupCallback) => void;

export interface ServiceAddressOptions {
  type?: ServiceAddressType;
  namespace?: string;
  node?: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

/** A Service's address of the given type; `port` picks a service port by number or name (default the first of `protocol`, TCP unless given). */
export async function serviceAddress(ctx: ClusterContext, name: string, port: number | string | undefined, opts: ServiceAddressOptions): Promise<Address> {
  const ns = opts.namespace ?? 'default';
  const svc = await ctx.store.get<Service & KObject>('Service', ns, name);
  if (!svc) throw new Error(`service ${ns}/${name} not found`);
  const ports = (svc.spec?.ports ?? []).filter((p) => !opts.protocol || (p.protocol ?? 'TCP') === opts.protocol);
  const isTcp = (p: { protocol?: string }) => (p.protocol ?? 'TCP') === 'TCP';
  const sp =
    port === undefined
      ? opts.protocol
        ? ports[0]
        : (ports.find(isTcp) ?? ports[0])
      : (ports.find((p) => p.name === port) ?? ports.find((p) => p.port === port && (opts.protocol || isTcp(p))) ?? ports.find((p) => p.port === port));
  if (!sp) {
    const has = (svc.spec?.ports ?? []).map((p) => `${p.name ?? ''}${p.port}/${p.protocol ?? 'TCP'}`).join(', ') || 'none';
    throw new Error(`service ${ns}/${name} has no ${opts.protocol ?? ''} port ${port ?? ''} (it has ${has})`.replace(/\s+/g, ' '));
  }
  const type = svc.spec?.type ?? 'ClusterIP';
  switch (opts.type ?? 'ClusterIP') {
    case 'NodePort':
      if (!sp.nodePort) throw new Error(`service ${ns}/${name} has no nodePort (it is type ${type})`);
      return { host: nodeIP(ctx.config, opts.node ?? 1), port: sp.nodePort };
    case 'LoadBalancer': {
      const ip = svc.status?.loadBalancer?.ingress?.[0]?.ip;
      if (!ip) throw new Error(`service ${ns}/${name} has no LoadBalancer IP (it is type ${type})`);
      return { host: ip, port: sp.port };
    }
    default:
      if (!svc.spec?.clusterIP || svc.spec.clusterIP === 'None') throw new Error(`service ${ns}/${name} has no ClusterIP (${svc.spec?.clusterIP === 'None' ? 'headless' : type})`);
      return { host: svc.spec.clusterIP, port: sp.port };
  }
}

/** The ingress controller's address and ports. */
export function ingressAddress(ctx: ClusterContext): { host: string; httpPort: number; httpsPort: number } {
  const info = ctx.cluster.componentInfo().ingress;
  if (!info) throw new Error('this cluster runs no ingress controller (components.ingress is false)');
  return { host: String(info.address), httpPort: Number(info.http ?? 80), httpsPort: Number(info.https ?? 443) };
}

/** The cluster DNS server (kube-dns's ClusterIP, port 53 unless privilege forced another). */
export function dnsServer(ctx: ClusterContext): Address {
  const info = ctx.cluster.componentInfo().dns;
  return { host: String(info?.address ?? ctx.config.dnsServiceIP), port: Number(info?.port ?? ctx.config.dnsPort) };
}

/**
 * A `dns.lookup`-compatible function: names in the cluster domain (`web.default.svc.cluster.local`,
 * `web.default.svc`) through the cluster DNS, hosts of the cluster's Ingress rules to the
 * ingress controller, anything else as usual.
 */
export function clusterLookup(ctx: ClusterContext, resolver: dns.promises.Resolver): Lookup {
  return (hostname, options, callback) => {
    const cb = (typeof options === 'function' ? options : callback)!;
    const opts: LookupOptions = typeof options === 'object' ? options : typeof options === 'number' ? { family: options } : {};
    const answer = (ips: string[]) => (opts.all ? cb(null, ips.map((address) => ({ address, family: 4 }))) : cb(null, ips[0], 4));
    const notFound = (cause?: unknown) => cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname, cause }));
    const name = hostname.replace(/\.$/, '').toLowerCase();
    const domain = ctx.config.clusterDomain;
    if (name.endsWith(`.${domain}`) || name.endsWith('.svc')) {
      if (!ctx.cluster.componentInfo().dns) return notFound(new Error('this cluster runs no DNS (components.dns is false)'));
      if (opts.family === 6) return notFound();
      const fqdn = name.endsWith('.svc') ? `${name}.${domain}` : name;
      resolver.resolve4(fqdn).then((ips) => (ips.length ? answer(ips) : notFound()), notFound);
      return;
    }
    const ingress = ingressHostAddress(ctx, name);
    if (ingress) return answer([ingress]);
    dns.lookup(hostname, opts as LookupOptions & { all: boolean }, cb as never);
  };
}

/** The ingress controller's address when `host` is a host of some Ingress rule or TLS entry (wildcards as Ingress matches them). */
function ingressHostAddress(ctx: ClusterContext, host: string): string | undefined {
  const info = ctx.cluster.componentInfo().ingress;
  if (!info) return undefined;
  const ingresses = ctx.informers.informer<Ingress & KObject>('Ingress').list();
  const hosts = ingresses.flatMap((i) => [...(i.spec?.rules ?? []).map((r) => r.host), ...(i.spec?.tls ?? []).flatMap((t) => t.hosts ?? [])]).filter((h): h is string => !!h);
  const match = hosts.some((h) => h === host || (h.startsWith('*.') && host.endsWith(h.slice(1)) && !host.slice(0, -h.length + 1).includes('.')));
  return match ? String(info.address) : undefined;
}
