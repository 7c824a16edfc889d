/**
 * Forwarding one HTTP request to a pod and its response back: a thin pass pipeline with
 * node:http on the client side and undici's dispatcher on the pod side (chosen over
 * http-proxy 1.18, http-proxy-3 and a node:http client by the leak tests and CPU cost per
 * request; see ingress/README.md). What it guarantees:
 *  - keep-alive connections per pod (upstream-pools.ts), bound to the controller's pod IP;
 *  - a connect failure or connect timeout moves to the next endpoint (nginx
 *    `proxy_next_upstream error timeout`, up to proxy-next-upstream-tries); an error after
 *    the request was sent is retried only for idempotent methods whose body was not read;
 *  - 502 for connection errors, 504 for timeouts, after the tries; 413 when a streamed body
 *    passes proxy-body-size;
 *  - a client that goes away aborts the upstream request, which frees its socket;
 *  - every error is handled here: nothing reaches the process as an uncaught exception.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { UpstreamTry } from './access-log.js';
import { downstreamHeaders, upstreamHeaders, type ForwardContext } from './forwarded-headers.js';
import type { ProxyDecision } from './route.js';
import type { UpstreamPools } from './upstream-pools.js';

export interface PassEnv {
  pools: UpstreamPools;
  /** Writes a local (nginx-generated) response: error pages. */
  respond(res: ServerResponse, status: number): void;
  /** Headers added to every response to the client (Server, HSTS). */
  responseHeaders: string[];
}

export interface PassResult {
  status: number;
  tries: UpstreamTry[];
  headerSeconds?: number;
  upstreamSeconds?: number;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Errors raised before the request reached the pod: safe to retry for any method. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);
const TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

class BodyTooLarge extends Error {
  readonly code = 'KNET_BODY_TOO_LARGE';
}

export function proxyPass(req: IncomingMessage, res: ServerResponse, d: ProxyDecision, fwd: ForwardContext, env: PassEnv, done: (r: PassResult) => void): void {
  const errorFetch = d.errorCode !== undefined;
  // An error page is fetched without the client's body (nginx's error_page redirect).
  const method = errorFetch ? (req.method === 'HEAD' ? 'HEAD' : 'GET') : req.method ?? 'GET';
  const hasBody = !errorFetch && ((req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined);
  const maxTries = Math.max(1, Math.min(d.tries, d.endpoints.length));
  const tries: UpstreamTry[] = [];
  const result: PassResult = { status: 0, tries };
  const headers = errorFetch ? withoutBodyHeaders(upstreamHeaders(req.rawHeaders, { ...fwd, extra: errorHeaders(req, d, fwd) })) : upstreamHeaders(req.rawHeaders, fwd);
  let abortCurrent: ((err?: Error) => void) | undefined;
  let bodyStarted = false;
  let finished = false;

  const finish = () => {
    if (finished) return;
    finished = true;
    if (!result.status) result.status = res.statusCode;
    done(result);
  };
  // The client went away (or the response completed): nothing upstream may outlive it.
  res.once('close', () => {
    if (!res.writableFinished) abortCurrent?.();
    finish();
  });

  /** The request body, counted against proxy-body-size as it streams (chunked bodies too). */
  async function* body(): AsyncGenerator<Buffer> {
    bodyStarted = true;
    let bytes = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (d.bodyLimit > 0 && bytes > d.bodyLimit) throw new BodyTooLarge('request body larger than proxy-body-size');
      yield chunk;
    }
  }

  const attempt = (index: number) => {
    const ep = d.endpoints[index]!;
    const started = performance.now();
    const t: UpstreamTry = { addr: ep.id, responseTime: 0 };
    tries.push(t);
    let responded = false;
    let discard = false;
    let length = 0;
    let resume: (() => void) | undefined;
    const onDrain = () => resume?.();

    const handler: Dispatcher.DispatchHandler = {
      onConnect(abort) {
        abortCurrent = abort;
      },
      onHeaders(statusCode, rawHeaders, resumeFn) {
        if (statusCode < 200) return true; // interim responses are not relayed
        responded = true;
        resume = resumeFn;
        result.headerSeconds = (performance.now() - started) / 1000;
        t.status = statusCode;
        if (res.headersSent || res.destroyed) {
          discard = true;
          return true;
        }
        if (d.interceptErrors && !errorFetch && d.interceptErrors.codes.includes(statusCode)) {
          discard = true;
          return true;
        }
        result.status = statusCode;
        const raw: string[] = new Array(rawHeaders.length);
        for (let i = 0; i < rawHeaders.length; i++) raw[i] = (rawHeaders[i] as Buffer).toString('latin1');
        const out = downstreamHeaders(raw);
        for (const [k, v] of d.responseHeaders) out.push(k, v);
        out.push(...env.responseHeaders);
        try {
          res.writeHead(statusCode, out);
        } catch {
          // A header the pod sent that Node refuses to relay: answer 502 instead.
          discard = true;
          result.status = 502;
          env.respond(res, 502);
          return true;
        }
        res.on('drain', onDrain);
        return true;
      },
      onData(chunk) {
        length += chunk.length;
        if (discard) return true;
        return res.write(chunk);
      },
      onComplete() {
        res.off('drain', onDrain);
        t.responseLength = length;
        t.responseTime = (performance.now() - started) / 1000;
        result.upstreamSeconds = tries.reduce((s, x) => s + x.responseTime, 0);
        abortCurrent = undefined;
        if (discard && d.interceptErrors && !errorFetch && t.status !== undefined && d.interceptErrors.codes.includes(t.status) && !res.headersSent) {
          interceptError(req, res, d, fwd, env, t.status, tries, finish);
          return;
        }
        if (!discard) res.end();
      },
      onError(err: Error & { code?: string }) {
        res.off('drain', onDrain);
        abortCurrent = undefined;
        if (t.responseTime === 0) t.responseTime = (performance.now() - started) / 1000;
        if (finished || res.destroyed) return;
        if (responded) {
          res.destroy(); // the pod died mid-response: the client must see a truncated reply
          return;
        }
        if (err instanceof BodyTooLarge || err.code === 'KNET_BODY_TOO_LARGE') {
          result.status = 413;
          env.respond(res, 413);
          return;
        }
        const code = err.code ?? '';
        const retryable = !bodyStarted && (CONNECT_ERRORS.has(code) || IDEMPOTENT.has(method));
        if (retryable && index + 1 < maxTries) {
          attempt(index + 1);
          return;
        }
        const status = TIMEOUTS.has(code) ? 504 : 502;
        if (d.interceptErrors?.codes.includes(status) && !errorFetch) {
          interceptError(req, res, d, fwd, env, status, tries, finish);
          return;
        }
        result.status = status;
        env.respond(res, status);
      },
    };

    try {
      env.pools.get(ep, d.backendProtocol, d.connectTimeoutMs).dispatch(
        {
          path: d.uri,
          method: method as Dispatcher.HttpMethod,
          headers,
          // undici accepts async iterables as bodies at runtime; its types only list streams.
          body: hasBody && !bodyStarted ? (body() as unknown as Readable) : null,
          headersTimeout: d.readTimeoutMs,
          bodyTimeout: d.readTimeoutMs,
        },
        handler,
      );
    } catch (err) {
      // undici refuses some requests outright (e.g. a header it cannot send): 502.
      handler.onError!(Object.assign(err as Error, { code: 'KNET_INVALID_REQUEST' }));
    }
  };

  attempt(0);
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
  const backend = d.interceptErrors?.backend;
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
