/** Hand-written Kubernetes objects for the ingress unit tests. */
import type { Secret, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { HTTPIngressPath, Ingress, IngressBackend, IngressClass, IngressRule } from 'kubernetes-types/networking/v1.js';
import { nginxIngressClass } from '../../../ingress/ingress-class.js';
import { buildRouteTable, type RouteTable } from '../../../ingress/route-table.js';

export const NS = 'default';

export function backend(service: string, port: number | string = 80): IngressBackend {
  return { service: { name: service, port: typeof port === 'number' ? { number: port } : { name: port } } };
}

export function path(p: string | undefined, pathType: HTTPIngressPath['pathType'], service: string, port: number | string = 80): HTTPIngressPath {
  const out: HTTPIngressPath = { pathType, backend: backend(service, port) };
  if (p !== undefined) out.path = p;
  return out;
}

export function rule(host: string | undefined, ...paths: HTTPIngressPath[]): IngressRule {
  const r: IngressRule = { http: { paths } };
  if (host) r.host = host;
  return r;
}

export interface IngressOpts {
  namespace?: string;
  annotations?: Record<string, string>;
  /** Seconds after a fixed epoch; older Ingresses win duplicates. */
  created?: number;
  className?: string | null;
  defaultBackend?: IngressBackend;
  tls?: Array<{ hosts?: string[]; secretName?: string }>;
}

/** nginx.ingress.kubernetes.io/<k> annotations from a short map. */
export function nginx(anns: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(anns).map(([k, v]) => [`nginx.ingress.kubernetes.io/${k}`, v]));
}

export function ingress(name: string, rules: IngressRule[], opts: IngressOpts = {}): Ingress {
  const ing: Ingress = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace: opts.namespace ?? NS,
      creationTimestamp: new Date(Date.UTC(2025, 0, 1) + (opts.created ?? 0) * 1000).toISOString(),
      annotations: opts.annotations ?? {},
    },
    spec: { rules },
  };
  if (opts.className !== null) ing.spec!.ingressClassName = opts.className ?? 'nginx';
  if (opts.defaultBackend) ing.spec!.defaultBackend = opts.defaultBackend;
  if (opts.tls) ing.spec!.tls = opts.tls;
  if (rules.length === 0) delete ing.spec!.rules;
  return ing;
}

export function service(name: string, ports: Array<{ name?: string; port: number; targetPort?: number | string }> = [{ port: 80, targetPort: 8080 }], namespace = NS): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { ports: ports.map((p) => ({ protocol: 'TCP', targetPort: p.targetPort ?? p.port, ...p })) },
  };
}

export interface EndpointSpec {
  ip: string;
  ready?: boolean;
  pod?: string;
}

export function slice(serviceName: string, endpoints: EndpointSpec[], ports: Array<{ name?: string; port: number }> = [{ port: 8080 }], namespace = NS, suffix = 'a'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${serviceName}-${suffix}`, namespace, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ protocol: 'TCP', port: p.port, name: p.name ?? '' })),
    endpoints: endpoints.map((e) => {
      const ep: EndpointSlice['endpoints'][number] = { addresses: [e.ip], conditions: { ready: e.ready ?? true } };
      if (e.pod) ep.targetRef = { kind: 'Pod', name: e.pod, namespace };
      return ep;
    }),
  };
}

let nextIp = 1;
/** A Service with one ready endpoint on its own address, for "which backend?" tests. */
export function backendService(name: string, namespace = NS): { service: Service; slice: EndpointSlice } {
  const ip = `127.52.200.${nextIp++ % 250}`;
  return { service: service(name, [{ port: 80, targetPort: 8080 }], namespace), slice: slice(name, [{ ip, pod: `${name}-pod` }], [{ port: 8080 }], namespace) };
}

export interface World {
  ingresses?: Ingress[];
  services?: Service[];
  slices?: EndpointSlice[];
  secrets?: Secret[];
  classes?: IngressClass[];
  /** Give missing Services one endpoint each (default true). */
  auto?: boolean;
}

/** Builds a table; every Service named by the Ingresses that is not given gets one endpoint. */
export function tableFor(world: World): RouteTable {
  const ingresses = world.ingresses ?? [];
  const services = [...(world.services ?? [])];
  const slices = [...(world.slices ?? [])];
  const have = new Set(services.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`));
  const want = (ns: string, b: IngressBackend | undefined) => {
    const name = b?.service?.name;
    if (!name || have.has(`${ns}/${name}`) || world.auto === false) return;
    have.add(`${ns}/${name}`);
    const made = backendService(name, ns);
    services.push(made.service);
    slices.push(made.slice);
  };
  for (const ing of ingresses) {
    const ns = ing.metadata?.namespace ?? NS;
    want(ns, ing.spec?.defaultBackend);
    for (const r of ing.spec?.rules ?? []) for (const p of r.http?.paths ?? []) want(ns, p.backend);
  }
  return buildRouteTable({
    ingresses,
    ingressClasses: world.classes ?? [nginxIngressClass()],
    services,
    endpointSlices: slices,
    secrets: world.secrets ?? [],
  });
}
