/**
 * The ingress's HTTP/1.1 server: Node's own parser (llhttp, through the http_parser binding
 * node:http uses), with lean request and response objects instead of node:http's streams.
 *
 * Why: per proxied request node:http built an IncomingMessage (a Readable) and a
 * ServerResponse (a Writable) and ran a dozen process.nextTick callbacks; a profile of the
 * ingress under wrk put a quarter of its CPU there. Here the socket's bytes go from libuv
 * straight into the parser (`parser.consume(handle)`, as node:http does), responses are
 * written to the native handle (dataplane/base/net/tcp-fast-path.ts), and a request costs two
 * small objects.
 *
 * What it keeps from node:http (and nginx), since the parser is the same one: the request
 * syntax rules (invalid requests, conflicting Content-Length / Transfer-Encoding, oversized
 * headers → clientError); keep-alive as the request asks; pipelined requests answered in
 * order, one at a time, reading stopped while one waits; `Expect: 100-continue` answered,
 * other expectations 417; nginx's head rules (request-head-check.ts: Host missing in HTTP/1.1
 * or repeated, Transfer-Encoding in HTTP/1.0) → clientError; Upgrade and CONNECT handed
 * over with the bytes after the head; the headers timeout and request timeout (node's
 * ConnectionsList), the keep-alive idle timeout and a requests-per-connection limit.
 *
 * `available()` is false when this Node's binding does not have the expected shape; the
 * ingress then uses node:http.
 */
import net from 'node:net';
import type tls from 'node:tls';
import { realClock, type Clock, type ClockTimer } from '../dataplane/base/clock.js';
import { socketWriter, type SocketWriter } from '../dataplane/base/net/tcp-fast-path.js';
import { Http1Request, type BodyFlow } from './http1-request.js';
import { binding, type ConnectionsList, type Parser, type ParserBinding } from './http-parser-binding.js';
import { Http1Response, type ResponseSink } from './http1-response.js';
import { requestHeadError } from './request-head-check.js';

export { available } from './http-parser-binding.js';

export interface Http1Options {
  onRequest(req: Http1Request, res: Http1Response): void;
  /** Upgrade and CONNECT requests: the socket is the handler's, `head` the bytes read past the request head. */
  onUpgrade(req: Http1Request, socket: net.Socket, head: Buffer): void;
  /** A request that cannot be served (parse error, timeout, missing Host): answer and destroy. */
  onClientError(err: NodeJS.ErrnoException, socket: net.Socket): void;
  /** Idle time between requests before the connection is closed (nginx keepalive_timeout). */
  keepAliveTimeoutMs: number;
  /** Requests per connection; the last one is answered with Connection: close (nginx keepalive_requests). */
  maxRequestsPerSocket: number;
  /** From the first byte of a request to the end of its head (node's headersTimeout). */
  headersTimeoutMs?: number;
  /** From the first byte of a request to the end of its body (node's requestTimeout). */
  requestTimeoutMs?: number;
  /** The once-a-second sweep runs on it, and keep-alive idleness is counted in its sweeps (real time; tests pass a fake clock). The headers and request timeouts are measured by the parser's own clock at each sweep. */
  clock?: Clock;
}

const MAX_HEADER_PAIRS = 2000; // node:http's maxHeadersCount default
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);
/** Reading stops for: a pipelined request waiting its turn, a body nobody reads yet. */
const WAITING = 1;
const BODY = 2;

/** Serves HTTP/1.x on every connection `server` accepts (net.Server, or tls.Server's secure connections). */
export function serveHttp1(server: net.Server | tls.Server, opts: Http1Options): { close(): void } {
  const b = binding();
  if (!b) throw new Error('http1-server: this Node has no usable http_parser binding');
  const connections = new b.ConnectionsList();
  const live = new Set<Http1Connection>();
  const ctx: ServerContext = { b, opts, connections, live, tick: 0 };
  const secure = 'addContext' in server;
  server.on(secure ? 'secureConnection' : 'connection', (socket: net.Socket) => live.add(new Http1Connection(socket, ctx)));
  const headersTimeout = opts.headersTimeoutMs ?? 60_000;
  const requestTimeout = opts.requestTimeoutMs ?? 300_000;
  const idleTicks = Math.ceil(opts.keepAliveTimeoutMs / 1000);
  // One coarse sweep a second instead of a timer re-armed per request (node checks every 30 s).
  const clock = opts.clock ?? realClock;
  const onSweep = (): void => {
    sweep = clock.setTimeout(onSweep, 1000);
    sweep.unref();
    ctx.tick++;
    for (const p of connections.expired(headersTimeout, requestTimeout)) p.conn?.timedOut();
    // The keep-alive timeout ends at the first byte of the next request (as in nginx and
    // node:http); after that the headers timeout applies.
    let reading: Set<Parser> | undefined;
    for (const c of live) {
      if (!c.idle() || ctx.tick - c.idleSince < idleTicks) continue;
      reading ??= new Set(connections.active());
      if (!reading.has(c.parser)) c.socket.destroy();
    }
  };
  let sweep: ClockTimer = clock.setTimeout(onSweep, 1000);
  sweep.unref();
  return {
    close() {
      clock.clearTimeout(sweep);
      for (const c of live) if (c.idle()) c.socket.destroy();
    },
  };
}

interface ServerContext {
  b: ParserBinding;
  opts: Http1Options;
  connections: ConnectionsList;
  live: Set<Http1Connection>;
  /** Seconds since the server started, from the sweep. */
  tick: number;
}

class Http1Connection implements ResponseSink, BodyFlow {
  readonly parser: Parser;
  private readonly writer: SocketWriter;
  private readonly consumed: boolean;
  private requests = 0;
  /** The request the parser is reading (its body may still be coming). */
  private current: Http1Request | undefined;
  /** The response being written; later pipelined requests wait in `waiting`. */
  private active: Http1Response | undefined;
  private activeRequest: Http1Request | undefined;
  private readonly waiting: Array<[Http1Request, Http1Response]> = [];
  private pendingHeaders: string[] = [];
  private pendingUrl = '';
  private blocked = 0;
  private upgrading: Http1Request | undefined;
  private closed = false;
  private errored = false;
  /** A parse error behind the requests being answered, reported once they are. */
  private deferredError: NodeJS.ErrnoException | undefined;
  /** Why onHeadersComplete stopped the parser (its own error says only "user callback"). */
  private headError: NodeJS.ErrnoException | undefined;
  private released = false;
  private readonly listeners: Array<[string, (...args: never[]) => void]> = [];
  idleSince: number;

  constructor(
    readonly socket: net.Socket,
    private readonly ctx: ServerContext,
  ) {
    const { HTTPParser } = ctx.b;
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.REQUEST!, {}, 0, 0, ctx.connections);
    parser.conn = this;
    parser[HTTPParser.kOnHeaders!] = (headers: string[], url: string) => this.onHeaders(headers, url);
    parser[HTTPParser.kOnHeadersComplete!] = (major: number, minor: number, headers: string[] | undefined, method: number, url: string | undefined, _s: unknown, _m: unknown, upgrade: boolean, keepAlive: boolean) =>
      this.onHeadersComplete(major, minor, headers, method, url, upgrade, keepAlive);
    parser[HTTPParser.kOnBody!] = (chunk: Buffer) => this.current?.pushBody(chunk);
    parser[HTTPParser.kOnMessageComplete!] = () => this.onMessageComplete();
    parser[HTTPParser.kOnExecute!] = (ret: number | Error) => this.afterExecute(ret, undefined);
    parser[HTTPParser.kOnTimeout!] = () => {};
    this.parser = parser;
    this.idleSince = ctx.tick;
    this.writer = socketWriter(socket, () => this.onWritable());
    socket.setNoDelay(true);
    this.listen('error', () => socket.destroy());
    this.listen('end', () => this.onEnd());
    this.listen('close', () => this.onClose());
    const handle = (socket as unknown as { _handle?: { isStreamBase?: boolean; _consumed?: boolean } })._handle;
    this.consumed = handle?.isStreamBase === true && !handle._consumed;
    if (this.consumed) {
      handle!._consumed = true;
      parser.consume(handle);
    } else {
      this.listen('data', (d: Buffer) => this.afterExecute(this.parser.execute(d), d));
    }
  }

  /** No request in progress or waiting. */
  idle(): boolean {
    return this.active === undefined && this.current === undefined && !this.closed;
  }

  // ResponseSink
  send(bytes: Buffer): boolean {
    if (this.closed) return false;
    return this.writer.write(bytes);
  }

  finished(res: Http1Response, close: boolean): void {
    if (res !== this.active) return;
    if (this.writer.holds()) {
      // 'drain' follows only a write that returned false, and a TLS socket holds every write
      // until it is encrypted and sent: an empty write's callback says when all before it are out.
      if (this.socket.writable) this.socket.write(EMPTY, () => this.onWritable());
      return;
    }
    this.complete(res, close);
  }

  destroy(): void {
    this.socket.destroy();
  }

  holds(): boolean {
    return this.writer.holds();
  }

  // BodyFlow
  holdBody(hold: boolean): void {
    this.block(BODY, hold);
  }

  timedOut(): void {
    const err: NodeJS.ErrnoException = new Error('Request timeout');
    err.code = 'ERR_HTTP_REQUEST_TIMEOUT';
    this.clientError(err);
  }

  private onHeaders(headers: string[], url: string): void {
    if (this.pendingHeaders.length < MAX_HEADER_PAIRS * 2) this.pendingHeaders.push(...headers);
    this.pendingUrl += url;
  }

  private onHeadersComplete(major: number, minor: number, headers: string[] | undefined, method: number, url: string | undefined, upgrade: boolean, keepAlive: boolean): number {
    let raw = headers;
    if (raw === undefined) {
      raw = this.pendingHeaders;
      this.pendingHeaders = [];
    }
    if (url === undefined) {
      url = this.pendingUrl;
      this.pendingUrl = '';
    }
    if (raw.length > MAX_HEADER_PAIRS * 2) raw.length = MAX_HEADER_PAIRS * 2;
    const bad = requestHeadError(major, minor, raw);
    if (bad) {
      // A non-0/1/2 return is a parse error to llhttp: it stops here and reads nothing more,
      // and the error reaches afterExecute like any other (after earlier requests' answers).
      this.headError = bad;
      return -1;
    }
    const name = this.ctx.b.allMethods[method] ?? 'GET';
    const req = new Http1Request(this.socket, name, url, major, minor, raw, this);
    this.current = req;
    if (upgrade) {
      // Stop parsing here: what follows the head belongs to the upgraded protocol.
      this.upgrading = req;
      return 2;
    }
    this.requests++;
    const last = !keepAlive || this.requests >= this.ctx.opts.maxRequestsPerSocket;
    const res = new Http1Response(this, name, major === 1 && minor === 1, !last);
    if (this.active) {
      this.waiting.push([req, res]);
      this.block(WAITING, true);
    } else this.dispatch(req, res);
    return 0;
  }

  private onMessageComplete(): void {
    const req = this.current;
    this.current = undefined;
    req?.pushEnd();
  }

  private afterExecute(ret: number | Error, data: Buffer | undefined): void {
    // A head refused in onHeadersComplete: for an Upgrade request the binding returns the
    // byte count, not the error, since llhttp has already marked the message an upgrade.
    if (this.headError || ret instanceof Error) {
      this.clientError(this.headError ?? (ret as NodeJS.ErrnoException));
      return;
    }
    const req = this.upgrading;
    if (!req) return;
    this.upgrading = undefined;
    this.current = undefined;
    const head = (data ?? this.parser.getCurrentBuffer()).subarray(ret);
    this.release();
    // The socket is the upgrade handler's now (it adds its own error listener).
    for (const [event, fn] of this.listeners) if (event !== 'error') this.socket.off(event, fn as (...args: unknown[]) => void);
    // A flowing socket would emit its next bytes to nobody: as node:http does, they wait in the
    // socket until the handler's first 'data' listener (or pipe) starts the flow again.
    if (!this.consumed) (this.socket as unknown as { _readableState: { flowing: boolean | null } })._readableState.flowing = null;
    this.ctx.live.delete(this);
    this.ctx.opts.onUpgrade(req, this.socket, head);
  }

  private dispatch(req: Http1Request, res: Http1Response): void {
    this.active = res;
    this.activeRequest = req;
    if (req.httpVersionMajor === 1 && req.httpVersionMinor === 1) {
      const h = req.headers;
      if (h.expect !== undefined) {
        if (!/(?:^|\W)100-continue(?:$|\W)/i.test(h.expect)) {
          res.writeHead(417, []).end();
          return;
        }
        this.writer.write(CONTINUE);
      }
    }
    this.ctx.opts.onRequest(req, res);
  }

  private complete(res: Http1Response, close: boolean): void {
    const req = this.activeRequest;
    this.active = undefined;
    this.activeRequest = undefined;
    // A body the handler never read is read and dropped, so the next request can be parsed.
    if (req && !req.complete) req.dump();
    queueMicrotask(() => res.closed(false));
    if (close) {
      this.socket.end();
      return;
    }
    this.idleSince = this.ctx.tick;
    const next = this.waiting.shift();
    if (this.waiting.length === 0) this.block(WAITING, false);
    if (next) this.dispatch(next[0], next[1]);
    else if (this.deferredError) this.ctx.opts.onClientError(this.deferredError, this.socket);
  }

  private onWritable(): void {
    const res = this.active;
    if (!res) return;
    res.writable();
    // A response whose end() waited for the socket to take its last bytes.
    if (res === this.active && res.ended && !this.writer.holds()) this.complete(res, res.last);
  }

  private block(reason: number, on: boolean): void {
    const before = this.blocked;
    this.blocked = on ? before | reason : before & ~reason;
    if ((before === 0) === (this.blocked === 0)) return;
    if (this.consumed) {
      const handle = (this.socket as unknown as { _handle?: { readStop(): number; readStart(): number; reading?: boolean } })._handle;
      if (!handle) return;
      handle.reading = this.blocked === 0;
      if (this.blocked === 0) handle.readStart();
      else handle.readStop();
    } else if (this.blocked === 0) this.socket.resume();
    else this.socket.pause();
  }

  private clientError(err: NodeJS.ErrnoException): void {
    // One answer per connection: the parser repeats its error on every later read, and at the
    // client's EOF finish() reports the same unfinished message (e.g. after a headers timeout).
    if (this.closed || this.errored) return;
    this.errored = true;
    // A bad request pipelined behind requests still being answered: nginx reads it only once
    // it has answered those, so they get their responses first, then the 400.
    if (this.active && this.activeRequest?.complete && err.code !== 'ERR_HTTP_REQUEST_TIMEOUT') {
      this.deferredError = err;
      return;
    }
    if (this.active?.headersSent) {
      this.socket.destroy();
      return;
    }
    this.ctx.opts.onClientError(err, this.socket);
  }

  private onEnd(): void {
    const ret = this.parser.finish();
    if (ret instanceof Error) {
      this.clientError(ret as NodeJS.ErrnoException);
      return;
    }
    // The client closed its side: an unfinished response has nobody to read it (nginx logs 499).
    if (this.active || this.waiting.length > 0) this.socket.destroy();
    else this.socket.end();
  }

  private onClose(): void {
    this.closed = true;
    this.ctx.live.delete(this);
    this.active?.closed(true);
    for (const [, res] of this.waiting) res.closed(true);
    this.waiting.length = 0;
    this.active = undefined;
    this.release();
  }

  private listen(event: string, fn: (...args: never[]) => void): void {
    this.listeners.push([event, fn]);
    this.socket.on(event, fn as (...args: unknown[]) => void);
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    const parser = this.parser;
    if (this.consumed) parser.unconsume();
    parser.remove();
    parser.conn = undefined;
    // The parser may be on the stack (a callback of execute): free it once that has unwound.
    setImmediate(() => parser.close());
  }
}
