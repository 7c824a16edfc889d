/**
 * `services/proxy` and `pods/proxy` (what `kubectl proxy` users and `kubectl get --raw` reach
 * pods through): any method on
 *
 *   /api/v1/namespaces/NS/services/[https:]NAME[:PORT]/proxy/PATH?QUERY
 *   /api/v1/namespaces/NS/pods/[https:]NAME[:PORT]/proxy/PATH?QUERY
 *
 * goes to PATH?QUERY on the endpoint or pod proxy-location.ts picks, streamed both ways, as
 * kube-apiserver's UpgradeAwareHandler proxies it: hop-by-hop headers and the client's
 * credentials stay behind, X-Forwarded-For is added, a redirect to the upstream itself comes
 * back pointing through the proxy, `…/proxy` without a slash is redirected to `…/proxy/`, and
 * an upstream that cannot be reached is 503 "error trying to reach service: …". HTTP and
 * HTTPS upstreams (certificates unchecked, as kube-apiserver's proxy transport does); no
 * WebSocket or other upgrades through the proxy, and HTML bodies are passed unchanged (no link
 * rewriting). Connections leave from the apiserver's address, so the pod sees the apiserver.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { LABEL_SERVICE_NAME } from '../base/model/well-known.js';
import { socketErrorText } from '../base/portforward/pod-connection.js';
import type { ApiContext } from './api-request.js';
import { podLocation, serviceLocation, type ProxyLocation } from './proxy-location.js';
import { failure, toApiError, type Status } from './status.js';

const PROXY_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|services)\/([^/]+)\/proxy(\/.*)?$/;

/** RFC 7230 hop-by-hop headers, and the credentials the apiserver took (its authenticator removes them). */
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'authorization']);

export interface ProxyRequest {
  namespace: string;
  resource: 'pods' | 'services';
  /** `[scheme:]name[:port]`, decoded. */
  id: string;
  /** The proxy prefix, as the client wrote it (…/proxy). */
  prefix: string;
  /** What follows `/proxy`, still encoded ('' when nothing does). */
  rest: string;
}

export function proxyRequest(pathname: string): ProxyRequest | undefined {
  const m = PROXY_PATH.exec(pathname);
  if (!m) return undefined;
  try {
    const rest = m[4] ?? '';
    return { namespace: decodeURIComponent(m[1]!), resource: m[2] as 'pods' | 'services', id: decodeURIComponent(m[3]!), prefix: pathname.slice(0, pathname.length - rest.length), rest };
  } catch {
    return undefined;
  }
}

function writeStatus(res: ServerResponse, status: Status): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify(status);
  res.writeHead(status.code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private' });
  res.end(body);
}

function locate(ctx: ApiContext, p: ProxyRequest): ProxyLocation {
  if (p.resource === 'pods') return podLocation(p.id, { pod: (name) => ctx.cache.get('Pod', p.namespace, name) as Pod | undefined });
  return serviceLocation(p.id, {
    service: (name) => ctx.cache.get('Service', p.namespace, name) as Service | undefined,
    slices: (name) => (ctx.cache.list('EndpointSlice', p.namespace) as EndpointSlice[]).filter((s) => s.metadata?.labels?.[LABEL_SERVICE_NAME] === name),
  });
}

/** A Location pointing at the upstream itself, pointed back through the proxy (apimachinery proxy.Transport). */
function throughProxy(location: string, target: ProxyLocation, p: ProxyRequest): string {
  const origin = `${target.scheme}://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  let url: URL;
  try {
    url = new URL(location, `${origin}/`);
  } catch {
    return location;
  }
  if (url.origin !== new URL(origin).origin) return location;
  return `${p.prefix}${url.pathname}${url.search}${url.hash}`;
}

export function serveProxy(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, p: ProxyRequest, search: string): void {
  let target: ProxyLocation;
  try {
    target = locate(ctx, p);
  } catch (err) {
    return writeStatus(res, toApiError(err).status);
  }
  const method = req.method ?? 'GET';
  if (p.rest === '' && (method === 'GET' || method === 'HEAD')) {
    // kube-apiserver's proxyRedirectsforRootPath: relative links on the upstream's root page need the slash.
    res.writeHead(301, { Location: `${p.prefix}/${search}`, 'Content-Length': '0' });
    return void res.end();
  }
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !DROPPED.has(k)) headers[k] = v;
  const client = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
  headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${req.headers['x-forwarded-for']}, ${client}` : client;
  headers.host = `${target.host}:${target.port}`;
  const options = { host: target.host, port: target.port, method, path: `${p.rest || '/'}${search}`, headers, localAddress: ctx.config.apiServerAddress };
  const upstream = target.scheme === 'https' ? https.request({ ...options, rejectUnauthorized: false }) : http.request(options);
  upstream.on('response', (up) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !DROPPED.has(k)) out[k] = v;
    if (typeof up.headers.location === 'string') out.location = throughProxy(up.headers.location, target, p);
    res.writeHead(up.statusCode ?? 502, out);
    up.pipe(res);
    up.on('error', () => res.destroy());
  });
  upstream.on('error', (e: NodeJS.ErrnoException) => {
    if (res.headersSent) return void res.destroy();
    writeStatus(res, failure('ServiceUnavailable', `error trying to reach service: ${socketErrorText(e, target.host, target.port, 'tcp')}`));
  });
  // The client went away: so does the upstream request.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}
