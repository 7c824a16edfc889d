/**
 * TCP forwarding for one accepted client: route, connect with retries, then splice.
 *
 * - reject: reset the client (the listener is normally closed already; this covers the race).
 * - hang: accept and hold silent, reading (and keeping up to HANG_BUFFER bytes) only to notice
 *   the client leave; re-routed after every sync, so a pod appearing on the node picks the
 *   connection up as a retransmitted SYN would. Given up after hangHoldMs (Linux gives a SYN
 *   ~127 s). Unlike a DROPped SYN the client sees its connect succeed; only the reply is missing.
 * - forward: up to 4 connect attempts (250 ms, 500 ms, 1 s, 2 s), each asking the chooser
 *   again with retry=true after a failure; then the client is closed.
 * Once spliced it behaves like a NAT (splice.ts: half-close, back-pressure): a reset on one
 * side resets the other, and an endpoint dying closes only its own connections.
 */
import net from 'node:net';
import { plainIp } from '../dataplane/net/ip.js';
import type { Logger } from '../dataplane/log.js';
import type { EndpointChooser, Frontend, Route } from './endpoint-choice.js';
import type { ListenerSpec } from './frontends.js';
import type { ProxyMetrics, ServiceTally } from './metrics.js';
import { endpointId, type EndpointInfo } from './service-table.js';
import { endpointReader, splice, type Pump } from './splice.js';

export const DEFAULT_CONNECT_TIMEOUTS_MS = [250, 500, 1000, 2000] as const;
export const DEFAULT_HANG_HOLD_MS = 130_000;
const HANG_BUFFER = 64 * 1024;

export interface ForwardContext {
  chooser: EndpointChooser;
  metrics: ProxyMetrics;
  log: Logger;
  connectTimeoutsMs: readonly number[];
  hangHoldMs: number;
  /** false: the byte path uses only net's public API (tcp-fast-path.ts). */
  nativeSockets?: boolean;
}

interface Connection {
  client: net.Socket;
  clientIp: string;
  clientPort: number;
  serviceKey: string;
  frontend: Frontend;
  tally: ServiceTally;
  upstream?: net.Socket;
  endpoint?: EndpointInfo;
  /** Bytes read from the client while held. */
  held?: { chunks: Buffer[]; size: number; timer: NodeJS.Timeout; onData: (b: Buffer) => void; onEnd: () => void };
  closed: boolean;
}

export class TcpForwarder {
  private readonly conns = new Set<Connection>();
  private readonly hung = new Set<Connection>();

  constructor(private readonly ctx: ForwardContext) {}

  get size(): number {
    return this.conns.size;
  }

  accept(client: net.Socket, spec: ListenerSpec): void {
    const conn: Connection = {
      client,
      clientIp: plainIp(client.remoteAddress),
      clientPort: client.remotePort ?? 0,
      serviceKey: spec.serviceKey,
      frontend: spec.node ? { role: spec.role, node: spec.node } : { role: spec.role },
      tally: this.ctx.metrics.service(spec.serviceKey, 'TCP'),
      closed: false,
    };
    this.conns.add(conn);
    conn.tally.connections++;
    conn.tally.active++;
    client.on('error', (err: NodeJS.ErrnoException) => {
      const up = conn.upstream;
      if (up && !up.destroyed) {
        // Only an established upstream has a reset to pass on; one still connecting is dropped.
        if (err.code === 'ECONNRESET' && conn.endpoint) up.resetAndDestroy();
        else up.destroy();
      }
    });
    client.once('close', () => {
      conn.closed = true;
      this.release(conn);
      conn.tally.active--;
      const up = conn.upstream;
      if (up) {
        // Flush what the client sent, then go; nothing can reach the client any more.
        // An upstream still connecting is simply abandoned.
        if (!up.destroyed) {
          if (conn.endpoint) up.destroySoon();
          else up.destroy();
        }
      }
    });
    this.dispatch(conn, 0);
  }

  /** Re-routes held connections after a sync; called by the proxier. */
  retryHung(): void {
    for (const conn of [...this.hung]) {
      const route = this.ctx.chooser.route(conn.serviceKey, conn.frontend, conn.clientIp);
      if (route.action === 'hang') continue;
      this.unhold(conn);
      this.dispatch(conn, 0, route);
    }
  }

  destroyAll(): void {
    for (const conn of this.conns) {
      conn.upstream?.destroy();
      conn.client.destroy();
      this.release(conn);
    }
    this.conns.clear();
  }

  private dispatch(conn: Connection, attempt: number, given?: Route): void {
    if (conn.closed) return;
    const route = given ?? this.ctx.chooser.route(conn.serviceKey, conn.frontend, conn.clientIp);
    if (route.action === 'reject') {
      this.ctx.metrics.failed.inc({ service: conn.serviceKey, reason: 'no_endpoints' });
      this.ctx.log.debug('rejected', { service: conn.serviceKey, client: `${conn.clientIp}:${conn.clientPort}`, reason: route.reason });
      conn.client.resetAndDestroy();
      return;
    }
    if (route.action === 'hang') {
      if (attempt > 0) {
        // The set moved away mid-retry; close rather than hold a half-served client.
        conn.client.destroy();
        return;
      }
      this.hold(conn, route.reason);
      return;
    }
    const ep = this.ctx.chooser.choose(conn.serviceKey, route, conn.clientIp, Date.now(), attempt > 0);
    if (!ep) {
      conn.client.destroy();
      return;
    }
    this.connect(conn, ep, route.sourceAddress, attempt);
  }

  private connect(conn: Connection, ep: EndpointInfo, localAddress: string, attempt: number): void {
    const reader = endpointReader(conn.client, conn.tally, { native: this.ctx.nativeSockets });
    const upstream = net.connect({ host: ep.ip, port: ep.port, localAddress, allowHalfOpen: true, noDelay: true, onread: reader });
    upstream.once('close', reader.release);
    conn.upstream = upstream;
    const timeoutMs = this.ctx.connectTimeoutsMs[attempt] ?? this.ctx.connectTimeoutsMs.at(-1) ?? 2000;
    const fail = (why: string): void => {
      clearTimeout(timer);
      upstream.removeAllListeners('connect');
      upstream.destroy();
      conn.upstream = undefined;
      const epLabels = { service: conn.serviceKey, endpoint: endpointId(ep), pod: ep.podName ?? '' };
      this.ctx.metrics.endpointFailures.inc(epLabels);
      this.ctx.log.debug('connect failed', { service: conn.serviceKey, endpoint: endpointId(ep), attempt: attempt + 1, why });
      if (conn.closed) return;
      if (attempt + 1 < this.ctx.connectTimeoutsMs.length) {
        this.dispatch(conn, attempt + 1);
        return;
      }
      this.ctx.metrics.failed.inc({ service: conn.serviceKey, reason: 'connect_failed' });
      this.ctx.log.warn('every connect attempt failed; closing client', { service: conn.serviceKey, client: conn.clientIp, attempts: attempt + 1, last: why });
      closeGracefully(conn.client);
    };
    const timer = setTimeout(() => fail(`no answer in ${timeoutMs} ms`), timeoutMs);
    upstream.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    upstream.once('connect', () => {
      clearTimeout(timer);
      upstream.removeAllListeners('error');
      if (conn.closed) {
        upstream.destroy();
        return;
      }
      this.spliced(conn, upstream, reader, ep, localAddress);
    });
  }

  private spliced(conn: Connection, upstream: net.Socket, reader: Pump, ep: EndpointInfo, source: string): void {
    const { client } = conn;
    conn.endpoint = ep;
    this.ctx.metrics.servedBy(conn.serviceKey, ep);
    // The bound address, not upstream.localAddress: that would cost a getsockname per connection.
    this.ctx.log.debug('forwarded', { service: conn.serviceKey, client: `${conn.clientIp}:${conn.clientPort}`, endpoint: endpointId(ep), pod: ep.podName, source });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (client.destroyed) return;
      if (err.code === 'ECONNRESET') client.resetAndDestroy();
      else client.destroy();
    });
    upstream.once('close', () => {
      // After a clean close both directions have ended already; flush and go.
      if (!client.destroyed) client.destroySoon();
    });
    splice(client, upstream, conn.tally, reader, { native: this.ctx.nativeSockets });
  }

  private hold(conn: Connection, reason: string): void {
    this.ctx.metrics.failed.inc({ service: conn.serviceKey, reason: 'no_local_endpoints' });
    this.ctx.log.debug('holding connection silent', { service: conn.serviceKey, client: conn.clientIp, reason });
    const { client } = conn;
    const held: NonNullable<Connection['held']> = {
      chunks: [],
      size: 0,
      timer: setTimeout(() => client.destroy(), this.ctx.hangHoldMs),
      onData: (b: Buffer) => {
        held.chunks.push(b);
        held.size += b.length;
        if (held.size >= HANG_BUFFER) client.pause();
      },
      // A client that stops sending while unanswered has given up.
      onEnd: () => client.destroy(),
    };
    conn.held = held;
    client.on('data', held.onData);
    client.on('end', held.onEnd);
    this.hung.add(conn);
  }

  /** Stops holding; the bytes already read go first once a connection is spliced. */
  private unhold(conn: Connection): void {
    const held = conn.held;
    if (!held) return;
    clearTimeout(held.timer);
    conn.client.off('data', held.onData);
    conn.client.off('end', held.onEnd);
    conn.client.pause();
    if (held.size > 0) conn.client.unshift(Buffer.concat(held.chunks));
    conn.held = undefined;
    this.hung.delete(conn);
  }

  private release(conn: Connection): void {
    if (conn.held) clearTimeout(conn.held.timer);
    this.hung.delete(conn);
    this.conns.delete(conn);
  }
}

/**
 * Closes with a FIN rather than an RST: unread request bytes would make the kernel reset, and
 * the client should see the userspace proxier's "accepted, then closed" (curl: empty reply).
 */
function closeGracefully(client: net.Socket): void {
  client.resume();
  client.end();
  const timer = setTimeout(() => client.destroy(), 2_000);
  client.once('close', () => clearTimeout(timer));
}
