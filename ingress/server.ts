/**
 * `knet ingress`: the I/O shell around the routing core. Informers feed a route table
 * (table-sync.ts); each HTTP/HTTPS listener asks `route()` what to do with a request and
 * either answers locally, redirects, or hands it to the proxy pass (proxy-pass.ts,
 * upgrade-pass.ts). After each table rebuild the reporter writes Ingress status and events.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Ingress } from 'kubernetes-types/networking/v1.js';
import type { Registry } from 'prom-client';
import type { EventRecorder } from '../dataplane/base/admission/events.js';
import type { ClusterConfig } from '../dataplane/base/cluster-config.js';
import type { InformerFactory } from '../dataplane/base/informer/informer-types.js';
import { silentLogger, type Logger } from '../dataplane/base/log.js';
import { plainIp } from '../dataplane/base/net/ip.js';
import { tcpFastPathUnavailable } from '../dataplane/base/net/tcp-fast-path.js';
import { formatAccessLog, type UpstreamTry } from './access-log.js';
import { hash32, BalancerState } from './balancer.js';
import { requestIdFrom, type ForwardContext } from './forwarded-headers.js';
import { available as http1Available, serveHttp1 } from './http1-server.js';
import type { RequestLike } from './http1-request.js';
import type { ResponseLike } from './http1-response.js';
import { IngressReporter, type StatusWriter } from './ingress-reporter.js';
import { writeLocal } from './local-response.js';
import { normalizeHost } from './match-host.js';
import { ingressPolicy } from './network-policy.js';
import { nodeHttpServer } from './node-http-server.js';
import { IngressMetrics } from './metrics.js';
import { proxyPass, type PassEnv, type PassResult } from './proxy-pass.js';
import { route, type RouteDecision, type RouteInfo } from './route.js';
import type { RouteTable } from './route-table.js';
import { fakeCertificate, type PemPair } from './self-signed-certificate.js';
import { TableSync } from './table-sync.js';
import { TlsContexts } from './tls-contexts.js';
import { upgradePass, writeError } from './upgrade-pass.js';
import { UpstreamPools } from './upstream-pools.js';
import { listenBacklog } from '../dataplane/base/net/listen-backlog.js';

export { nginxIngressClass } from './ingress-class.js';
export { ingressStatuses } from './status.js';

export interface ListenerSpec {
  address: string;
  port: number;
  tls: boolean;
}

export interface IngressOptions {
  informers: InformerFactory;
  config: ClusterConfig;
  log?: Logger;
  /** The controller's address (the LoadBalancer IP); also published in Ingress status. */
  httpAddress: string;
  httpPort?: number;
  httpsPort?: number;
  /** NodePort listeners. */
  extraListeners?: ListenerSpec[];
  /** Local address for connections to pods (the controller's pod IP). */
  sourceAddress?: string;
  /** When given, `status.loadBalancer` of our Ingresses is written through it. */
  store?: StatusWriter;
  /** When given, refused Ingresses and ignored annotations become Warning events. */
  events?: EventRecorder;
  /** Access-log sink; default: the logger's `access` child at info level. */
  accessLog?: (line: string) => void;
  /** Default certificate; default: a generated ingress-nginx-style fake certificate. */
  defaultCertificate?: PemPair;
  /**
   * The client-side HTTP server: 'lean' (default; http1-server.ts, Node's parser without
   * node:http's streams) or 'node' (node:http). 'lean' falls back to 'node' on a Node whose
   * parser binding it does not recognise.
   */
  httpServer?: 'lean' | 'node';
  /** Uniform in [0, 1) for canary weights and affinity keys; default Math.random (tests seed it). */
  random?: () => number;
}

export interface BoundListener extends ListenerSpec {
  error?: string;
}

export interface IngressHandle {
  close(): Promise<void>;
  metrics: Registry;
  /** Bound ports of the main listeners (`http`, `https`), for summaries. */
  ports: Record<string, number>;
  /** Every listener, with the bind error for those that failed (e.g. EACCES on 80). */
  listeners: BoundListener[];
  /** The current route table (read-only view, for `describe` and tests). */
  table(): RouteTable;
  /** Resolves when queued status writes are done. */
  flush(): Promise<void>;
  /** The client-side server in use: 'node' where 'lean' was asked for but this Node's parser does not fit. */
  httpServer: 'lean' | 'node';
}

const HSTS = ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'];
const KEEPALIVE_TIMEOUT_MS = 75_000; // nginx keepalive_timeout
const KEEPALIVE_REQUESTS = 1000; // nginx keepalive_requests
const NO_ROUTE: RouteInfo = { server: '_', upstreamName: '-', alternativeUpstreamName: '', canary: false };

/** What the access log and the metrics need about one finished request. */
interface RequestRecord {
  req: RequestLike;
  clientIp: string;
  startMs: number;
  started: number;
  requestId: string;
  info: RouteInfo | undefined;
  status: number;
  tries: UpstreamTry[];
  bytesSent: number;
  pass?: PassResult | undefined;
}

export async function startIngress(opts: IngressOptions): Promise<IngressHandle> {
  const log = opts.log ?? silentLogger;
  const accessLogger = log.child('access');
  const accessLog = opts.accessLog ?? ((line: string) => accessLogger.info(line));
  const metrics = new IngressMetrics();
  const balancer = new BalancerState(opts.random);
  const sourceAddress = opts.sourceAddress && (await canBind(opts.sourceAddress)) ? opts.sourceAddress : undefined;
  if (opts.sourceAddress && !sourceAddress) log.warn(`cannot bind ${opts.sourceAddress}; connections to pods use the kernel's choice of source address`);
  const defaultCertificate = opts.defaultCertificate ?? (await fakeCertificate());
  const policy = ingressPolicy(opts.informers, opts.config, opts.sourceAddress, log, metrics.registry);
  const pools = new UpstreamPools({ ...(sourceAddress ? { localAddress: sourceAddress } : {}), netpol: { enforcer: policy.enforcer, source: policy.source } });

  const reporter = new IngressReporter(opts.informers.informer<Ingress & { kind?: string }>('Ingress') as never, opts.httpAddress, log, opts.events, opts.store);
  const sync = new TableSync(opts.informers, log, (table) => {
    tls.prune(table);
    pools.prune(table);
    metrics.syncs.inc();
    metrics.reloadSuccessful.set(1);
    metrics.reloadTimestamp.set(Date.now() / 1000);
    metrics.sslExpire.reset();
    for (const [host, e] of table.certificates) {
      if (e.kind !== 'secret') continue;
      const [namespace, secret_name] = e.certificate.secret.split('/') as [string, string];
      metrics.sslExpire.set({ host, namespace, secret_name }, Date.parse(e.certificate.x509.validTo) / 1000);
    }
    reporter.report(table);
  }, (ing) => reporter.statusChanged(ing));
  metrics.configHashOf = () => hash32(JSON.stringify(sync.current().servers.map((s) => [s.hostname, s.locations.map((l) => [l.path, l.upstream?.name, l.upstream?.endpoints.length])])));
  const tls = new TlsContexts(defaultCertificate, () => sync.current());
  await sync.start();

  const randomId = requestIdSource();
  const tunnels = new Set<Duplex>();
  const sockets = new Set<net.Socket>();

  /** One access-log line and the metrics for a finished request (or WebSocket tunnel). */
  const recordRequest = (r: RequestRecord) => {
    try {
      const { req } = r;
      const info = r.info ?? NO_ROUTE;
      const seconds = (performance.now() - r.started) / 1000;
      const requestLength = requestBytes(req);
      const method = req.method ?? '-';
      accessLog(
        formatAccessLog({
          remoteAddr: r.clientIp,
          time: r.startMs,
          method,
          uri: req.url ?? '/',
          httpVersion: req.httpVersion,
          status: r.status,
          bodyBytesSent: r.bytesSent,
          referer: header(req, 'referer'),
          userAgent: header(req, 'user-agent'),
          requestLength,
          requestTime: seconds,
          upstreamName: info.upstreamName,
          alternativeUpstreamName: info.alternativeUpstreamName,
          tries: r.tries,
          requestId: r.requestId,
        }),
      );
      metrics.observe({
        info,
        host: normalizeHost(req.headers.host),
        method,
        status: r.status,
        requestSeconds: seconds,
        requestBytes: requestLength,
        responseBytes: r.bytesSent,
        upstreamSeconds: r.pass?.upstreamSeconds,
        headerSeconds: r.pass?.headerSeconds,
      });
    } catch (err) {
      log.warn('access log or metrics failed', { error: err as Error });
    }
  };

  const handleRequest = (spec: ListenerSpec) => {
    const scheme = spec.tls ? 'https' : 'http';
    const extra = spec.tls ? ['Server', 'knet', ...HSTS] : ['Server', 'knet'];
    return (req: RequestLike, res: ResponseLike) => {
      const startMs = Date.now();
      const started = performance.now();
      res.on('error', () => res.destroy());
      req.on('error', () => req.destroy());
      let decision: RouteDecision | undefined;
      let requestId = '';
      const clientIp = plainIp(req.socket.remoteAddress);
      const record = (status: number, tries: UpstreamTry[], bytesSent: number, pass?: PassResult) =>
        recordRequest({ req, clientIp, startMs, started, requestId, info: decision?.info, status, tries, bytesSent, pass });
      try {
        requestId = requestIdFrom(req.headers['x-request-id'], randomId);
        decision = route(sync.current(), { host: req.headers.host, path: req.url ?? '/', method: req.method, headers: req.headers, clientIp, scheme }, balancer);
        if (decision.action === 'proxy') {
          const fwd = forwardContext(req, clientIp, scheme, requestId, decision.hostHeader, decision.xForwardedPrefix);
          const env: PassEnv = {
            pools,
            responseHeaders: extra,
            respond: (r, status) => writeLocal(r, status, decision!.responseHeaders, extra, req.method),
          };
          proxyPass(req, res, decision, fwd, env, (result) => {
            const last = result.tries[result.tries.length - 1];
            record(result.status || res.statusCode, result.tries, last?.responseLength ?? 0, result);
          });
          return;
        }
        const headers = decision.action === 'redirect' ? [...decision.responseHeaders, ['Location', decision.location] as [string, string]] : decision.responseHeaders;
        const sent = writeLocal(res, decision.status, headers, extra, req.method);
        record(decision.status, [], sent);
      } catch (err) {
        // A bug in routing must cost one request, never the process.
        log.error('request handling failed', { error: err as Error, url: req.url });
        record(500, [], writeLocal(res, 500, [], extra, req.method));
      }
    };
  };

  const handleUpgrade = (spec: ListenerSpec) => (req: RequestLike, socket: Duplex, head: Buffer) => {
    const startMs = Date.now();
    const started = performance.now();
    socket.on('error', () => socket.destroy());
    const extra = spec.tls ? ['Server', 'knet', ...HSTS] : ['Server', 'knet'];
    try {
      const clientIp = plainIp(req.socket.remoteAddress);
      const scheme = spec.tls ? 'https' : 'http';
      const d = route(sync.current(), { host: req.headers.host, path: req.url ?? '/', method: req.method, headers: req.headers, clientIp, scheme }, balancer);
      const requestId = requestIdFrom(req.headers['x-request-id'], randomId);
      if (d.action !== 'proxy') {
        writeError(socket, d.status, d.action === 'redirect' ? [...extra, 'Location', d.location] : extra);
        recordRequest({ req, clientIp, startMs, started, requestId, info: d.info, status: d.status, tries: [], bytesSent: 0 });
        return;
      }
      const fwd = forwardContext(req, clientIp, scheme, requestId, d.hostHeader, d.xForwardedPrefix);
      const env = { responseHeaders: extra, tunnels, ...(sourceAddress ? { sourceAddress } : {}), denied: policy.denied };
      // Logged when the tunnel (or the refused upgrade) is over, as nginx logs a WebSocket.
      upgradePass(req, socket, head, d, fwd, env, (result) => recordRequest({ req, clientIp, startMs, started, requestId, info: d.info, status: result.status || 499, tries: result.tries, bytesSent: 0 }));
    } catch (err) {
      log.error('upgrade handling failed', { error: err as Error, url: req.url });
      writeError(socket, 500, extra);
    }
  };

  const servers: net.Server[] = [];
  const listeners: BoundListener[] = [];
  const ports: Record<string, number> = {};
  const specs: Array<ListenerSpec & { role?: string }> = [
    { address: opts.httpAddress, port: opts.httpPort ?? 80, tls: false, role: 'http' },
    { address: opts.httpAddress, port: opts.httpsPort ?? 443, tls: true, role: 'https' },
    ...(opts.extraListeners ?? []),
  ];
  const lean = opts.httpServer !== 'node' && http1Available();
  const leanServers: Array<{ close(): void }> = [];
  const clientError = (err: NodeJS.ErrnoException, socket: Duplex) => {
    // Garbage on the wire: answer 400 (408 on a header timeout) and drop the connection.
    if (err.code === 'ECONNRESET' || !socket.writable) socket.destroy();
    else writeError(socket, err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400, ['Server', 'knet']);
  };
  for (const spec of specs) {
    const tlsOptions = { SNICallback: tls.sniCallback, cert: defaultCertificate.cert, key: defaultCertificate.key, minVersion: 'TLSv1.2' as const, ALPNProtocols: ['http/1.1'] };
    let server: net.Server;
    if (lean) {
      server = spec.tls ? createTlsServer(tlsOptions) : net.createServer();
      const upgrade = handleUpgrade(spec);
      leanServers.push(
        serveHttp1(server, {
          onRequest: handleRequest(spec),
          onUpgrade: (req, socket, head) => (req.method === 'CONNECT' ? writeError(socket, 400) : upgrade(req, socket, head)),
          onClientError: clientError,
          keepAliveTimeoutMs: KEEPALIVE_TIMEOUT_MS,
          maxRequestsPerSocket: KEEPALIVE_REQUESTS,
        }),
      );
    } else {
      server = nodeHttpServer({
        ...(spec.tls ? { tls: tlsOptions } : {}),
        onRequest: handleRequest(spec),
        onUpgrade: handleUpgrade(spec),
        onClientError: clientError,
        keepAliveTimeoutMs: KEEPALIVE_TIMEOUT_MS,
        maxRequestsPerSocket: KEEPALIVE_REQUESTS,
      });
    }
    server.on('tlsClientError', () => {});
    server.on('connection', (s: net.Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    });
    server.on('secureConnection', (s: net.Socket) => s.on('error', () => s.destroy()));
    try {
      await listen(server, spec.port, spec.address);
      const bound = { address: spec.address, port: (server.address() as net.AddressInfo).port, tls: spec.tls };
      listeners.push(bound);
      servers.push(server);
      if (spec.role) ports[spec.role] = bound.port;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const hint = e.code === 'EACCES' ? ` (ports below 1024 need privilege: run with sudo, or sysctl net.ipv4.ip_unprivileged_port_start=0, or setcap cap_net_bind_service=+ep $(which node))` : '';
      listeners.push({ ...spec, error: `${e.code ?? 'error'}: ${e.message}${hint}` });
      log.warn(`cannot listen on ${spec.address}:${spec.port}${hint}`, { error: e });
    }
  }
  if (servers.length === 0) {
    sync.close();
    throw new Error(`ingress: no listener could be bound: ${listeners.map((l) => `${l.address}:${l.port} ${l.error}`).join('; ')}`);
  }
  const tcpFallback = tcpFastPathUnavailable();
  log.info('ingress controller serving', {
    listeners: listeners.filter((l) => !l.error).map((l) => `${l.tls ? 'https' : 'http'}://${l.address}:${l.port}`),
    httpServer: lean ? 'lean' : 'node:http',
    tcpFastPath: tcpFallback ? `public API (${tcpFallback})` : 'native handles',
  });
  if (!lean && opts.httpServer !== 'node') log.warn(`Node ${process.version}'s HTTP parser is not the shape http1-server.ts expects: serving with node:http, slower`);
  if (tcpFallback) log.warn(`TCP fast path unavailable on Node ${process.version} (${tcpFallback}): writing through net's public API, slower`);

  let closed = false;
  return {
    metrics: metrics.registry,
    ports,
    listeners,
    table: () => sync.current(),
    flush: () => reporter.flush(),
    httpServer: lean ? 'lean' : 'node',
    async close() {
      if (closed) return;
      closed = true;
      sync.close();
      for (const l of leanServers) l.close();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))).concat(destroyAll(sockets, tunnels)));
      await pools.destroy();
      await reporter.flush();
    },
  };
}

function forwardContext(req: RequestLike, clientIp: string, scheme: 'http' | 'https', requestId: string, hostHeader?: string, prefix?: string): ForwardContext {
  const clientHost = req.headers.host ?? '';
  const ctx: ForwardContext = { clientIp, scheme, port: scheme === 'https' ? 443 : 80, requestId, host: hostHeader ?? (clientHost || normalizeHost(clientHost)), clientHost };
  if (prefix) ctx.xForwardedPrefix = prefix;
  return ctx;
}

async function destroyAll(sockets: Set<net.Socket>, tunnels: Set<Duplex>): Promise<void> {
  for (const s of sockets) s.destroy();
  for (const t of tunnels) t.destroy();
}

function listen(server: net.Server, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    // The kernel's maximum backlog, as ingress-nginx listens: bursts beyond Node's 511 would get
    // SYN cookies, and half-closed clients resets (base/net/listen-backlog.ts).
    server.listen({ port, host: address, backlog: listenBacklog() }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Can we use this address as a local address (is it configured on this machine)? */
function canBind(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(0, address, () => s.close(() => resolve(true)));
  });
}

function header(req: RequestLike, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** `$request_length`: request line, headers and body (by Content-Length). */
function requestBytes(req: RequestLike): number {
  let n = (req.method?.length ?? 0) + (req.url?.length ?? 0) + 12;
  for (const h of req.rawHeaders) n += h.length + 2;
  return n + 2 + (Number(req.headers['content-length']) || 0);
}

/** 32 hex characters per id, drawn from a pooled random buffer (one syscall per 256 ids). */
function requestIdSource(): () => string {
  let pool = Buffer.alloc(0);
  let offset = 0;
  return () => {
    if (offset + 16 > pool.length) {
      pool = randomBytes(16 * 256);
      offset = 0;
    }
    const id = pool.toString('hex', offset, offset + 16);
    offset += 16;
    return id;
  };
}
