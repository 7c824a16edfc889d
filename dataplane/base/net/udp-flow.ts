/**
 * One UDP flow of a userspace NAT, as a conntrack entry keeps one: an upstream socket bound to
 * the source address the endpoint must see (the SNAT decision; all of 127.0.0.0/8 is local, so
 * a client's own address can be bound) and connected to the endpoint, so its replies come back
 * to this socket and the owner sends them out through its listener — from the address the
 * client sent to, as the client expects.
 *
 * Datagrams that arrive before the upstream socket is connected wait (up to 64). Every datagram
 * either way refreshes an idle timer (conntrack's UDP timeout); an idle flow closes. An ICMP
 * "port unreachable" from the endpoint (ECONNREFUSED on the connected socket) ends the flow.
 *
 * Shared by the proxy's Service forwarding (proxy/udp-forwarder.ts) and the node agent's host
 * ports (dataplane/node/host-port-forwarder.ts).
 */
import dgram from 'node:dgram';
import type { Clock, ClockTimer } from '../clock.js';
import type { ByteTally } from './splice.js';

/** conntrack's UDP timeout (net.netfilter.nf_conntrack_udp_timeout, 30 s). */
export const DEFAULT_UDP_IDLE_TIMEOUT_MS = 30_000;
const MAX_QUEUED = 64;

export interface UdpFlowOptions {
  /** The local address of the upstream socket: the source the endpoint sees. */
  source: string;
  endpoint: { ip: string; port: number };
  idleTimeoutMs: number;
  /** The idle timer's clock (tests pass a fake one). */
  clock: Clock;
  /** Bytes each way: bytesIn client → endpoint, bytesOut back. */
  tally: ByteTally;
  /** A datagram from the endpoint, to be sent to the client. */
  reply(msg: Buffer): void;
  /** The upstream socket failed (ECONNREFUSED: nothing listens there); the flow closes next. */
  failed?(err: NodeJS.ErrnoException): void;
  /** The flow ended — idle, failed or closed by its owner — once. */
  closed?(): void;
}

export class UdpFlow {
  private readonly upstream = dgram.createSocket({ type: 'udp4' });
  private readonly timer: ClockTimer;
  /** Datagrams that arrived before the upstream socket was connected. */
  private queue: Buffer[] | undefined;
  private done = false;

  /** Opens the flow with its first datagram. */
  constructor(
    first: Buffer,
    private readonly o: UdpFlowOptions,
  ) {
    this.queue = [first];
    this.timer = o.clock.setTimeout(() => this.close(), o.idleTimeoutMs);
    const { upstream } = this;
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (this.done) return;
      o.failed?.(err);
      this.close();
    });
    upstream.on('message', (reply) => {
      if (this.done) return;
      this.timer.refresh();
      o.tally.bytesOut += reply.length;
      o.reply(reply);
    });
    upstream.bind({ address: o.source, port: 0 }, () => {
      if (this.done) return;
      upstream.connect(o.endpoint.port, o.endpoint.ip, () => {
        if (this.done) return;
        const queued = this.queue ?? [];
        this.queue = undefined;
        for (const msg of queued) this.forward(msg);
      });
    });
  }

  get closed(): boolean {
    return this.done;
  }

  /** A datagram from the client, toward the endpoint. */
  send(msg: Buffer): void {
    if (this.done) return;
    this.timer.refresh();
    if (this.queue) {
      if (this.queue.length < MAX_QUEUED) this.queue.push(msg);
      return;
    }
    this.forward(msg);
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.o.clock.clearTimeout(this.timer);
    try {
      this.upstream.close();
    } catch {
      // Already closed by a failed bind.
    }
    this.o.closed?.();
  }

  private forward(msg: Buffer): void {
    this.o.tally.bytesIn += msg.length;
    this.upstream.send(msg, () => {});
  }
}
