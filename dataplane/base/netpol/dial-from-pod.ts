/**
 * Connections knet opens on a pod's behalf — agnhost's `/dial`, commands run in a pod's
 * simulated shell (`kubectl exec … -- wget`), anything that speaks as a pod — go through
 * `dialFromPod`: bound to the pod IP (DESIGN §1), and subject to NetworkPolicy as the pod's own
 * packets would be: the pod's egress and the destination's ingress, by PolicyEnforcer.allows.
 *
 *  - TCP: returns a `net.Socket`. Denied, it is a socket whose SYN was dropped: it stays
 *    `connecting`, never emits 'connect', buffers what is written, and the caller's own timeout
 *    fires (after ~127 s, Linux's SYN retry limit, it fails with ETIMEDOUT as connect(2) would).
 *  - UDP: returns a `dgram.Socket` bound to the pod IP and connecting to the destination (send
 *    once it emits 'connect'); denied, every datagram it sends is dropped (its callback still
 *    says sent, as the kernel's would).
 *
 * A destination kube-proxy or the ingress controller answers for (a ClusterIP, a
 * LoadBalancer IP, a NodePort on a node IP) is not decided here: the policy applies to the pod
 * it is forwarded to, after DNAT, and the proxy decides then (proxy/README.md). The cluster DNS
 * at kube-dns's ClusterIP is a pod here (system-peers.ts), so egress rules to port 53 apply.
 * `host` is an address: names are the caller's to resolve (through the cluster DNS, whose
 * query is itself the pod's egress to kube-dns).
 */
import net from 'node:net';
import dgram from 'node:dgram';
import type { PolicyEnforcer } from './enforcer.js';
import type { Protocol } from './peer.js';

/** What connect(2) waits for a SYN that is never answered (tcp_syn_retries = 6). */
export const SYN_TIMEOUT_MS = 127_000;

export interface DialOptions {
  /** True for addresses a proxy forwards (ClusterIPs, LoadBalancer IPs, NodePorts): decided after DNAT. */
  proxied?: (ip: string, port: number) => boolean;
}

export function dialFromPod(enforcer: PolicyEnforcer | undefined, podIp: string, host: string, port: number, protocol?: 'TCP', opts?: DialOptions): net.Socket;
export function dialFromPod(enforcer: PolicyEnforcer | undefined, podIp: string, host: string, port: number, protocol: 'UDP', opts?: DialOptions): dgram.Socket;
export function dialFromPod(enforcer: PolicyEnforcer | undefined, podIp: string, host: string, port: number, protocol: Protocol = 'TCP', opts: DialOptions = {}): net.Socket | dgram.Socket {
  if (net.isIPv4(host) === false) throw new Error(`dialFromPod: ${JSON.stringify(host)} is not an IPv4 address (resolve names first)`);
  const decided = !opts.proxied?.(host, port);
  const allowed = !enforcer || !decided || enforcer.allows(podIp, host, port, protocol);
  return protocol === 'UDP' ? openFromPod(podIp, host, port, 'UDP', allowed) : openFromPod(podIp, host, port, 'TCP', allowed);
}

/**
 * The socket of a connection from `podIp` whose policy verdict is already made: the one place
 * that binds to the pod IP and turns a denial into a dropped SYN or dropped datagrams. The
 * simulated shell (node/shell/dial-from-pod.ts) asks its own egress check and opens here too.
 */
export function openFromPod(podIp: string, host: string, port: number, protocol: 'TCP', allowed: boolean): net.Socket;
export function openFromPod(podIp: string, host: string, port: number, protocol: 'UDP', allowed: boolean): dgram.Socket;
export function openFromPod(podIp: string, host: string, port: number, protocol: Protocol, allowed: boolean): net.Socket | dgram.Socket {
  if (protocol === 'UDP') return datagramSocket(podIp, host, port, allowed);
  if (protocol !== 'TCP') throw new Error(`dialFromPod: protocol ${protocol} is not supported`);
  if (allowed) return net.connect({ host, port, localAddress: podIp, family: 4 });
  return droppedSynSocket(host, port);
}

/**
 * A socket whose SYN is never answered, for a connection a policy denies (here, the ingress
 * controller's upstream connections): `connecting` for good, writes buffered, no 'connect'.
 */
export function droppedSynSocket(host: string, port: number): net.Socket {
  const socket = new net.Socket();
  // Writes made while connecting wait for 'connect' (net.Socket's own buffering): it never comes.
  (socket as { connecting: boolean }).connecting = true;
  const timer = setTimeout(() => {
    const err = Object.assign(new Error(`connect ETIMEDOUT ${host}:${port}`), { code: 'ETIMEDOUT', errno: -110, syscall: 'connect', address: host, port });
    socket.destroy(err);
  }, SYN_TIMEOUT_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  return socket;
}

function datagramSocket(podIp: string, host: string, port: number, allowed: boolean): dgram.Socket {
  const sock = dgram.createSocket('udp4');
  sock.bind({ address: podIp, port: 0 });
  // Queued by dgram until the bind is done; 'connect' follows.
  sock.connect(port, host);
  if (!allowed) {
    // Dropped on the way, as a denied datagram is: the sender cannot tell.
    const drop = (...args: unknown[]) => {
      const cb = args.find((a): a is (err: Error | null, bytes: number) => void => typeof a === 'function');
      if (cb) queueMicrotask(() => cb(null, 0));
    };
    sock.send = drop as typeof sock.send;
  }
  return sock;
}
