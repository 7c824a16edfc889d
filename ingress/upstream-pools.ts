/**
 * Keep-alive connections to pods, a LIFO stack of idle sockets per endpoint (nginx keeps an
 * upstream keepalive cache per peer too, with ingress-nginx's defaults: 320 idle
 * connections, 60 s idle timeout, 10,000 requests per connection). Connections are bound to
 * the controller's pod address. Sockets of endpoints that left the route table are closed
 * when idle, and never go back to a pool after their request.
 *
 * A connection is a plain net.Socket (tls.TLSSocket for backend-protocol HTTPS) that carries
 * one exchange at a time; `proxy-pass.ts` drives the exchange. Keeping this below undici (or
 * an http.Agent) is what makes the forwarding path cheap: the request head is written as one
 * string and the response is read with `upstream-response.ts`, nothing else per request.
 */
import net from 'node:net';
import tls from 'node:tls';
import { BufferPool, ReadBuffer } from '../dataplane/base/net/read-buffer.js';
import { socketWriter, type SocketWriter } from '../dataplane/base/net/tcp-fast-path.js';
import type { PolicyEnforcer } from '../dataplane/base/netpol/enforcer.js';
import { droppedSynSocket } from '../dataplane/base/netpol/dial-from-pod.js';
import type { Endpoint } from './endpoints.js';
import type { RouteTable } from './route-table.js';

/**
 * Plain pod connections read through net's `onread` into a reused buffer of their own
 * (dataplane/base/net/read-buffer.ts): Node's default path allocates a buffer and runs a Readable
 * push and a 'data' event per read. 16 KiB reads; idle, the pool keeps at most 1 MiB.
 */
const readBuffers = new BufferPool(16 * 1024, 64);

export interface PoolOptions {
  /** Local address for connections (the controller's pod IP). */
  localAddress?: string;
  /** Idle connections kept per endpoint (ingress-nginx upstream-keepalive-connections). */
  maxIdle?: number;
  /** ms (upstream-keepalive-timeout). */
  idleTimeoutMs?: number;
  /** Requests per connection (upstream-keepalive-requests). */
  maxRequests?: number;
  /**
   * NetworkPolicy: a connection from the controller (as the pod at `source`) that the pod's
   * ingress denies never completes its connect, as a dropped SYN: proxy-connect-timeout fires and
   * the next endpoint is tried, then 504, as nginx behaves on a cluster.
   */
  netpol?: { enforcer: PolicyEnforcer; source: string };
}

/** Events of the exchange a connection currently carries. */
export interface ExchangeHandler {
  onConnect(): void;
  /**
   * Bytes from the pod. They may sit in a read buffer the next read reuses: return true when
   * something still points into `chunk` afterwards (a write the client socket has queued).
   */
  onData(chunk: Buffer): boolean;
  /** The pod closed its side (EOF). */
  onEof(): void;
  /** Socket error, connect failure or timeout; the socket is destroyed. */
  onError(err: NodeJS.ErrnoException): void;
}

export class UpstreamConnection {
  /** Requests this connection has carried (the current one included). */
  requests = 0;
  /** True when this socket carried a request before the current one. */
  reused = false;
  private handler: ExchangeHandler | undefined;
  private connected = false;
  private connectTimer: NodeJS.Timeout | undefined;
  private timeoutMs = -1;

  private readonly writer: SocketWriter;

  constructor(
    readonly socket: net.Socket,
    readonly key: string,
    private readonly pools: UpstreamPools,
    connectTimeoutMs: number,
    secure: boolean,
    private readonly reads?: ReadBuffer,
  ) {
    socket.setNoDelay(true);
    this.writer = socketWriter(socket, () => {});
    socket.on(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(this.connectTimer);
      this.connected = true;
      this.handler?.onConnect();
    });
    // TLS sockets read with 'data'; plain ones through `onread` (UpstreamPools.connect).
    if (secure) socket.on('data', (chunk: Buffer) => this.received(chunk));
    else socket.once('close', () => this.reads?.release());
    socket.on('end', () => {
      if (this.handler) this.handler.onEof();
      socket.destroy();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err));
    socket.on('close', () => {
      clearTimeout(this.connectTimer);
      this.pools.forget(this);
      this.fail(Object.assign(new Error('upstream connection closed'), { code: 'ECONNRESET' }));
    });
    socket.on('timeout', () => {
      // Idle in the pool: close. Carrying an exchange: proxy-read-timeout elapsed.
      if (!this.handler) socket.destroy();
      else this.fail(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' }));
    });
    this.connectTimer = setTimeout(() => this.fail(Object.assign(new Error('upstream connect timed out'), { code: 'KNET_CONNECT_TIMEOUT' })), connectTimeoutMs);
  }

  /** Writes the request head (latin1). */
  sendHead(head: string): void {
    this.writer.write(Buffer.from(head, 'latin1'));
  }

  /** @internal net's onread callback; back-pressure is the exchange's (it pauses the socket), so never false. */
  read(n: number, buf: Buffer): true {
    if (this.received(buf.subarray(0, n))) this.reads?.lend();
    return true;
  }

  /** Bytes read; true when the chunk's memory is still referenced after the handler ran. */
  private received(chunk: Buffer): boolean {
    if (this.handler) return this.handler.onData(chunk);
    this.socket.destroy(); // bytes on an idle connection: the pod broke framing
    return false;
  }

  /** Starts an exchange: `onConnect` is called at once for an open (reused) connection. */
  begin(handler: ExchangeHandler, readTimeoutMs: number): void {
    this.handler = handler;
    this.requests++;
    this.setTimeout(readTimeoutMs);
    if (this.connected) handler.onConnect();
  }

  /** The exchange is over and the connection is clean: back to the pool (or closed). */
  release(): void {
    this.handler = undefined;
    this.reused = true;
    if (this.socket.isPaused()) this.socket.resume();
    this.pools.release(this);
  }

  /** The exchange is over and the connection must not be reused. */
  destroy(): void {
    this.handler = undefined;
    this.socket.destroy();
  }

  /**
   * Idle timeout (read timeout while busy, keep-alive timeout in the pool). Both are 60 s by
   * default, and re-arming costs a timer allocation per call: only a change re-arms.
   */
  setTimeout(ms: number): void {
    if (ms === this.timeoutMs) return;
    this.timeoutMs = ms;
    this.socket.setTimeout(ms);
  }

  private fail(err: NodeJS.ErrnoException): void {
    clearTimeout(this.connectTimer);
    const h = this.handler;
    this.handler = undefined;
    this.socket.destroy();
    if (h) h.onError(this.connected ? err : Object.assign(err, { connectFailed: true }));
  }
}

export class UpstreamPools {
  private readonly idle = new Map<string, UpstreamConnection[]>();
  private readonly all = new Set<UpstreamConnection>();
  private live: Set<string> | undefined;
  private readonly maxIdle: number;
  private readonly idleTimeoutMs: number;
  private readonly maxRequests: number;

  constructor(private readonly opts: PoolOptions = {}) {
    this.maxIdle = opts.maxIdle ?? 320;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
    this.maxRequests = opts.maxRequests ?? 10_000;
  }

  /** An idle connection to the endpoint, or a new one (connecting). */
  acquire(ep: Endpoint, protocol: 'http' | 'https', connectTimeoutMs: number): UpstreamConnection {
    const key = `${protocol}|${ep.id}`;
    const stack = this.idle.get(key);
    for (let idle = stack?.pop(); idle; idle = stack!.pop()) if (!idle.socket.destroyed) return idle;
    return this.connect(ep, protocol, connectTimeoutMs, key);
  }

  /** A new connection, never an idle one (a reused socket the pod had closed meanwhile). */
  connect(ep: Endpoint, protocol: 'http' | 'https', connectTimeoutMs: number, key = `${protocol}|${ep.id}`): UpstreamConnection {
    const local = this.opts.localAddress ? { localAddress: this.opts.localAddress } : {};
    const reads = new ReadBuffer(readBuffers);
    const netpol = this.opts.netpol;
    const socket =
      netpol && !netpol.enforcer.allows(netpol.source, ep.address, ep.port, 'TCP')
        ? droppedSynSocket(ep.address, ep.port)
        : protocol === 'https'
        ? tls.connect({ host: ep.address, port: ep.port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], ...local })
        : net.connect({ host: ep.address, port: ep.port, ...local, onread: { buffer: () => reads.next(), callback: (n, buf) => conn.read(n, buf as Buffer) } });
    // Reads come only after the connect, once `conn` is set (net asks for a buffer at once).
    const conn: UpstreamConnection = new UpstreamConnection(socket, key, this, connectTimeoutMs, protocol === 'https', protocol === 'https' ? undefined : reads);
    this.all.add(conn);
    return conn;
  }

  /** @internal by UpstreamConnection.release */
  release(conn: UpstreamConnection): void {
    const id = conn.key.slice(conn.key.indexOf('|') + 1);
    if (conn.requests >= this.maxRequests || (this.live && !this.live.has(id)) || conn.socket.destroyed) {
      conn.socket.destroy();
      return;
    }
    let stack = this.idle.get(conn.key);
    if (!stack) this.idle.set(conn.key, (stack = []));
    if (stack.length >= this.maxIdle) {
      conn.socket.destroy();
      return;
    }
    conn.setTimeout(this.idleTimeoutMs);
    stack.push(conn);
  }

  /** @internal by UpstreamConnection on close */
  forget(conn: UpstreamConnection): void {
    this.all.delete(conn);
    const stack = this.idle.get(conn.key);
    const i = stack ? stack.indexOf(conn) : -1;
    if (i >= 0) stack!.splice(i, 1);
  }

  /** Closes idle connections of endpoints gone from the table; busy ones close after their request. */
  prune(table: RouteTable): void {
    const live = new Set<string>();
    const add = (eps: Endpoint[] | undefined) => eps?.forEach((e) => live.add(e.id));
    for (const u of table.upstreams.values()) add(u.endpoints);
    for (const s of table.servers) for (const l of s.locations) add(l.customDefaultBackend?.endpoints);
    this.live = live;
    for (const [key, stack] of this.idle) {
      if (live.has(key.slice(key.indexOf('|') + 1))) continue;
      this.idle.delete(key);
      for (const c of stack) c.socket.destroy();
    }
  }

  /** Idle and busy connections (tests and shutdown). */
  get size(): number {
    return this.all.size;
  }

  /** Destroys every connection (shutdown). */
  async destroy(): Promise<void> {
    this.idle.clear();
    for (const c of [...this.all]) c.socket.destroy();
    this.all.clear();
  }
}

