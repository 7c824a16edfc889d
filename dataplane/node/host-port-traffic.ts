/**
 * What a host port does with what arrives on it: the DNAT of portmap, done by a userspace NAT
 * with the proxy's own parts (dataplane/base/net/: `connectUpstream` + `splice` for TCP,
 * `UdpFlow` for UDP), toward `<pod IP>:<containerPort>` from the source host-ports.ts decides
 * (the client's own address, the node IP for the node's pods).
 *
 * NetworkPolicy is checked before anything reaches the pod, as a CNI applies it after the DNAT:
 * the client's egress toward the pod and the pod's ingress from the source it will see
 * (PolicyEnforcer.allows with `seenAs`, as the proxy checks a NodePort). A denied TCP connection
 * is held silent as a dropped SYN (base/netpol/silent-hold.ts: never read, never answered) and
 * connected when a policy change allows it, as the client's next SYN would get through; a denied
 * datagram is dropped.
 *
 * Once connected it behaves as the proxy's spliced connections do: half-close passes, a reset or
 * socket error on one side resets the other. A pod that does not listen on the port refuses the
 * connect: the accepted client is reset (a DNAT'd SYN would have been refused).
 */
import type net from 'node:net';
import type dgram from 'node:dgram';
import type { Clock } from '../base/clock.js';
import type { Logger } from '../base/log.js';
import { plainIp } from '../base/net/ip.js';
import { connectUpstream, endpointReader, splice, type ByteTally } from '../base/net/splice.js';
import { UdpFlow } from '../base/net/udp-flow.js';
import type { Protocol } from '../base/netpol/peer.js';
import type { PodNetpol } from './runtime/pod-ingress.js';
import { hostPortSource, type HostPortForward, type HostPortNode } from './host-ports.js';

/** A forward's counts: connections (TCP) and flows (UDP) forwarded to the pod, bytes each way. */
export interface HostPortTally extends ByteTally {
  connections: number;
}

export interface HostPortTrafficOptions {
  node: HostPortNode;
  /** The node agent's NetworkPolicy enforcement; without it everything passes. */
  netpol?: PodNetpol;
  log: Logger;
  /** UDP flows' idle timers. */
  clock: Clock;
  udpIdleTimeoutMs: number;
  /** The counts of a forward (kept by the forwarder, read at scrape time). */
  tally(f: HostPortForward): HostPortTally;
}

export class HostPortTraffic {
  /** Every socket of a forwarded TCP connection, both sides, destroyed at close. */
  private readonly sockets = new Set<net.Socket>();
  private readonly flows = new Map<dgram.Socket, Map<string, UdpFlow>>();

  constructor(private readonly o: HostPortTrafficOptions) {}

  /** A client accepted paused (`pauseOnConnect`) on the forward's listener. */
  acceptTcp(client: net.Socket, f: HostPortForward): void {
    const clientIp = plainIp(client.remoteAddress);
    const source = hostPortSource(clientIp, this.o.node);
    this.track(client);
    if (this.allowed(clientIp, source, f, 'TCP')) return this.connect(client, f, source);
    const { enforcer, hold } = this.o.netpol!;
    this.o.log.debug('host port: connection held (NetworkPolicy)', { pod: f.pod, listener: f.id, client: clientIp, seenAs: source });
    hold.hold(
      client,
      () => enforcer.wouldAllow(clientIp, f.podIP, f.containerPort, 'TCP') && enforcer.wouldAllow(source, f.podIP, f.containerPort, 'TCP'),
      (socket) => this.connect(socket, f, source),
    );
  }

  /** Serves a bound UDP listener of a forward; `forward()` gives its current forward. */
  attachUdp(listener: dgram.Socket, forward: () => HostPortForward): void {
    const flows = new Map<string, UdpFlow>();
    this.flows.set(listener, flows);
    listener.on('message', (msg, rinfo) => {
      const key = `${rinfo.address}:${rinfo.port}`;
      const existing = flows.get(key);
      if (existing) return existing.send(msg);
      const f = forward();
      const clientIp = plainIp(rinfo.address);
      const source = hostPortSource(clientIp, this.o.node);
      // Denied: dropped, and the next datagram is checked again (no flow is kept).
      if (!this.allowed(clientIp, source, f, 'UDP')) return;
      const tally = this.o.tally(f);
      tally.connections++;
      const flow: UdpFlow = new UdpFlow(msg, {
        source,
        endpoint: { ip: f.podIP, port: f.containerPort },
        idleTimeoutMs: this.o.udpIdleTimeoutMs,
        clock: this.o.clock,
        tally,
        reply: (reply) => listener.send(reply, rinfo.port, rinfo.address, () => {}),
        closed: () => {
          if (flows.get(key) === flow) flows.delete(key);
        },
      });
      flows.set(key, flow);
      this.o.log.debug('host port: udp flow', { pod: f.pod, listener: f.id, client: key, seenAs: source });
    });
  }

  /** The listener closes: its flows end with it (the pod is gone, as portmap clears UDP conntrack). */
  detachUdp(listener: dgram.Socket): void {
    for (const flow of this.flows.get(listener)?.values() ?? []) flow.close();
    this.flows.delete(listener);
  }

  closeAll(): void {
    for (const listener of [...this.flows.keys()]) this.detachUdp(listener);
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private allowed(clientIp: string, source: string, f: HostPortForward, protocol: Protocol): boolean {
    const netpol = this.o.netpol;
    return !netpol || netpol.enforcer.allows(clientIp, f.podIP, f.containerPort, protocol, source);
  }

  private connect(client: net.Socket, f: HostPortForward, source: string): void {
    const tally = this.o.tally(f);
    const down = endpointReader(client, tally);
    const upstream = connectUpstream({ host: f.podIP, port: f.containerPort }, source, down);
    this.track(upstream);
    let spliced = false;
    upstream.once('error', (err: NodeJS.ErrnoException) => {
      if (spliced) return;
      this.o.log.debug('host port: the pod refused the connection', { pod: f.pod, to: `${f.podIP}:${f.containerPort}`, error: err.code ?? err.message });
      client.resetAndDestroy();
    });
    client.on('error', () => {
      // A client reset or failing resets the pod's side; one still connecting is dropped.
      if (upstream.destroyed) return;
      if (spliced) upstream.resetAndDestroy();
      else upstream.destroy();
    });
    client.once('close', () => {
      // Flush what the client sent, then go; nothing can reach the client any more.
      if (upstream.destroyed) return;
      if (spliced) upstream.destroySoon();
      else upstream.destroy();
    });
    upstream.once('connect', () => {
      if (client.destroyed) return void upstream.destroy();
      spliced = true;
      tally.connections++;
      upstream.on('error', () => {
        if (!client.destroyed) client.resetAndDestroy();
      });
      upstream.once('close', () => {
        // After a clean close both directions have ended already.
        if (!client.destroyed) client.destroySoon();
      });
      splice(client, upstream, tally, down);
    });
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}
