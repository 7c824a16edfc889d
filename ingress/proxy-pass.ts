/**
 * Forwarding one HTTP request to a pod and its response back — a thin pass pipeline on
 * node:http (chosen over http-proxy 1.18 and http-proxy-3; see ingress/README.md for the
 * leak tests and numbers). What it guarantees:
 *  - keep-alive connections to pods, bound to the controller's pod address;
 *  - a connect failure or connect timeout moves to the next endpoint (nginx
 *    `proxy_next_upstream error timeout`, up to proxy-next-upstream-tries); an error after
 *    the request was sent is retried only for idempotent methods; a request body is
 *    streamed only once connected, so a connect failure never loses it;
 *  - 502 for connection errors, 504 for timeouts, after the tries;
 *  - a client that goes away destroys the upstream request, so no socket is left behind;
 *  - every error is handled here: nothing reaches the process as an uncaught exception.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { UpstreamTry } from './access-log.js';
import type { Endpoint } from './endpoints.js';
import { downstreamHeaders, upstreamHeaders, type ForwardContext } from './forwarded-headers.js';
import type { ProxyDecision } from './route.js';
import type { Upstream } from './route-table.js';

export interface Agents {
  http: http.Agent;
  https: https.Agent;
}

export function createAgents(): Agents {
  // nginx upstream keepalive: idle connections kept 60 s; LIFO reuse keeps the hot ones warm.
  const opts = { keepAlive: true, maxFreeSockets: 320, timeout: 60_000, scheduling: 'lifo' as const };
  return { http: new http.Agent(opts), https: new https.Agent({ ...opts, rejectUnauthorized: false }) };
}

export interface PassEnv {
  agents: Agents;
  sourceAddress?: string;
  /** Writes a local (nginx-generated) response: error pages. */
  respond(res: ServerResponse, status: number): void;
  /** Headers added to every response to the client (Server, HSTS). */
  responseHeaders: string[];
}

export interface PassResult {
  status: number;
  tries: UpstreamTry[];
  connectSeconds?: number;
  headerSeconds?: number;
  upstreamSeconds?: number;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ECONNRESET_CONNECT', 'ETIMEDOUT_CONNECT']);

class PassError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export function proxyPass(req: IncomingMessage, res: ServerResponse, d: ProxyDecision, fwd: ForwardContext, env: PassEnv, done: (r: PassResult) => void): void {
  const errorFetch = d.errorCode !== undefined;
  // An error page is fetched without the client's body (nginx's error_page redirect).
  const method = errorFetch ? (req.method === 'HEAD' ? 'HEAD' : 'GET') : req.method ?? 'GET';
  const hasBody = !errorFetch && ((req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined);
  const maxTries = Math.max(1, Math.min(d.tries, d.endpoints.length));
  const tries: UpstreamTry[] = [];
  const result: PassResult = { status: 0, tries };
  let current: http.ClientRequest | undefined;
  let bodyStarted = false;
  let finished = false;
  const headers = errorFetch ? withoutBodyHeaders(upstreamHeaders(req.rawHeaders, { ...fwd, extra: errorHeaders(req, d, fwd) })) : upstreamHeaders(req.rawHeaders, fwd);

  const finish = () => {
    if (finished) return;
    finished = true;
    if (!result.status) result.status = res.statusCode;
    done(result);
  };
  // The client went away (or the response completed): nothing upstream may outlive it.
  res.once('close', () => {
    if (!res.writableFinished) current?.destroy();
    finish();
  });
  req.once('error', () => current?.destroy());

  const attempt = (index: number, freeRetry: boolean) => {
    const ep = d.endpoints[index]!;
    const started = performance.now();
    const t: UpstreamTry = { addr: ep.id, responseTime: 0 };
    tries.push(t);
    let connectTimer: NodeJS.Timeout | undefined;
    let connected = false;
    let responded = false;
    const up = request(d, ep, method, headers, env);
    current = up;

    const startBody = () => {
      connected = true;
      result.connectSeconds = (performance.now() - started) / 1000;
      if (!hasBody) {
        up.end();
        return;
      }
      if (bodyStarted) return;
      bodyStarted = true;
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (d.bodyLimit > 0 && bytes > d.bodyLimit && !res.headersSent) {
          // client_max_body_size for chunked bodies: 413, the upstream request is dropped.
          up.destroy();
          current = undefined;
          result.status = 413;
          env.respond(res, 413);
        }
      });
      req.pipe(up);
    };

    up.on('socket', (socket) => {
      if (socket.connecting) {
        connectTimer = setTimeout(() => up.destroy(new PassError('upstream connect timed out', 'ETIMEDOUT_CONNECT')), d.connectTimeoutMs);
        socket.once('connect', () => {
          clearTimeout(connectTimer);
          startBody();
        });
      } else {
        startBody();
      }
    });
    up.setTimeout(d.readTimeoutMs, () => up.destroy(new PassError('upstream timed out', 'ETIMEDOUT')));

    up.on('response', (upRes) => {
      responded = true;
      clearTimeout(connectTimer);
      result.headerSeconds = (performance.now() - started) / 1000;
      const status = upRes.statusCode ?? 502;
      t.status = status;
      let length = 0;
      upRes.on('data', (c: Buffer) => (length += c.length));
      upRes.on('end', () => {
        t.responseLength = length;
        t.responseTime = (performance.now() - started) / 1000;
        result.upstreamSeconds = tries.reduce((s, x) => s + x.responseTime, 0);
      });
      upRes.on('error', () => res.destroy());
      upRes.on('close', () => {
        if (!upRes.complete) res.destroy(); // the pod died mid-body: the client sees a truncated reply
      });
      if (res.headersSent || res.destroyed) {
        upRes.resume();
        return;
      }
      if (d.interceptErrors && d.interceptErrors.codes.includes(status) && d.errorCode === undefined) {
        upRes.resume();
        interceptError(req, res, d, fwd, env, status, tries, finish);
        return;
      }
      result.status = status;
      const out = downstreamHeaders(upRes.rawHeaders);
      for (const [k, v] of d.responseHeaders) out.push(k, v);
      out.push(...env.responseHeaders);
      try {
        res.writeHead(status, out);
      } catch {
        // A header value the pod sent that Node refuses to relay: answer 502 instead.
        upRes.resume();
        result.status = 502;
        env.respond(res, 502);
        return;
      }
      upRes.pipe(res);
    });

    up.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (t.responseTime === 0) t.responseTime = (performance.now() - started) / 1000;
      if (finished || res.destroyed) return;
      if (responded) {
        res.destroy(); // the pod died mid-response: the client must see a truncated reply
        return;
      }
      const code = !connected && err.code === 'ECONNRESET' ? 'ECONNRESET_CONNECT' : err.code ?? '';
      const stale = up.reusedSocket && err.code === 'ECONNRESET' && !bodyStarted && IDEMPOTENT.has(method);
      const retryable = CONNECT_ERRORS.has(code) || (!connected && !bodyStarted) || (IDEMPOTENT.has(method) && !bodyStarted);
      if (stale && !freeRetry) {
        tries.pop(); // a keep-alive socket the pod had just closed: not a real try
        attempt(index, true);
        return;
      }
      if (retryable && index + 1 < maxTries) {
        attempt(index + 1, false);
        return;
      }
      current = undefined;
      const status = code.startsWith('ETIMEDOUT') ? 504 : 502;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (d.interceptErrors?.codes.includes(status) && d.errorCode === undefined) {
        interceptError(req, res, d, fwd, env, status, tries, finish);
        return;
      }
      result.status = status;
      env.respond(res, status);
    });
  };

  attempt(0, false);
}

function request(d: ProxyDecision, ep: Endpoint, method: string, headers: string[], env: PassEnv): http.ClientRequest {
  const options: http.RequestOptions & https.RequestOptions = {
    host: ep.address,
    port: ep.port,
    method,
    path: d.uri,
    headers: headers as unknown as http.OutgoingHttpHeaders, // raw [name, value, …] pairs, kept in order
    setHost: false,
    agent: d.backendProtocol === 'https' ? env.agents.https : env.agents.http,
  };
  if (env.sourceAddress) options.localAddress = env.sourceAddress;
  return d.backendProtocol === 'https' ? https.request(options) : http.request(options);
}

function withoutBodyHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (lower !== 'content-length' && lower !== 'content-type') out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** custom-http-errors: the X-Code family, for the error backend. */
function errorHeaders(req: IncomingMessage, d: ProxyDecision, fwd: ForwardContext): Array<[string, string]> {
  const accept = req.headers.accept;
  return [
    ['X-Code', String(d.errorCode)],
    ['X-Format', Array.isArray(accept) ? accept.join(', ') : accept ?? ''],
    ['X-Original-URI', req.url ?? '/'],
    ...(d.errorHeaders ?? []),
    ...(fwd.extra ?? []),
  ];
}

/**
 * A pod answered a status listed in custom-http-errors (or the tries failed with one): the
 * body is dropped and the error backend renders the page — the default-backend Service, or
 * the built-in default backend, which answers 404.
 */
function interceptError(req: IncomingMessage, res: ServerResponse, d: ProxyDecision, fwd: ForwardContext, env: PassEnv, status: number, tries: UpstreamTry[], finish: () => void): void {
  const backend: Upstream | undefined = d.interceptErrors?.backend;
  if (!backend || backend.endpoints.length === 0) {
    env.respond(res, 404);
    return;
  }
  const errorDecision: ProxyDecision = { ...d, upstream: backend, endpoints: backend.endpoints, uri: '/', errorCode: status, errorHeaders: d.interceptErrors!.headers };
  delete errorDecision.interceptErrors;
  proxyPass(req, res, errorDecision, fwd, env, (r) => {
    tries.push(...r.tries);
    finish();
  });
}
