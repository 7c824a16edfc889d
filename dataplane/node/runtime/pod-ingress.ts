/**
 * NetworkPolicy at an emulated pod's own sockets: every TCP connection is checked at accept and
 * every UDP datagram on arrival, by the peer's address, through the node agent's PolicyEnforcer
 * (the source's egress and the pod's ingress, as base/netpol decides them).
 *
 * TCP: the pod's listener is a plain `net.Server` that accepts paused (`pauseOnConnect`), so
 * no byte of a connection is read before its verdict. An allowed connection is handed to the
 * image's server (HTTP, HTTPS, raw TCP) as the 'connection' it would have accepted itself; a
 * denied one is held silent (base/netpol/silent-hold.ts) and handed on later if a policy change
 * allows it, as a retransmitted SYN would get through. A denied datagram is dropped.
 */
import net from 'node:net';
import type { PolicyEnforcer } from '../../base/netpol/enforcer.js';
import type { SilentHold } from '../../base/netpol/silent-hold.js';
import type { Protocol } from '../../base/netpol/peer.js';
import { plainIp } from '../../base/net/ip.js';

/** The node agent's policy enforcement, shared by its pods. */
export interface PodNetpol {
  enforcer: PolicyEnforcer;
  hold: SilentHold;
  /** Addresses a proxy answers for, decided after DNAT (base/netpol/system-peers.ts). */
  proxied: (ip: string, port: number) => boolean;
}

/** Wraps a server of a pod's image so the pod's listener on `podIP:port` admits per policy. */
export type ListenerGate = (target: net.Server, port: number) => net.Server;

/** A gate for one pod; without a PodNetpol (no enforcement configured) the image's server listens itself. */
export function podListenerGate(podIP: string, netpol: PodNetpol | undefined, track?: (s: net.Socket) => void): ListenerGate {
  if (!netpol) return (target) => target;
  const { enforcer, hold } = netpol;
  return (target, port) => {
    const handOver = (socket: net.Socket) => {
      target.emit('connection', socket);
      socket.resume();
    };
    const listener = net.createServer({ pauseOnConnect: true }, (socket) => {
      track?.(socket);
      const peer = plainIp(socket.remoteAddress);
      if (enforcer.allows(peer, podIP, port, 'TCP')) return handOver(socket);
      hold.hold(socket, () => enforcer.wouldAllow(peer, podIP, port, 'TCP'), handOver);
    });
    // The image's server is not listening itself: closing the listener closes it too.
    listener.on('close', () => target.close());
    return listener;
  };
}

/** Whether a datagram from `peerIp` to the pod's `port` passes; a denied one is counted and dropped. */
export function admitsDatagram(podIP: string, netpol: PodNetpol | undefined, peerIp: string, port: number, protocol: Protocol = 'UDP'): boolean {
  return !netpol || netpol.enforcer.allows(plainIp(peerIp), podIP, port, protocol);
}
