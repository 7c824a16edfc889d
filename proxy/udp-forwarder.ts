/**
 * UDP forwarding: a session per client ip:port per listener, as conntrack keeps one.
 *
 * The first datagram routes and picks an endpoint (affinity applies); the session is a UdpFlow
 * (dataplane/base/net/udp-flow.ts): an upstream socket bound to the SNAT source and connected to
 * the endpoint, whose replies go out through the listener socket — from the service address, as
 * the client expects — with conntrack's idle timeout (default 30 s); an idle session is dropped
 * and the next datagram starts a new one. An ICMP "port unreachable" from the endpoint
 * (ECONNREFUSED on the connected socket) ends the session and the client's next session skips
 * its sticky endpoint, as a failed TCP attempt does.
 * Sessions to an endpoint that left are flushed on sync, as kube-proxy clears UDP conntrack.
 * A datagram to a LoadBalancer IP from outside its loadBalancerSourceRanges is dropped (counted
 * as source_range_denied, logged at debug) and opens no session; the next one is checked again.
 * A session opened before the ranges changed keeps going, as its conntrack entry would.
 */
import type dgram from 'node:dgram';
import type { Clock } from '../dataplane/base/clock.js';
import type { Logger } from '../dataplane/base/log.js';
import type { PolicyEnforcer } from '../dataplane/base/netpol/enforcer.js';
import { UdpFlow } from '../dataplane/base/net/udp-flow.js';
import type { EndpointChooser } from './endpoint-choice.js';
import type { ListenerSpec } from './frontends.js';
import type { ProxyMetrics } from './metrics.js';
import { endpointId, type EndpointInfo } from './service-table.js';

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
  serviceKey: string;
  endpoint: EndpointInfo;
  flow: UdpFlow;
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
        existing.flow.send(msg);
        return;
      }
      this.open(listener, sessions, spec(), key, rinfo.address, rinfo.port, msg);
    });
  }

  /** Closes a listener's sessions (the listener itself is closed by its owner). */
  detach(listener: dgram.Socket): void {
    const sessions = this.sessions.get(listener);
    if (!sessions) return;
    for (const s of sessions.values()) s.flow.close();
    this.sessions.delete(listener);
  }

  /** Drops sessions whose service port or endpoint is gone. */
  prune(isLive: (serviceKey: string, endpoint: string) => boolean): void {
    for (const sessions of this.sessions.values()) {
      for (const s of sessions.values()) if (!isLive(s.serviceKey, endpointId(s.endpoint))) s.flow.close();
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

    const tally = this.ctx.metrics.service(spec.serviceKey, 'UDP');
    const session: Session = {
      key,
      serviceKey: spec.serviceKey,
      endpoint: ep,
      flow: new UdpFlow(first, {
        source: route.sourceAddress,
        endpoint: ep,
        idleTimeoutMs: this.ctx.idleTimeoutMs,
        clock: this.ctx.clock,
        tally,
        reply: (reply) => listener.send(reply, clientPort, clientAddress, () => {}),
        failed: (err) => {
          this.ctx.log.debug('udp session failed', { service: spec.serviceKey, client: key, endpoint: endpointId(ep), error: err.code ?? err.message });
          this.ctx.metrics.endpointFailures.inc({ service: spec.serviceKey, endpoint: endpointId(ep), pod: ep.podName ?? '' });
          this.failedClients.add(failedKey);
        },
        closed: () => {
          if (sessions.get(key) === session) sessions.delete(key);
          tally.active--;
        },
      }),
    };
    sessions.set(key, session);
    tally.connections++;
    tally.active++;
    this.ctx.metrics.servedBy(spec.serviceKey, ep);
    this.ctx.log.debug('udp session', { service: spec.serviceKey, client: key, endpoint: endpointId(ep), pod: ep.podName, source: route.sourceAddress });
  }
}
