/**
 * TCP forwarding for one accepted client: route, connect with retries, then splice.
 *
 * - reject: reset the client (the listener is normally closed already; this covers the race).
 * - hang: accept and hold silent, reading (and keeping up to HANG_BUFFER bytes) only to notice
 *   the client leave; re-routed after every sync, so a pod appearing on the node picks the
 *   connection up as a retransmitted SYN would. Given up after hangHoldMs (Linux gives a SYN
 *   ~127 s). Unlike a DROPped SYN the client sees its connect succeed; only the reply is missing.
 * - drop: the client's address is outside the LoadBalancer IP's loadBalancerSourceRanges
 *   (source-ranges.ts): held silent as for hang — kube-proxy's firewall DROPs the SYN, so no
 *   reset — counted as source_range_denied and logged at debug with the ranges; re-routed
 *   after every sync, so ranges that come to admit it let it through, as a retransmitted SYN.
 * - policy: the chosen endpoint is one NetworkPolicy keeps the client from (its egress toward
 *   the pod, the pod's ingress from the source it would see): no connect, the client is held
 *   silent as for hang — a dropped SYN, counted per policy — and no other endpoint is tried (a
 *   real cluster's DNAT has picked the pod before the packet is dropped). A policy change that
 *   allows it connects it to that endpoint, as the client's next SYN would get through.
 * - forward: up to 4 connect attempts (250 ms, 500 ms, 1 s, 2 s), each asking the chooser
 *   again with retry=true after a failure, passing over the endpoints already tried; then the
 *   client is closed.
 * Once spliced it behaves like a NAT (splice.ts: half-close, back-pressure): a reset or a
 * socket error on one side resets the other, and an endpoint dying closes only its own
 * connections. Every reset is counted and logged with its reason (tcp-resets.ts).
 */
import type net from 'node:net';
import type { Clock, ClockTimer } from '../dataplane/base/clock.js';
import { plainIp } from '../dataplane/base/net/ip.js';
import type { Logger } from '../dataplane/base/log.js';
import type { PolicyEnforcer } from '../dataplane/base/netpol/enforcer.js';
import type { EndpointChooser, Frontend, Route } from './endpoint-choice.js';
import type { ListenerSpec } from './frontends.js';
import type { FailReason, ProxyMetrics, ServiceTally } from './metrics.js';
import { endpointId, type EndpointInfo } from './service-table.js';
import { connectUpstream, endpointReader, splice, type Pump } from '../dataplane/base/net/splice.js';
import { openFileLimit, OpenFilesWatch } from './open-files.js';
import { ResetRecorder, resetReasonOf, type ResetReason } from './tcp-resets.js';

export const DEFAULT_CONNECT_TIMEOUTS_MS = [250, 500, 1000, 2000] as const;
export const DEFAULT_HANG_HOLD_MS = 130_000;
const HANG_BUFFER = 64 * 1024;

export interface ForwardContext {
  chooser: EndpointChooser;
  metrics: ProxyMetrics;
  log: Logger;
  connectTimeoutsMs: readonly number[];
  hangHoldMs: number;
  /** Affinity records and the hang hold; connect timeouts stay on real timers (I/O deadlines). */
  clock: Clock;
  /** false: the byte path uses only net's public API (tcp-fast-path.ts). */
  nativeSockets?: boolean;
  /** NetworkPolicy, checked before connecting to the chosen endpoint. */
  netpol?: PolicyEnforcer;
}

interface Connection {
  client: net.Socket;
  clientIp: string;
  clientPort: number;
  serviceKey: string;
  frontend: Frontend;
  tally: ServiceTally;
  upstream?: net.Socket;
  /** The endpoint being connected to, then forwarded to. */
  target?: EndpointInfo;
  /** Set once spliced. */
  endpoint?: EndpointInfo;
  /** The first reset recorded for this connection (one per connection). */
  reset?: ResetReason;
  /** Endpoints a connect attempt failed on; retries pass them over. */
  tried?: Set<string>;
  /** The endpoint and source of a connection NetworkPolicy denied, while held. */
  denied?: { ep: EndpointInfo; source: string };
  /** Bytes read from the client while held. */
  held?: { chunks: Buffer[]; size: number; timer: ClockTimer; onData: (b: Buffer) => void; onEnd: () => void };
  closed: boolean;
}

export class TcpForwarder {
  private readonly conns = new Set<Connection>();
  private readonly hung = new Set<Connection>();
  /** Held because NetworkPolicy denied the chosen endpoint. */
  private readonly denied = new Set<Connection>();
  private readonly resets: ResetRecorder;
  private readonly openFiles: OpenFilesWatch;

  constructor(private readonly ctx: ForwardContext) {
    this.resets = new ResetRecorder(ctx.metrics, ctx.log);
    this.openFiles = new OpenFilesWatch((connections, limit) =>
      ctx.log.warn('forwarded connections near the open-files limit: at the limit, new connections are closed unserved', {
        connections,
        limit,
        fix: 'raise the hard open-files limit (ulimit -Hn) of the knet proxy process; each connection takes two',
      }),
      openFileLimit(),
    );
  }

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
    this.openFiles.check(this.conns.size);
    conn.tally.connections++;
    conn.tally.active++;
    client.on('error', (err: NodeJS.ErrnoException) => {
      const up = conn.upstream;
      let action = 'none (the endpoint side had closed)';
      if (!up) action = 'none (not forwarded yet)';
      else if (!up.destroyed) {
        // Only an established upstream has a reset to pass on; one still connecting is dropped.
        if (conn.endpoint) {
          up.resetAndDestroy();
          action = 'reset the endpoint';
        } else {
          up.destroy();
          action = 'dropped the connect under way';
        }
      }
      this.recordReset(conn, resetReasonOf('client', err), action, err);
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

  /**
   * accept() failed on a listener and libuv could not shed the pending connections itself
   * (when its EMFILE trick works it closes them without telling Node: open-files.ts); called
   * by the listener set.
   */
  acceptFailed(spec: ListenerSpec, err: NodeJS.ErrnoException): void {
    this.resets.record({ service: spec.serviceKey, reason: 'accept_failed', listener: `${spec.address}:${spec.port}`, error: err, action: 'none (closed by libuv)' });
  }

  /** Re-routes held connections after a sync; called by the proxier. */
  retryHung(): void {
    for (const conn of [...this.hung]) {
      const route = this.ctx.chooser.route(conn.serviceKey, conn.frontend, conn.clientIp);
      if (route.action === 'hang' || route.action === 'drop') continue;
      this.unhold(conn);
      this.dispatch(conn, 0, route);
    }
  }

  /** After a NetworkPolicy change: connects the held connections that are allowed now. */
  recheckDenied(): void {
    const netpol = this.ctx.netpol;
    if (!netpol) return;
    for (const conn of [...this.denied]) {
      const d = conn.denied!;
      if (!netpol.wouldAllow(conn.clientIp, d.ep.ip, d.ep.port, 'TCP') || !netpol.wouldAllow(d.source, d.ep.ip, d.ep.port, 'TCP')) continue;
      this.unhold(conn);
      this.connect(conn, d.ep, d.source, 0);
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
      this.recordReset(conn, 'no_endpoints', 'reset the client');
      return;
    }
    if (route.action === 'hang' || route.action === 'drop') {
      const fail: FailReason = route.action === 'hang' ? 'no_local_endpoints' : 'source_range_denied';
      if (attempt > 0) {
        // The set (or the ranges) moved away mid-retry; close rather than hold a half-served client.
        this.ctx.metrics.failed.inc({ service: conn.serviceKey, reason: fail });
        this.ctx.log.warn('no usable endpoint left while retrying; closing client', { service: conn.serviceKey, client: `${conn.clientIp}:${conn.clientPort}`, reason: route.reason });
        closeGracefully(conn.client);
        return;
      }
      // Held silent either way, as a DROPped SYN: no reset, no FIN. Re-routed after every sync.
      this.hold(conn, route.reason, fail);
      return;
    }
    const ep = this.ctx.chooser.choose(conn.serviceKey, route, conn.clientIp, this.ctx.clock.now(), attempt > 0, conn.tried);
    if (!ep) {
      // Not reachable (a forward route has endpoints); closed as a failed connect would be.
      this.ctx.metrics.failed.inc({ service: conn.serviceKey, reason: 'connect_failed' });
      this.ctx.log.warn('no endpoint to choose; closing client', { service: conn.serviceKey, client: `${conn.clientIp}:${conn.clientPort}` });
      closeGracefully(conn.client);
      return;
    }
    if (this.ctx.netpol && !this.ctx.netpol.allows(conn.clientIp, ep.ip, ep.port, 'TCP', route.sourceAddress)) {
      this.ctx.metrics.failed.inc({ service: conn.serviceKey, reason: 'policy_denied' });
      conn.denied = { ep, source: route.sourceAddress };
      this.hold(conn, `NetworkPolicy denies ${conn.clientIp} → ${endpointId(ep)}`);
      this.denied.add(conn);
      return;
    }
    this.connect(conn, ep, route.sourceAddress, attempt);
  }

  private connect(conn: Connection, ep: EndpointInfo, localAddress: string, attempt: number): void {
    const reader = endpointReader(conn.client, conn.tally, { native: this.ctx.nativeSockets });
    const upstream = connectUpstream({ host: ep.ip, port: ep.port }, localAddress, reader);
    conn.upstream = upstream;
    conn.target = ep;
    const timeoutMs = this.ctx.connectTimeoutsMs[attempt] ?? this.ctx.connectTimeoutsMs.at(-1) ?? 2000;
    const fail = (why: string): void => {
      clearTimeout(timer);
      upstream.removeAllListeners('connect');
      upstream.destroy();
      conn.upstream = undefined;
      const epLabels = { service: conn.serviceKey, endpoint: endpointId(ep), pod: ep.podName ?? '' };
      (conn.tried ??= new Set()).add(epLabels.endpoint);
      this.ctx.metrics.endpointFailures.inc(epLabels);
      this.ctx.log.debug('connect failed', { service: conn.serviceKey, endpoint: endpointId(ep), attempt: attempt + 1, why });
      if (conn.closed) return;
      if (attempt + 1 < this.ctx.connectTimeoutsMs.length) {
        this.dispatch(conn, attempt + 1);
        return;
      }
      this.ctx.metrics.failed.inc({ service: conn.serviceKey, reason: 'connect_failed' });
      this.ctx.log.warn('every connect attempt failed; closing client', { service: conn.serviceKey, client: `${conn.clientIp}:${conn.clientPort}`, attempts: attempt + 1, endpoint: endpointId(ep), pod: ep.podName, last: why });
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
      // A client gone already has nothing to be told (its own close or error was the cause).
      if (client.destroyed) return;
      client.resetAndDestroy();
      this.recordReset(conn, resetReasonOf('endpoint', err), 'reset the client', err);
    });
    upstream.once('close', () => {
      // After a clean close both directions have ended already; flush and go.
      if (!client.destroyed) client.destroySoon();
    });
    splice(client, upstream, conn.tally, reader, { native: this.ctx.nativeSockets });
  }

  /**
   * Holds a client silent. `fail`: counted under that reason and re-routed after every sync
   * (no local endpoint, or a source outside loadBalancerSourceRanges); without it, a
   * NetworkPolicy denial, counted by the caller and re-checked when a policy changes.
   */
  private hold(conn: Connection, reason: string, fail?: FailReason): void {
    if (fail) this.ctx.metrics.failed.inc({ service: conn.serviceKey, reason: fail });
    this.ctx.log.debug('holding connection silent', { service: conn.serviceKey, client: `${conn.clientIp}:${conn.clientPort}`, reason, ...(fail ? { cause: fail } : {}) });
    const { client } = conn;
    const held: NonNullable<Connection['held']> = {
      chunks: [],
      size: 0,
      timer: this.ctx.clock.setTimeout(() => client.destroy(), this.ctx.hangHoldMs),
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
    if (fail) this.hung.add(conn);
  }

  /** Stops holding; the bytes already read go first once a connection is spliced. */
  private unhold(conn: Connection): void {
    const held = conn.held;
    if (!held) return;
    this.ctx.clock.clearTimeout(held.timer);
    conn.client.off('data', held.onData);
    conn.client.off('end', held.onEnd);
    conn.client.pause();
    if (held.size > 0) conn.client.unshift(Buffer.concat(held.chunks));
    conn.held = undefined;
    conn.denied = undefined;
    this.hung.delete(conn);
    this.denied.delete(conn);
  }

  private recordReset(conn: Connection, reason: ResetReason, action: string, error?: NodeJS.ErrnoException): void {
    if (conn.reset) return;
    conn.reset = reason;
    this.resets.record({
      service: conn.serviceKey,
      reason,
      action,
      client: `${conn.clientIp}:${conn.clientPort}`,
      ...(conn.target ? { endpoint: conn.target } : {}),
      ...(error ? { error } : {}),
    });
  }

  private release(conn: Connection): void {
    if (conn.held) this.ctx.clock.clearTimeout(conn.held.timer);
    this.hung.delete(conn);
    this.denied.delete(conn);
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
