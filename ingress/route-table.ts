/**
 * Ingresses of our class + Services + EndpointSlices + Secrets → the routing table, built
 * the way ingress-nginx builds its nginx configuration (controller.go createUpstreams,
 * createServers, getBackendServers, mergeAlternativeBackends): one server per host, merged
 * across Ingresses (oldest first; the oldest keeps a duplicate host+path+pathType), each
 * host with a root location `/` pointing at the default backend, canary Ingresses attached
 * to the upstream of the matching main location, certificates from the oldest Ingress
 * naming the host. Recomputed in full on every relevant change (no incremental patches).
 */
import type { Secret, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressClass, IngressServiceBackend } from 'kubernetes-types/networking/v1.js';
import { defaultAnnotations, parseAnnotations, type CanaryConfig, type CookieAffinity, type IngressAnnotations } from './annotations.js';
import { md5 } from './balancer.js';
import { byIdentity } from './by-identity.js';
import { findServicePort, resolveEndpoints, type Endpoint } from './endpoints.js';
import { classSelector, isOurIngress } from './ingress-class.js';
import { checkIngress } from './ingress-validation.js';
import { CATCH_ALL } from './match-host.js';
import { compilePathRegex, orderLocations, type PathType } from './match-path.js';
import { certificateCovers, parseTlsSecret, type TlsEntry } from './tls-secrets.js';
import { slicesLookup, type SlicesOfService } from '../dataplane/base/informer/indexes.js';

export const DEFAULT_UPSTREAM = 'upstream-default-backend';

export interface Upstream {
  /** `<ns>-<svc>-<port>` as ingress-nginx names it (port as written in the Ingress). */
  name: string;
  namespace: string;
  service: string;
  port: string;
  endpoints: Endpoint[];
  problem?: string;
  loadBalance: 'round_robin' | 'ewma';
  hashBy?: string;
  affinity?: UpstreamAffinity;
  /** md5(md5(name)+name): the cookie suffix that tells which upstream a cookie pins. */
  backendKey: string;
  /** The canary upstream attached to this one. */
  alternative?: Upstream;
  /** Set on canary upstreams: their traffic-shaping policy. */
  canary?: CanaryConfig;
}

export interface UpstreamAffinity extends CookieAffinity {
  /** host → Ingress paths whose responses may set the cookie. */
  locations: Map<string, Set<string>>;
}

export interface IngressRef {
  namespace: string;
  name: string;
}

export interface Location {
  /** The Ingress path (`/` for an empty one). */
  path: string;
  /** Exact or Prefix: ImplementationSpecific is Prefix, as in ingress-nginx. */
  pathType: Exclude<PathType, 'ImplementationSpecific'>;
  regex?: RegExp;
  ingress?: IngressRef;
  /** Undefined: the built-in default backend (404). */
  upstream?: Upstream;
  isDefaultBackend: boolean;
  config: IngressAnnotations;
  /** The `default-backend` annotation's Service, when it has endpoints. */
  customDefaultBackend?: Upstream;
}

export interface Server {
  hostname: string;
  aliases: string[];
  /** In match order (see match-path.ts orderLocations). */
  locations: Location[];
  regexMode: boolean;
  tls?: TlsEntry;
  appRoot?: string;
}

export interface IngressReport extends IngressRef {
  served: boolean;
  refused?: string;
  warnings: string[];
}

export interface RouteTable {
  servers: Server[];
  /** Hostnames, aliases and `_` → server. */
  names: Map<string, Server>;
  /** Hostnames and aliases with a certificate entry (secret or default). */
  certificates: Map<string, TlsEntry>;
  upstreams: Map<string, Upstream>;
  /** Every Ingress of our class, served or not, oldest first. */
  ingresses: IngressReport[];
}

export interface RouteTableInput {
  ingresses: readonly Ingress[];
  ingressClasses: readonly IngressClass[];
  services: readonly Service[];
  /** Every slice (tests), or the lookup by Service through the slice informer's index. */
  endpointSlices: readonly EndpointSlice[] | SlicesOfService;
  secrets: readonly Secret[];
}

interface Parsed {
  ing: Ingress;
  ref: IngressRef;
  anns: IngressAnnotations;
  report: IngressReport;
}

export function buildRouteTable(input: RouteTableInput): RouteTable {
  const sel = classSelector(input.ingressClasses);
  const services = new Map<string, Service>(input.services.map((s) => [`${s.metadata?.namespace ?? 'default'}/${s.metadata?.name}`, s]));
  const secrets = new Map<string, Secret>(input.secrets.map((s) => [`${s.metadata?.namespace ?? 'default'}/${s.metadata?.name}`, s]));
  const slicesOf = typeof input.endpointSlices === 'function' ? input.endpointSlices : slicesLookup(input.endpointSlices);

  const reports: IngressReport[] = [];
  const parsed: Parsed[] = [];
  for (const ing of sortIngresses(input.ingresses.filter((i) => isOurIngress(i, sel)))) {
    const ref = { namespace: ing.metadata?.namespace ?? 'default', name: ing.metadata?.name ?? '' };
    const check = checkOf(ing);
    const ann = annotationsOf(ing);
    const report: IngressReport = { namespace: ref.namespace, name: ref.name, served: false, warnings: check.warnings.concat(ann.warnings) };
    reports.push(report);
    const refused = check.error ?? ann.refused;
    if (refused) report.refused = refused;
    else parsed.push({ ing, ref, anns: ann.config, report });
  }

  const upstreams = new Map<string, Upstream>();
  const upstreamFor = (p: Parsed, backend: IngressServiceBackend): Upstream => {
    const port = backend.port?.number ? String(backend.port.number) : backend.port?.name ?? '';
    const name = `${p.ref.namespace}-${backend.name}-${port}`;
    let ups = upstreams.get(name);
    if (ups) return ups;
    const key = `${p.ref.namespace}/${backend.name}`;
    const svc = services.get(key);
    const svcPort = svc && backend.port ? findServicePort(svc, backend.port) : undefined;
    const resolved = resolveEndpoints(svc, svcPort, slicesOf(p.ref.namespace, backend.name), key);
    ups = { name, namespace: p.ref.namespace, service: backend.name, port, endpoints: resolved.endpoints, loadBalance: p.anns.loadBalance, backendKey: backendKey(name) };
    if (resolved.problem) ups.problem = resolved.problem;
    if (p.anns.upstreamHashBy) ups.hashBy = p.anns.upstreamHashBy;
    if (p.anns.canary.enabled) ups.canary = p.anns.canary;
    upstreams.set(name, ups);
    return ups;
  };
  // createUpstreams: the first Ingress to name an upstream sets its balancing.
  for (const p of parsed) {
    if (p.ing.spec?.defaultBackend?.service) upstreamFor(p, p.ing.spec.defaultBackend.service);
    for (const rule of p.ing.spec?.rules ?? []) for (const path of rule.http?.paths ?? []) if (path.backend.service) upstreamFor(p, path.backend.service);
  }

  const servers = new Map<string, Server>();
  const rootLocation = (config: IngressAnnotations, upstream?: Upstream, ingress?: IngressRef): Location => {
    const loc: Location = { path: '/', pathType: 'Prefix', isDefaultBackend: true, config };
    if (upstream) loc.upstream = upstream;
    if (ingress) loc.ingress = ingress;
    return loc;
  };
  servers.set(CATCH_ALL, { hostname: CATCH_ALL, aliases: [], locations: [rootLocation(defaultAnnotations())], regexMode: false });

  const mains = parsed.filter((p) => !p.anns.canary.enabled);
  for (const p of mains) {
    let un: Upstream | undefined;
    const defBackend = p.ing.spec?.defaultBackend?.service;
    if (defBackend) {
      un = upstreamFor(p, defBackend);
      const catchAllRoot = servers.get(CATCH_ALL)!.locations[0]!;
      if (catchAllRoot.isDefaultBackend && (p.ing.spec?.rules ?? []).length === 0) {
        // An Ingress with only a defaultBackend takes over the catch-all server. Its
        // redirect and rewrite settings are not applied there (ingress-nginx's TODO).
        const d = defaultAnnotations();
        const config: IngressAnnotations = { ...p.anns, redirect: undefined, rewriteTarget: d.rewriteTarget, useRegex: d.useRegex, appRoot: undefined, sslRedirect: d.sslRedirect, forceSslRedirect: d.forceSslRedirect, preserveTrailingSlash: d.preserveTrailingSlash };
        Object.assign(catchAllRoot, { isDefaultBackend: false, upstream: un, ingress: p.ref, config });
      }
    }
    for (const rule of p.ing.spec?.rules ?? []) {
      const host = rule.host || CATCH_ALL;
      if (servers.has(host)) continue;
      servers.set(host, { hostname: host, aliases: [], locations: [rootLocation(p.anns, un, p.ref)], regexMode: false });
    }
  }

  // Aliases and certificates: the oldest Ingress that sets them for a host wins.
  const allAliases = new Map<string, string[]>();
  for (const p of mains) {
    for (const rule of p.ing.spec?.rules ?? []) {
      const host = rule.host || CATCH_ALL;
      const server = servers.get(host)!;
      if (server.aliases.length === 0 && p.anns.aliases.length) {
        server.aliases = p.anns.aliases;
        if (!allAliases.has(host)) allAliases.set(host, p.anns.aliases);
      }
      if (server.tls || !(p.ing.spec?.tls ?? []).length || host === CATCH_ALL) continue;
      server.tls = tlsEntryFor(host, p, secrets);
    }
  }
  for (const [host, aliases] of allAliases) {
    const server = servers.get(host)!;
    server.aliases = [...new Set(aliases.filter((a) => a !== host && !servers.has(a)))].sort();
  }

  // Locations, merged across Ingresses.
  for (const p of parsed) {
    for (const rule of p.ing.spec?.rules ?? []) {
      const host = rule.host || CATCH_ALL;
      const server = servers.get(host) ?? servers.get(CATCH_ALL)!;
      for (const path of rule.http?.paths ?? []) {
        if (!path.backend.service) continue;
        const ups = upstreamFor(p, path.backend.service);
        if (ups.canary) continue; // canary upstreams have no server of their own
        const nginxPath = path.path || '/';
        const pathType = path.pathType === 'Exact' ? 'Exact' : 'Prefix';
        const same = server.locations.find((l) => l.path === nginxPath && l.pathType === pathType);
        if (same && !same.isDefaultBackend) {
          if (same.ingress && (same.ingress.namespace !== p.ref.namespace || same.ingress.name !== p.ref.name)) {
            p.report.warnings.push(`host "${host}" and path "${nginxPath}" is already defined in ingress ${same.ingress.namespace}/${same.ingress.name}; this path is not served`);
          }
        } else if (same) {
          Object.assign(same, { upstream: ups, isDefaultBackend: false, ingress: p.ref, config: p.anns });
        } else {
          server.locations.push({ path: nginxPath, pathType, upstream: ups, isDefaultBackend: false, ingress: p.ref, config: p.anns });
        }
        const aff = p.anns.affinity;
        if (aff) {
          ups.affinity ??= { ...aff, locations: new Map() };
          const { mode: _m, canaryBehavior: _c, ...cookie } = aff;
          Object.assign(ups.affinity, cookie); // cookie settings: the last Ingress wins, as in ingress-nginx
          for (const h of [host, ...server.aliases]) {
            let set = ups.affinity.locations.get(h);
            if (!set) ups.affinity.locations.set(h, (set = new Set()));
            set.add(nginxPath);
          }
        }
      }
    }
  }

  if (mains.length > 0) for (const p of parsed) if (p.anns.canary.enabled) mergeCanary(p, servers, upstreamFor);

  for (const server of servers.values()) {
    for (const loc of server.locations) attachCustomDefaultBackend(loc, services, slicesOf);
    server.regexMode = server.locations.some((l) => l.config.useRegex || (l.config.rewriteTarget !== undefined && l.config.rewriteTarget !== l.path));
    if (server.regexMode) {
      for (const loc of server.locations) {
        const re = compilePathRegex(loc.path);
        if (re) loc.regex = re;
        else reports.find((r) => r.namespace === loc.ingress?.namespace && r.name === loc.ingress?.name)?.warnings.push(`path ${loc.path} is not a valid regular expression and never matches`);
      }
    }
    server.locations = orderLocations(server.locations, server.regexMode);
    const appRoot = server.locations.find((l) => l.config.appRoot)?.config.appRoot;
    if (appRoot) server.appRoot = appRoot;
  }

  const names = new Map<string, Server>();
  const certificates = new Map<string, TlsEntry>();
  const sorted = [...servers.values()].sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
  for (const s of sorted) names.set(s.hostname, s);
  for (const s of sorted) {
    for (const alias of s.aliases) if (!names.has(alias)) names.set(alias, s);
    if (s.tls) for (const h of [s.hostname, ...s.aliases]) certificates.set(h, s.tls);
  }
  for (const p of parsed) p.report.served = true;
  return { servers: sorted, names, certificates, upstreams, ingresses: reports };
}

// Parse results by Ingress / Secret object (by-identity.ts): an EndpointSlice event (the
// common one) then rebuilds the table without re-parsing annotations or PEM.
const checkOf = byIdentity(checkIngress);
const annotationsOf = byIdentity((ing: Ingress) => parseAnnotations(ing.metadata?.annotations));
const secretOf = byIdentity(parseTlsSecret);

/** Oldest first; equal timestamps by `ns/name` descending (ingress-nginx store.go). */
export function sortIngresses(list: readonly Ingress[]): Ingress[] {
  // Keys computed once per Ingress, not once per comparison (Date.parse dominated a rebuild).
  const keyed = list.map((ing) => ({ ing, t: Date.parse(ing.metadata?.creationTimestamp ?? '') || 0, n: `${ing.metadata?.namespace}/${ing.metadata?.name}` }));
  keyed.sort((a, b) => (a.t !== b.t ? a.t - b.t : a.n > b.n ? -1 : a.n < b.n ? 1 : 0));
  return keyed.map((k) => k.ing);
}

const backendKeys = new Map<string, string>();

export function backendKey(upstreamName: string): string {
  let key = backendKeys.get(upstreamName);
  if (key !== undefined) return key;
  key = md5(md5(upstreamName) + upstreamName);
  if (backendKeys.size >= 10_000) backendKeys.clear();
  backendKeys.set(upstreamName, key);
  return key;
}

function tlsEntryFor(host: string, p: Parsed, secrets: Map<string, Secret>): TlsEntry {
  const tls = p.ing.spec?.tls ?? [];
  let secretName = tls.find((t) => (t.hosts ?? []).some((h) => h.toLowerCase() === host))?.secretName;
  if (secretName === undefined) {
    // No TLS entry names the host: use a listed certificate that covers it (VerifyHostname).
    for (const t of tls) {
      if (!t.secretName) continue;
      const s = secrets.get(`${p.ref.namespace}/${t.secretName}`);
      const parsed = s && secretOf(s);
      if (parsed?.ok && certificateCovers(parsed.certificate, host)) {
        secretName = t.secretName;
        break;
      }
    }
  }
  if (!secretName) return { kind: 'default', reason: `host ${host} has no TLS secret in ingress ${p.ref.namespace}/${p.ref.name}` };
  const key = `${p.ref.namespace}/${secretName}`;
  const secret = secrets.get(key);
  if (!secret) return { kind: 'default', reason: `Secret ${key} not found` };
  const parsed = secretOf(secret);
  if (!parsed.ok) return { kind: 'default', reason: parsed.reason };
  if (!certificateCovers(parsed.certificate, host)) return { kind: 'default', reason: `the certificate in Secret ${key} does not cover ${host}` };
  return { kind: 'secret', certificate: parsed.certificate };
}

/** mergeAlternativeBackends: attach a canary to the upstream of the same host+path+pathType. */
function mergeCanary(p: Parsed, servers: Map<string, Server>, upstreamFor: (p: Parsed, b: IngressServiceBackend) => Upstream): void {
  const attach = (alt: Upstream, candidates: Location[]): boolean => {
    let merged = false;
    for (const loc of candidates) {
      const pri = loc.upstream;
      if (!pri) continue;
      if (pri.name === alt.name) return true; // the canary's service is someone's primary: leave it
      if (pri.canary) continue;
      if (!pri.alternative) {
        pri.alternative = alt;
        // "sticky" canary behaviour: the canary shares the primary's affinity settings.
        if (pri.affinity && p.anns.affinity?.canaryBehavior !== 'legacy') alt.affinity = { ...pri.affinity, locations: pri.affinity.locations };
      }
      merged = true;
    }
    return merged;
  };
  const def = p.ing.spec?.defaultBackend?.service;
  if (def) {
    const ok = attach(upstreamFor(p, def), servers.get(CATCH_ALL)!.locations);
    if (!ok) p.report.warnings.push(`canary default backend ${def.name} has no main backend to attach to; it gets no traffic`);
  }
  for (const rule of p.ing.spec?.rules ?? []) {
    const host = rule.host || CATCH_ALL;
    const server = servers.get(host);
    for (const path of rule.http?.paths ?? []) {
      if (!path.backend.service) continue;
      const pathType = path.pathType === 'Exact' ? 'Exact' : 'Prefix';
      const candidates = server ? server.locations.filter((l) => l.path === (path.path || '/') && l.pathType === pathType) : [];
      if (!attach(upstreamFor(p, path.backend.service), candidates)) {
        p.report.warnings.push(`canary for host "${host}" path "${path.path ?? ''}" (${pathType}) matches no main Ingress rule; it gets no traffic`);
      }
    }
  }
}

/** The `default-backend` annotation: the Service's first port, valid only with endpoints. */
function attachCustomDefaultBackend(loc: Location, services: Map<string, Service>, slicesOf: SlicesOfService): void {
  const name = loc.config.defaultBackend;
  if (!name || !loc.ingress) return;
  if (loc.upstream && loc.upstream.endpoints.length > 0 && loc.config.customHttpErrors.length === 0) return;
  const key = `${loc.ingress.namespace}/${name}`;
  const svc = services.get(key);
  const port = svc?.spec?.ports?.[0];
  if (!svc || !port) return;
  const resolved = resolveEndpoints(svc, port, slicesOf(loc.ingress.namespace, name), key);
  if (resolved.endpoints.length === 0) return;
  const upsName = `custom-default-backend-${loc.ingress.namespace}-${name}`;
  loc.customDefaultBackend = {
    name: upsName,
    namespace: loc.ingress.namespace,
    service: name,
    port: String(port.port),
    endpoints: resolved.endpoints,
    loadBalance: 'round_robin',
    backendKey: backendKey(upsName),
  };
}
