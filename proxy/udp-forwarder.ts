/**
 * UDP forwarding: a session per client ip:port per listener, as conntrack keeps one.
 *
 * The first datagram routes and picks an endpoint (affinity applies); the session's upstream
 * socket is bound to the SNAT source and connected to the endpoint, so replies come back to
 * it and go out through the listener socket — from the service address, as the client expects.
 * Every datagram either way refreshes an idle timer (default 30 s, conntrack's UDP timeout);
 * an idle session is dropped and the next datagram starts a new one. An ICMP "port
 * unreachable" from the endpoint (ECONNREFUSED on the connected socket) ends the session and
 * the client's next session skips its sticky endpoint, as a failed TCP attempt does.
 * Sessions to an endpoint that left are flushed on sync, as kube-proxy clears UDP conntrack.
 * A datagram to a LoadBalancer IP from outside its loadBalancerSourceRanges is dropped (counted
 * as source_range_denied, logged at debug) and opens no session; the next one is checked again.
 * A session opened before the ranges changed keeps going, as its conntrack entry would.
 */
import dgram from 'node:dgram';
import type { Clock, ClockTimer } from '../dataplane/base/clock.js';
import type { Logger } from '../dataplane/base/log.js';
import type { PolicyEnforcer } from '../dataplane/base/netpol/enforcer.js';
import type { EndpointChooser } from './endpoint-choice.js';
import type { ListenerSpec } from './frontends.js';
import type { ProxyMetrics, ServiceTally } from './metrics.js';
import { endpointId, type EndpointInfo } from './service-table.js';

export const DEFAULT_UDP_IDLE_TIMEOUT_MS = 30_000;
const MAX_QUEUED = 64;
const MAX_REMEMBERED_FAILURES = 1024;

export interface UdpContext {
  chooser: EndpointChooser;
  metrics: ProxyMetrics;
  log: Logger;
  idleTimeoutMs: number;
  /** Affinity records and the sessions' idle timers. */
  clock: Clock;
  /** NetworkPolicy: a session is opened only to an endpoint the client may reach. */
  netpol?: PolicyEnforcer;
}

interface Session {
  key: string;
  clientAddress: string;
  clientPort: number;
  serviceKey: string;
  endpoint: EndpointInfo;
  upstream: dgram.Socket;
  timer: ClockTimer;
  tally: ServiceTally;
  /** Datagrams that arrived before the upstream socket was connected. */
  queue: Buffer[] | undefined;
  closed: boolean;
}

export class UdpForwarder {
  private readonly sessions = new Map<dgram.Socket, Map<string, Session>>();
  /** Clients whose last session failed: their next session skips the sticky endpoint. */
  private readonly failedClients = new Set<string>();

  constructor(private readonly ctx: UdpContext) {}

  get size(): number {
    let n = 0;
    for (const m of this.sessions.values()) n += m.size;
    return n;
  }

  /** Starts serving a bound listener socket; spec() gives the listener's current spec. */
  attach(listener: dgram.Socket, spec: () => ListenerSpec): void {
    const sessions = new Map<string, Session>();
    this.sessions.set(listener, sessions);
    listener.on('message', (msg, rinfo) => {
      const key = `${rinfo.address}:${rinfo.port}`;
      const existing = sessions.get(key);
      if (existing) {
        this.toEndpoint(existing, msg);
        return;
      }
      this.open(listener, sessions, spec(), key, rinfo.address, rinfo.port, msg);
    });
  }

  /** Closes a listener's sessions (the listener itself is closed by its owner). */
  detach(listener: dgram.Socket): void {
    const sessions = this.sessions.get(listener);
    if (!sessions) return;
    for (const s of sessions.values()) this.close(sessions, s);
    this.sessions.delete(listener);
  }

  /** Drops sessions whose service port or endpoint is gone. */
  prune(isLive: (serviceKey: string, endpoint: string) => boolean): void {
    for (const sessions of this.sessions.values()) {
      for (const s of sessions.values()) if (!isLive(s.serviceKey, endpointId(s.endpoint))) this.close(sessions, s);
    }
    if (this.failedClients.size > MAX_REMEMBERED_FAILURES) this.failedClients.clear();
  }

  destroyAll(): void {
    for (const listener of [...this.sessions.keys()]) this.detach(listener);
    this.failedClients.clear();
  }

  private open(listener: dgram.Socket, sessions: Map<string, Session>, spec: ListenerSpec, key: string, clientAddress: string, clientPort: number, first: Buffer): void {
    const frontend = spec.node ? { role: spec.role, node: spec.node } : { role: spec.role };
    const route = this.ctx.chooser.route(spec.serviceKey, frontend, clientAddress);
    if (route.action !== 'forward') {
      // No ICMP from userspace: a rejected or held datagram is dropped.
      const reason = route.action === 'reject' ? 'no_endpoints' : route.action === 'hang' ? 'no_local_endpoints' : 'source_range_denied';
      this.ctx.metrics.failed.inc({ service: spec.serviceKey, reason });
      if (route.action === 'drop') this.ctx.log.debug('dropped a datagram', { service: spec.serviceKey, client: key, reason: route.reason });
      return;
    }
    const failedKey = `${spec.id}|${key}`;
    const retry = this.failedClients.delete(failedKey);
    const ep = this.ctx.chooser.choose(spec.serviceKey, route, clientAddress, this.ctx.clock.now(), retry);
    if (!ep) return;
    // The client's egress toward the pod and the pod's ingress from the source it sees (after
    // SNAT): a denied datagram is dropped, and the next one is checked again (no session).
    if (this.ctx.netpol && !this.ctx.netpol.allows(clientAddress, ep.ip, ep.port, 'UDP', route.sourceAddress)) {
      this.ctx.metrics.failed.inc({ service: spec.serviceKey, reason: 'policy_denied' });
      return;
    }

    const upstream = dgram.createSocket({ type: 'udp4' });
    const session: Session = {
      key,
      clientAddress,
      clientPort,
      serviceKey: spec.serviceKey,
      endpoint: ep,
      upstream,
      timer: this.ctx.clock.setTimeout(() => this.close(sessions, session), this.ctx.idleTimeoutMs),
      tally: this.ctx.metrics.service(spec.serviceKey, 'UDP'),
      queue: [first],
      closed: false,
    };
    sessions.set(key, session);
    session.tally.connections++;
    session.tally.active++;
    this.ctx.metrics.servedBy(spec.serviceKey, ep);
    this.ctx.log.debug('udp session', { service: spec.serviceKey, client: key, endpoint: endpointId(ep), pod: ep.podName, source: route.sourceAddress });

    upstream.on('error', (err: NodeJS.ErrnoException) => {
      this.ctx.log.debug('udp session failed', { service: spec.serviceKey, client: key, endpoint: endpointId(ep), error: err.code ?? err.message });
      this.ctx.metrics.endpointFailures.inc({ service: spec.serviceKey, endpoint: endpointId(ep), pod: ep.podName ?? '' });
      this.failedClients.add(failedKey);
      this.close(sessions, session);
    });
    upstream.on('message', (reply) => {
      if (session.closed) return;
      session.timer.refresh();
      session.tally.bytesOut += reply.length;
      listener.send(reply, clientPort, clientAddress, () => {});
    });
    upstream.bind({ address: route.sourceAddress, port: 0 }, () => {
      if (session.closed) return;
      upstream.connect(ep.port, ep.ip, () => {
        if (session.closed) return;
        const queued = session.queue ?? [];
        session.queue = undefined;
        for (const msg of queued) this.send(session, msg);
      });
    });
  }

  private toEndpoint(s: Session, msg: Buffer): void {
    s.timer.refresh();
    if (s.queue) {
      if (s.queue.length < MAX_QUEUED) s.queue.push(msg);
      return;
    }
    this.send(s, msg);
  }

  private send(s: Session, msg: Buffer): void {
    s.tally.bytesIn += msg.length;
    s.upstream.send(msg, () => {});
  }

  private close(sessions: Map<string, Session>, s: Session): void {
    if (s.closed) return;
    s.closed = true;
    this.ctx.clock.clearTimeout(s.timer);
    if (sessions.get(s.key) === s) sessions.delete(s.key);
    s.tally.active--;
    try {
      s.upstream.close();
    } catch {
      // Already closed by a failed bind.
    }
  }
}
