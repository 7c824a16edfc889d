/**
 * Forwarding one HTTP request to a pod and its response back. The client side is
 * http1-server.ts (or node:http); the pod side is our own keep-alive socket
 * (upstream-pools.ts): the request head goes out as one string, the response is read by
 * `upstream-response.ts` and relayed through the client's response (chosen over http-proxy
 * 1.18, http-proxy-3 and undici by the leak tests and CPU cost per request; see
 * ingress/README.md). What it guarantees:
 *  - keep-alive connections per pod, bound to the controller's pod IP;
 *  - a connect failure or connect timeout moves to the next endpoint (nginx
 *    `proxy_next_upstream error timeout`, up to proxy-next-upstream-tries); an error after
 *    the request was sent is retried only for idempotent methods whose body was not read;
 *    a reused keep-alive connection the pod had closed meanwhile is replaced, not counted;
 *  - 502 for connection errors and malformed responses, 504 for timeouts, after the tries;
 *    413 when a streamed body passes proxy-body-size;
 *  - a client that goes away destroys the upstream socket (it never returns to the pool);
 *  - every error is handled here: nothing reaches the process as an uncaught exception.
 */
import type { UpstreamTry } from './access-log.js';
import type { RequestLike } from './http1-request.js';
import type { ResponseLike } from './http1-response.js';
import { downstreamHeaders, upstreamHeaders, type ForwardContext } from './forwarded-headers.js';
import type { ProxyDecision } from './route.js';
import type { UpstreamConnection, UpstreamPools } from './upstream-pools.js';
import { ResponseReader, type ResponseHead } from './upstream-response.js';

export interface PassEnv {
  pools: UpstreamPools;
  /** Writes a local (nginx-generated) response: error pages. */
  respond(res: ResponseLike, status: number): void;
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
const TIMEOUTS = new Set(['ETIMEDOUT', 'KNET_CONNECT_TIMEOUT']);
/** Bytes that must never reach the pod's request head from a computed value. */
const UNSAFE = /[\0\r\n]/;

type UpstreamError = NodeJS.ErrnoException & { connectFailed?: boolean };
type BodyPump = (() => void) & { start(): void };
const NO_BODY: BodyPump = Object.assign(() => {}, { start() {} });

export function proxyPass(req: RequestLike, res: ResponseLike, d: ProxyDecision, fwd: ForwardContext, env: PassEnv, done: (r: PassResult) => void): void {
  const errorFetch = d.errorCode !== undefined;
  // An error page is fetched without the client's body (nginx's error_page redirect).
  const method = errorFetch ? (req.method === 'HEAD' ? 'HEAD' : 'GET') : req.method ?? 'GET';
  const contentLength = req.headers['content-length'];
  const chunkedBody = !errorFetch && contentLength === undefined && req.headers['transfer-encoding'] !== undefined;
  const hasBody = !errorFetch && ((contentLength !== undefined && contentLength !== '0') || chunkedBody);
  const maxTries = Math.max(1, Math.min(d.tries, d.endpoints.length));
  const tries: UpstreamTry[] = [];
  const result: PassResult = { status: 0, tries };
  const head = requestHead(method, d, fwd, errorFetch ? withoutBodyHeaders(upstreamHeaders(req.rawHeaders, { ...fwd, extra: errorHeaders(req, d, fwd) })) : upstreamHeaders(req.rawHeaders, fwd), chunkedBody);
  let current: UpstreamConnection | undefined;
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
    if (!res.writableFinished && current) {
      current.destroy();
      current = undefined;
    }
    finish();
  });
  if (head === undefined) {
    // A computed value (rewrite target, upstream-vhost) the pod's request line cannot carry.
    result.status = 502;
    env.respond(res, 502);
    return;
  }

  const attempt = (index: number, t?: UpstreamTry) => {
    const ep = d.endpoints[index]!;
    const started = performance.now();
    const sameTry = t !== undefined;
    const tryRecord: UpstreamTry = t ?? { addr: ep.id, responseTime: 0 };
    if (!sameTry) tries.push(tryRecord);
    const conn = sameTry ? env.pools.connect(ep, d.backendProtocol, d.connectTimeoutMs) : env.pools.acquire(ep, d.backendProtocol, d.connectTimeoutMs);
    current = conn;
    let responded = false;
    let discard = false;
    let ended = false;
    let over = false;
    let bodyDone = !hasBody;
    /** A body chunk of the current read went to the client (it may still be queued there). */
    let wrote = false;
    const onDrain = () => conn.socket.resume();
    const stopBody = hasBody ? body(conn, () => (bodyDone = true), () => fail(Object.assign(new Error('request body larger than proxy-body-size'), { code: 'KNET_BODY_TOO_LARGE' }))) : NO_BODY;

    const reader = new ResponseReader(
      {
        onHead(h: ResponseHead) {
          responded = true;
          result.headerSeconds = (performance.now() - started) / 1000;
          tryRecord.status = h.status;
          if (res.headersSent || res.destroyed || (d.interceptErrors && !errorFetch && d.interceptErrors.codes.includes(h.status))) {
            discard = true;
            return;
          }
          result.status = h.status;
          const out = downstreamHeaders(h.rawHeaders);
          for (const [k, v] of d.responseHeaders) out.push(k, v);
          for (const v of env.responseHeaders) out.push(v);
          try {
            res.writeHead(h.status, out);
          } catch {
            // A header the pod sent that Node refuses to relay: answer 502 instead.
            discard = true;
            result.status = 502;
            env.respond(res, 502);
          }
        },
        onBody(chunk, last) {
          if (discard) return;
          if (chunk.length) wrote = true;
          if (last) {
            ended = true;
            res.end(chunk);
          } else if (chunk.length && !res.write(chunk)) {
            conn.socket.pause();
            res.once('drain', onDrain);
          }
        },
        onEnd() {},
      },
      method === 'HEAD',
    );

    /** The pod's response is complete. */
    const complete = () => {
      if (over) return;
      over = true;
      res.off('drain', onDrain);
      tryRecord.responseLength = reader.bodyBytes;
      tryRecord.responseTime = (performance.now() - started) / 1000;
      result.upstreamSeconds = tries.reduce((s, x) => s + x.responseTime, 0);
      current = undefined;
      if (reader.reusable && bodyDone) conn.release();
      else {
        stopBody();
        conn.destroy();
      }
      if (discard && d.interceptErrors && !errorFetch && tryRecord.status !== undefined && d.interceptErrors.codes.includes(tryRecord.status) && !res.headersSent) {
        interceptError(req, res, d, fwd, env, tryRecord.status, tries, finish);
        return;
      }
      if (!discard && !ended) res.end();
    };

    const fail = (err: UpstreamError) => {
      if (over) return;
      over = true;
      res.off('drain', onDrain);
      stopBody();
      conn.destroy();
      if (current === conn) current = undefined;
      if (tryRecord.responseTime === 0) tryRecord.responseTime = (performance.now() - started) / 1000;
      if (finished || res.destroyed) return;
      if (responded) {
        res.destroy(); // the pod died mid-response: the client must see a truncated reply
        return;
      }
      if (err.code === 'KNET_BODY_TOO_LARGE') {
        result.status = 413;
        env.respond(res, 413);
        return;
      }
      // A kept-alive connection the pod closed while it sat idle: nothing reached the pod.
      if (conn.reused && !reader.started && !bodyStarted && !sameTry && !TIMEOUTS.has(err.code ?? '')) {
        tryRecord.responseTime = 0;
        attempt(index, tryRecord);
        return;
      }
      const retryable = !bodyStarted && (err.connectFailed === true || IDEMPOTENT.has(method));
      if (retryable && index + 1 < maxTries) {
        attempt(index + 1);
        return;
      }
      const status = TIMEOUTS.has(err.code ?? '') ? 504 : 502;
      if (d.interceptErrors?.codes.includes(status) && !errorFetch) {
        interceptError(req, res, d, fwd, env, status, tries, finish);
        return;
      }
      result.status = status;
      env.respond(res, status);
    };

    conn.begin(
      {
        onConnect() {
          conn.sendHead(head);
          if (hasBody) stopBody.start();
        },
        onData(chunk) {
          wrote = false;
          try {
            reader.feed(chunk);
          } catch (err) {
            fail(err as UpstreamError);
            return false;
          }
          if (reader.done) complete();
          return wrote && (res.holds?.() ?? true);
        },
        onEof() {
          try {
            reader.eof();
          } catch (err) {
            fail(err as UpstreamError);
            return;
          }
          complete();
        },
        onError: fail,
      },
      d.readTimeoutMs,
    );
  };

  /**
   * Streams the client's body to the pod once connected, counted against proxy-body-size
   * (chunked bodies too; they are re-chunked as they arrive). Returns the stop function.
   */
  function body(conn: UpstreamConnection, onDone: () => void, onTooLarge: () => void): BodyPump {
    let bytes = 0;
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (d.bodyLimit > 0 && bytes > d.bodyLimit) {
        onTooLarge();
        return;
      }
      const s = conn.socket;
      let ok: boolean;
      if (chunkedBody) {
        s.cork();
        s.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        s.write(chunk);
        ok = s.write('\r\n', 'latin1');
        s.uncork();
      } else ok = s.write(chunk);
      if (!ok) {
        req.pause();
        s.once('drain', () => req.resume());
      }
    };
    const onEnd = () => {
      if (chunkedBody) conn.socket.write('0\r\n\r\n', 'latin1');
      onDone();
    };
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
    };
    return Object.assign(stop, {
      start() {
        bodyStarted = true;
        req.on('data', onData);
        req.on('end', onEnd);
      },
    });
  }

  attempt(0);
}

/** The request line and headers as one string, or undefined when a computed value is unsafe. */
function requestHead(method: string, d: ProxyDecision, fwd: ForwardContext, headers: string[], chunked: boolean): string | undefined {
  if (UNSAFE.test(d.uri) || d.uri.includes(' ') || UNSAFE.test(fwd.host) || (fwd.xForwardedPrefix && UNSAFE.test(fwd.xForwardedPrefix))) return undefined;
  for (const [, v] of fwd.extra ?? []) if (UNSAFE.test(v)) return undefined;
  let head = `${method} ${d.uri} HTTP/1.1\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  if (chunked) head += 'Transfer-Encoding: chunked\r\n';
  return head + '\r\n';
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
function errorHeaders(req: RequestLike, d: ProxyDecision, fwd: ForwardContext): Array<[string, string]> {
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
function interceptError(req: RequestLike, res: ResponseLike, d: ProxyDecision, fwd: ForwardContext, env: PassEnv, status: number, tries: UpstreamTry[], finish: () => void): void {
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
