/**
 * The Ingress conformance suite's backend, `k8s.gcr.io/ingressconformance/echoserver`
 * (kubernetes-sigs/ingress-controller-conformance, images/echoserver/echoserver.go),
 * emulated byte-for-byte where the suite looks:
 *  - listens on HTTP_PORT (default 3000); HTTPS on HTTPS_PORT (default 8443) only when
 *    TLS_SERVER_CERT and TLS_SERVER_PRIVKEY name PEM files;
 *  - `//` in the path is collapsed before Go's ServeMux sees it, which then redirects
 *    unclean paths (`/a/../b`) with 301;
 *  - `/health` answers `OK`; everything else gets the request as indented JSON:
 *    path (the raw request URI), host, method, proto, headers (Go-canonical names, sorted,
 *    Host removed), namespace, ingress, service, pod (NAMESPACE, INGRESS_NAME,
 *    SERVICE_NAME, POD_NAME) and, over TLS, a `tls` object.
 */
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { listenBacklog } from '../../base/net/listen-backlog.js';

export interface EchoserverOptions {
  address: string;
  /** Overrides HTTP_PORT. */
  port?: number;
  /** The container's environment. */
  env?: Record<string, string | undefined>;
  /** stdout lines ("Starting server…", "Echoing back request…"). */
  stdout?: (line: string) => void;
  /** The pod's NetworkPolicy gate (pod-ingress.ts): it owns the listening socket. */
  gate?: (target: net.Server, port: number) => net.Server;
}

export interface EchoserverHandle {
  port: number;
  httpsPort?: number;
  close(): Promise<void>;
}

export async function startEchoserver(opts: EchoserverOptions): Promise<EchoserverHandle> {
  const env = opts.env ?? {};
  const out = opts.stdout ?? (() => {});
  const context = { namespace: env.NAMESPACE ?? '', ingress: env.INGRESS_NAME ?? '', service: env.SERVICE_NAME ?? '', pod: env.POD_NAME ?? '' };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    try {
      serve(req, res, context, out);
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  };
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };

  const httpPort = opts.port ?? Number(env.HTTP_PORT || 3000);
  const server = http.createServer(handler);
  server.on('connection', track);
  out(`Starting server, listening on port ${httpPort} (http)`);
  const listening = await listen(server, httpPort, opts.address, opts.gate);
  const servers: net.Server[] = [listening];
  const handle: EchoserverHandle = {
    port: (listening.address() as AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };

  if (env.TLS_SERVER_CERT && env.TLS_SERVER_PRIVKEY) {
    const httpsPort = Number(env.HTTPS_PORT || 8443);
    const tlsServer = https.createServer({ cert: readFileSync(env.TLS_SERVER_CERT), key: readFileSync(env.TLS_SERVER_PRIVKEY) }, handler);
    tlsServer.on('connection', track);
    out(`Starting server, listening on port ${httpsPort} (https)`);
    const tlsListening = await listen(tlsServer, httpsPort, opts.address, opts.gate);
    servers.push(tlsListening);
    handle.httpsPort = (tlsListening.address() as AddressInfo).port;
  }
  return handle;
}

function serve(req: IncomingMessage, res: ServerResponse, context: Record<string, string>, out: (line: string) => void): void {
  const requestURI = utf8(req.url ?? '/');
  const q = requestURI.indexOf('?');
  const rawPath = q < 0 ? requestURI : requestURI.slice(0, q);
  const query = q < 0 ? '' : requestURI.slice(q + 1);
  let path: string;
  try {
    path = decodeURIComponent(rawPath.startsWith('/') ? rawPath : new URL(rawPath, 'http://x').pathname);
  } catch {
    res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
    res.end('400 Bad Request');
    return;
  }
  path = path.replaceAll('//', '/');
  const clean = cleanPath(path);
  if (clean !== path && req.method !== 'CONNECT') {
    const location = encodeURI(clean) + (query ? `?${query}` : '');
    const headers: Record<string, string> = { Location: location };
    if (req.method === 'GET' || req.method === 'HEAD') headers['Content-Type'] = 'text/html; charset=utf-8';
    res.writeHead(301, headers);
    res.end(req.method === 'GET' ? `<a href="${htmlEscape(location)}">Moved Permanently</a>.\n\n` : undefined);
    return;
  }
  if (clean === '/health') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('OK');
    return;
  }
  out(`Echoing back request made to ${requestURI} to client (${req.socket.remoteAddress}:${req.socket.remotePort})`);
  const body: Record<string, unknown> = {
    path: requestURI,
    host: utf8(req.headers.host ?? ''),
    method: req.method,
    proto: `HTTP/${req.httpVersion}`,
    headers: goHeaders(req.rawHeaders),
    ...context,
  };
  const tls = tlsAssertions(req.socket as TLSSocket);
  if (tls) body.tls = tls;
  const js = goJson(JSON.stringify(body, null, ' '));
  res.writeHead(200, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(js) });
  res.end(js);
}

/** Go's http.Header as json.Marshal writes it: canonical names, values in order, keys sorted, no Host. */
export function goHeaders(raw: readonly string[]): Record<string, string[]> {
  const map = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = canonicalHeaderKey(raw[i]!);
    if (name === 'Host' || name === 'Transfer-Encoding') continue;
    let list = map.get(name);
    if (!list) map.set(name, (list = []));
    list.push(utf8(raw[i + 1]!));
  }
  const sorted: Record<string, string[]> = {};
  for (const k of [...map.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) sorted[k] = map.get(k)!;
  return sorted;
}

/** net/textproto.CanonicalMIMEHeaderKey: `x-forwarded-for` → `X-Forwarded-For`; odd names unchanged. */
export function canonicalHeaderKey(key: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(key)) return key;
  let upper = true;
  let out = '';
  for (const ch of key) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}

/** path.Clean, keeping a trailing slash as Go's ServeMux cleanPath does. */
export function cleanPath(p: string): string {
  if (p === '') return '/';
  const rooted = p.startsWith('/') ? p : '/' + p;
  const parts: string[] = [];
  for (const seg of rooted.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  let np = '/' + parts.join('/');
  if (rooted.endsWith('/') && np !== '/') np += '/';
  return np;
}

/** encoding/json escapes <, >, & and U+2028/9 inside strings (HTML-safe output). */
function goJson(s: string): string {
  return s.replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Node hands header bytes over as latin1; Go keeps the bytes, and JSON shows them as UTF-8. */
function utf8(latin1: string): string {
  return /^[\x00-\x7f]*$/.test(latin1) ? latin1 : Buffer.from(latin1, 'latin1').toString('utf8');
}

function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
}

function tlsAssertions(socket: TLSSocket): Record<string, unknown> | undefined {
  if (!socket.encrypted) return undefined;
  const state: Record<string, unknown> = { version: socket.getProtocol() ?? '' };
  const peer = socket.getPeerCertificate?.(true);
  if (peer?.raw) state.peerCertificates = [`-----BEGIN CERTIFICATE-----\n${peer.raw.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`];
  state.serverName = (socket as TLSSocket & { servername?: string | false }).servername || '';
  if (socket.alpnProtocol) state.negotiatedProtocol = socket.alpnProtocol;
  state.cipherSuite = socket.getCipher()?.standardName ?? '';
  return state;
}

/** Listens for `server` on address:port, through the gate when there is one; resolves with the listening server. */
function listen(server: net.Server, port: number, address: string, gate?: EchoserverOptions['gate']): Promise<net.Server> {
  const listener = gate ? gate(server, port) : server;
  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    // The kernel's maximum backlog, as the Go image's listener has (listen-backlog.ts).
    listener.listen({ port, host: address, backlog: listenBacklog() }, () => {
      listener.off('error', reject);
      resolve(listener);
    });
  });
}
