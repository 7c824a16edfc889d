/**
 * The routing decision for one request, with no I/O: table + request → proxy (to an ordered
 * endpoint list, with the URI to send), redirect, or a local response. The phases run in
 * nginx's order (ingress-notes §4):
 *   1. app-root 302 (server level)        2. location match
 *   3. 413 by Content-Length              4. denied 503, CORS preflight 204, redirect, rewrite
 *   5. HTTPS 308, then no endpoints 503   6. allow/deny 403
 *   7. proxy (canary, then balancer)
 */
import { cidrContains } from '../dataplane/base/net/ip.js';
import { BalancerState, pickEndpoint } from './balancer.js';
import { routeToCanary } from './canary.js';
import { corsHeaders } from './cors.js';
import type { Endpoint } from './endpoints.js';
import { lookupServer, normalizeHost } from './match-host.js';
import { selectLocation } from './match-path.js';
import { expandVariables, headerValue, parseCookies } from './nginx-variables.js';
import { encodePath, parseRequestUri, type RequestUri } from './request-uri.js';
import { DEFAULT_UPSTREAM, type IngressRef, type Location, type RouteTable, type Server, type Upstream } from './route-table.js';
import { lookupCertificate } from './tls-secrets.js';

export interface RouteRequest {
  /** The Host header as sent (may carry a port). */
  host?: string;
  /** The request-target as sent, e.g. `/cart?id=1`. */
  path: string;
  method?: string;
  /** Lowercase header names, as Node's `IncomingMessage.headers`. */
  headers?: Readonly<Record<string, string | string[] | undefined>>;
  /** Parsed cookies; parsed from the Cookie header when absent. */
  cookies?: ReadonlyMap<string, string>;
  clientIp: string;
  scheme: 'http' | 'https';
}

/** What logs and metrics need to know about where a request went. */
export interface RouteInfo {
  server: string;
  location?: string;
  ingress?: IngressRef;
  service?: string;
  servicePort?: string;
  /** `$proxy_upstream_name`: `<ns>-<svc>-<port>`, `upstream-default-backend`, or `-`. */
  upstreamName: string;
  /** `$proxy_alternative_upstream_name`: the canary upstream when it was chosen. */
  alternativeUpstreamName: string;
  canary: boolean;
}

export interface ProxyDecision {
  action: 'proxy';
  info: RouteInfo;
  upstream: Upstream;
  /** The chosen endpoint first, then retry candidates. */
  endpoints: Endpoint[];
  /** The request-target to send upstream (raw unless rewritten). */
  uri: string;
  /** Host header override (upstream-vhost). */
  hostHeader?: string;
  responseHeaders: Array<[string, string]>;
  backendProtocol: 'http' | 'https';
  connectTimeoutMs: number;
  sendTimeoutMs: number;
  readTimeoutMs: number;
  /** Bytes; 0 = unlimited. Enforced on streamed bodies by the shell. */
  bodyLimit: number;
  /** Attempts in all (first try included). */
  tries: number;
  /** Upstream statuses to intercept and replace by the error backend (custom-http-errors). */
  interceptErrors?: { codes: number[]; backend?: Upstream; headers: Array<[string, string]> };
  /** Set when this request is itself a custom error page fetch: the code being rendered. */
  errorCode?: number;
  /** With errorCode: X-Namespace, X-Ingress-Name, X-Service-Name, X-Service-Port. */
  errorHeaders?: Array<[string, string]>;
  xForwardedPrefix?: string;
}

export interface RedirectDecision {
  action: 'redirect';
  info: RouteInfo;
  status: number;
  location: string;
  responseHeaders: Array<[string, string]>;
}

export interface RespondDecision {
  action: 'respond';
  info: RouteInfo;
  status: number;
  reason: string;
  responseHeaders: Array<[string, string]>;
  /** The built-in default backend's answer (the stock nginx error page). */
  defaultBackend: boolean;
}

export type RouteDecision = ProxyDecision | RedirectDecision | RespondDecision;

const ACME_PREFIX = '/.well-known/acme-challenge';
const NO_COOKIES: ReadonlyMap<string, string> = new Map();

export function route(table: RouteTable, req: RouteRequest, state: BalancerState = new BalancerState()): RouteDecision {
  const headers = req.headers ?? {};
  const method = (req.method ?? 'GET').toUpperCase();
  const parsed = parseRequestUri(req.path);
  const noInfo: RouteInfo = { server: '_', upstreamName: '-', alternativeUpstreamName: '', canary: false };
  if (!parsed.ok) return respond(noInfo, 400, parsed.reason, [], true);
  const uri = parsed.uri;
  const rawHost = uri.absoluteHost ?? req.host ?? '';
  const host = normalizeHost(rawHost);
  const server = lookupServer(table.names, host)!;
  const info: RouteInfo = { server: server.hostname, upstreamName: '-', alternativeUpstreamName: '', canary: false };

  // 1. app-root: `if ($uri = /) { return 302 $scheme://$http_host<root>; }`
  if (server.appRoot && uri.path === '/') {
    return { action: 'redirect', info, status: 302, location: `${req.scheme}://${rawHost}${server.appRoot}`, responseHeaders: [] };
  }

  // 2. location
  const loc = selectLocation(server.locations, uri.path, server.regexMode);
  if (!loc) return respond(info, 404, 'no location matches', [], true);
  describe(info, loc);
  const cfg = loc.config;

  // 3. client_max_body_size, by Content-Length (streamed bodies are checked by the shell).
  const length = Number(headerValue(headers, 'content-length') || 0);
  if (cfg.proxyBodySize > 0 && length > cfg.proxyBodySize) return errorPage(info, loc, 413, 'request body larger than proxy-body-size', []);

  // 4. rewrite-phase returns
  if (cfg.denied) return respond(info, 503, `location denied: ${cfg.denied}`, [], true);
  const cors = corsHeaders(cfg.cors, headerValue(headers, 'origin') || undefined) ?? [];
  if (cors.length && method === 'OPTIONS') {
    return respond(info, 204, 'CORS preflight', [...cors, ['Content-Type', 'text/plain charset=UTF-8'], ['Content-Length', '0']], false);
  }
  if (cfg.redirect) return { action: 'redirect', info, status: cfg.redirect.code, location: cfg.redirect.url, responseHeaders: cors };
  const target = rewrite(loc, uri);

  // 5. Lua rewrite: HTTPS redirect, then "no balancer" 503.
  if (req.scheme === 'http' && !loc.path.startsWith(ACME_PREFIX)) {
    const hasCert = lookupCertificate(table.certificates, host) !== undefined;
    if ((cfg.sslRedirect && hasCert) || cfg.forceSslRedirect) {
      let requestUri = uri.raw;
      if (!cfg.preserveTrailingSlash && requestUri.endsWith('/')) requestUri = requestUri.slice(0, -1);
      const redirectHost = rawHost.replace(/:\d+$/, '') || host;
      return { action: 'redirect', info, status: 308, location: `https://${redirectHost}${requestUri}`, responseHeaders: cors };
    }
  }
  let upstream = loc.upstream;
  if (upstream && upstream.endpoints.length === 0) {
    if (loc.customDefaultBackend) upstream = loc.customDefaultBackend;
    else return errorPage(info, loc, 503, upstream.problem ?? 'no ready endpoints', cors);
  }

  // 6. access phase: deny list, then allow list (`allow …; deny all;`).
  if (cfg.denylist?.some((c) => cidrContains(c, req.clientIp)) || (cfg.allowlist && !cfg.allowlist.some((c) => cidrContains(c, req.clientIp)))) {
    return errorPage(info, loc, 403, `client ${req.clientIp} is not allowed`, cors);
  }

  // 7. proxy
  if (!upstream) return respond(info, 404, 'default backend', cors, true);
  // Cookies are parsed only when a balancer or canary rule looks at them (hot path).
  let parsedCookies = req.cookies;
  const cookies = () => (parsedCookies ??= parseCookies(headers.cookie));
  if (upstream === loc.upstream && upstream.alternative && routeToCanary(upstream, { headers, cookies: cookies() }, state)) {
    upstream = upstream.alternative;
    info.canary = true;
    info.alternativeUpstreamName = upstream.name;
  }
  const hashKey = upstream.hashBy
    ? expandVariables(upstream.hashBy, { requestUri: uri.raw, uri: uri.path, query: uri.query, host, remoteAddr: req.clientIp, scheme: req.scheme, method, headers, cookies: cookies() })
    : undefined;
  const pick = pickEndpoint(upstream, upstream.affinity ? cookies() : NO_COOKIES, hashKey, state);
  const responseHeaders = [...cors];
  if (pick.newCookieKey !== undefined && upstream.affinity && shouldSetCookie(upstream, host, server, loc)) {
    responseHeaders.push(['Set-Cookie', affinityCookie(upstream, pick.newCookieKey, loc, req.scheme, state.now())]);
  }
  return proxy(info, loc, upstream, pick.endpoints, target, responseHeaders, req.scheme);
}

function describe(info: RouteInfo, loc: Location): void {
  info.location = loc.path;
  if (loc.ingress) info.ingress = loc.ingress;
  if (loc.upstream) {
    info.service = loc.upstream.service;
    info.servicePort = loc.upstream.port;
    info.upstreamName = loc.upstream.name;
  } else {
    info.upstreamName = DEFAULT_UPSTREAM;
  }
}

function respond(info: RouteInfo, status: number, reason: string, headers: Array<[string, string]>, defaultBackend: boolean): RespondDecision {
  return { action: 'respond', info, status, reason, responseHeaders: headers, defaultBackend };
}

/**
 * A locally generated error, through `error_page` when the location lists the code in
 * custom-http-errors: then the error backend (the default-backend annotation's Service, or
 * the built-in default backend, which answers 404) renders it.
 */
function errorPage(info: RouteInfo, loc: Location, status: number, reason: string, cors: Array<[string, string]>): RouteDecision {
  if (!loc.config.customHttpErrors.includes(status)) return respond(info, status, reason, cors, false);
  const backend = loc.customDefaultBackend;
  if (!backend) return respond(info, 404, `custom-http-errors: ${status} rendered by the default backend`, cors, true);
  // The error location: `rewrite (.*) / break;` and the X-Code family of headers.
  const d = proxy(info, loc, backend, backend.endpoints, '/', cors, 'http');
  d.errorCode = status;
  d.errorHeaders = d.interceptErrors!.headers;
  delete d.interceptErrors;
  return d;
}

function proxy(info: RouteInfo, loc: Location, upstream: Upstream, endpoints: Endpoint[], uri: string, responseHeaders: Array<[string, string]>, scheme: 'http' | 'https'): ProxyDecision {
  const cfg = loc.config;
  const d: ProxyDecision = {
    action: 'proxy',
    info,
    upstream,
    endpoints,
    uri,
    responseHeaders,
    backendProtocol: cfg.backendProtocol === 'HTTPS' || (cfg.backendProtocol === 'AUTO_HTTP' && scheme === 'https') ? 'https' : 'http',
    connectTimeoutMs: cfg.proxyConnectTimeout * 1000,
    sendTimeoutMs: cfg.proxySendTimeout * 1000,
    readTimeoutMs: cfg.proxyReadTimeout * 1000,
    bodyLimit: cfg.proxyBodySize,
    tries: cfg.proxyNextUpstreamTries > 0 ? cfg.proxyNextUpstreamTries : endpoints.length,
  };
  if (cfg.upstreamVhost) d.hostHeader = cfg.upstreamVhost;
  if (cfg.xForwardedPrefix) d.xForwardedPrefix = cfg.xForwardedPrefix;
  if (cfg.customHttpErrors.length) {
    const headers: Array<[string, string]> = [
      ['X-Namespace', loc.ingress?.namespace ?? ''],
      ['X-Ingress-Name', loc.ingress?.name ?? ''],
      ['X-Service-Name', loc.upstream?.service ?? ''],
      ['X-Service-Port', loc.upstream?.port ?? ''],
    ];
    d.interceptErrors = { codes: cfg.customHttpErrors, headers };
    if (loc.customDefaultBackend) d.interceptErrors.backend = loc.customDefaultBackend;
  }
  return d;
}

/**
 * rewrite-target: `rewrite "(?i)<path>" <target> break;` — the whole URI is replaced, `$n`
 * are the path's capture groups, the original query is appended. Without a rewrite the
 * raw request URI is forwarded untouched.
 */
export function rewrite(loc: Location, uri: RequestUri): string {
  const target = loc.config.rewriteTarget;
  if (target === undefined || target === loc.path) return uri.raw;
  let re: RegExp;
  try {
    re = new RegExp(loc.path.replace(/\(\?P</g, '(?<'), 'i');
  } catch {
    return uri.raw;
  }
  const m = re.exec(uri.path);
  if (!m) return uri.raw;
  const path = target.replace(/\$(\d)/g, (_s, n: string) => m[Number(n)] ?? '');
  return encodePath(path) + (uri.query !== '' ? '?' + uri.query : '');
}

/** sticky.lua should_set_cookie: only paths of Ingresses carrying the affinity annotation. */
function shouldSetCookie(ups: Upstream, host: string, server: Server, loc: Location): boolean {
  const locations = ups.affinity!.locations;
  const key = server.hostname === '_' ? '_' : host;
  const paths = locations.get(key) ?? locations.get(server.hostname);
  return paths !== undefined && paths.has(loc.path);
}

/** lua-resty-cookie's attribute order: Expires, Max-Age, Domain, Path, Secure, HttpOnly, SameSite. */
function affinityCookie(ups: Upstream, key: string, loc: Location, scheme: string, nowMs: number): string {
  const a = ups.affinity!;
  const parts = [`${a.name}=${key}|${ups.backendKey}`];
  if (a.expires !== undefined) parts.push(`Expires=${new Date(nowMs + a.expires * 1000).toUTCString()}`);
  if (a.maxAge !== undefined) parts.push(`Max-Age=${a.maxAge}`);
  if (a.domain) parts.push(`Domain=${a.domain}`);
  parts.push(`Path=${a.path ?? loc.path}`);
  if (a.secure ?? scheme === 'https') parts.push('Secure');
  parts.push('HttpOnly');
  if (a.sameSite) parts.push(`SameSite=${a.sameSite}`);
  return parts.join('; ');
}
