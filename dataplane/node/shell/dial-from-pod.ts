/**
 * dialFromPod: THE way a pod of an emulated image opens a connection — every TCP connection
 * and UDP socket of the simulated shell's commands (curl, wget, nc, nslookup, dig, host and
 * the name resolution behind them) comes from here. The socket is bound to the pod's IP, so
 * the far end, kube-proxy's session affinity and traffic policies see the pod (DESIGN §1).
 *
 * NetworkPolicy egress plugs in here and nowhere else: `PodEndpoint.egress` is asked before
 * anything is sent, and the socket comes from base/netpol's openFromPod (the same one agnhost's
 * /dial uses): a denied connection behaves like a dropped SYN (the connect times out), a denied
 * datagram is dropped (a DNS query then times out), as with a CNI's policy.
 *
 * The cluster DNS is the one address that is rewritten: it answers on its Service IP, port 53
 * in the pods' resolv.conf, but on whatever port knet could bind (5353 without privilege).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { openFromPod, SYN_TIMEOUT_MS } from '../../base/netpol/dial-from-pod.js';

export type DialProtocol = 'TCP' | 'UDP';

export interface EgressVerdict {
  allowed: boolean;
  /** Why not (for logs and `nc -v`). */
  reason?: string;
}

/** NetworkPolicy's egress check for one connection the pod opens (e.g. PolicyWorld.check). */
/**
 * The pod's egress toward a destination. `source.podIP` is the address the connection leaves
 * from: the pod object may be the one the node started, whose status had no IP yet.
 */
export type EgressCheck = (source: { pod: Pod; podIP: string }, destination: { ip: string; port: number; protocol: DialProtocol }) => EgressVerdict;

export interface PodEndpoint {
  pod: Pod;
  podIP: string;
  egress?: EgressCheck;
  /** Where the cluster DNS really listens (its Service IP answers on this port instead of 53). */
  dns?: { ip: string; port: () => number };
}

export interface DialOptions {
  /** Connect timeout (TCP) in ms; default what Linux's SYN retries give (127 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class DialError extends Error {
  constructor(
    readonly code: 'ECONNREFUSED' | 'ETIMEDOUT' | 'EHOSTUNREACH' | 'EADDRNOTAVAIL' | 'ECONNRESET' | 'ENETUNREACH' | 'EABORTED' | 'EOTHER',
    message: string,
  ) {
    super(message);
  }
}

/** The connection a pod opens to address:port (an IP: names are resolved before, pod-resolver.ts). */
export function dialFromPod(src: PodEndpoint, address: string, port: number, protocol: 'TCP', opts?: DialOptions): Promise<net.Socket>;
export function dialFromPod(src: PodEndpoint, address: string, port: number, protocol: 'UDP', opts?: DialOptions): Promise<dgram.Socket>;
export function dialFromPod(src: PodEndpoint, address: string, port: number, protocol: DialProtocol, opts: DialOptions = {}): Promise<net.Socket | dgram.Socket> {
  const verdict = src.egress?.(src, { ip: address, port, protocol }) ?? { allowed: true };
  const realPort = src.dns && address === src.dns.ip && port === 53 ? src.dns.port() : port;
  return protocol === 'TCP' ? dialTcp(src.podIP, address, realPort, verdict, opts) : dialUdp(src.podIP, address, realPort, verdict);
}

function dialTcp(local: string, address: string, port: number, verdict: EgressVerdict, opts: DialOptions): Promise<net.Socket> {
  const timeoutMs = opts.timeoutMs ?? SYN_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    // Denied by policy, the socket's SYN is never answered: the timeout below ends it.
    const socket = openFromPod(local, address, port, 'TCP', verdict.allowed);
    let settled = false;
    const finish = (err: DialError | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve(socket);
    };
    const onAbort = () => finish(new DialError('EABORTED', 'aborted'));
    const onError = (err: NodeJS.ErrnoException) => finish(dialErrorOf(err));
    const timer = setTimeout(() => finish(new DialError('ETIMEDOUT', 'Connection timed out')), timeoutMs);
    opts.signal?.addEventListener('abort', onAbort);
    socket.once('connect', () => finish(undefined));
    socket.once('error', onError);
  });
}

function dialUdp(local: string, address: string, port: number, verdict: EgressVerdict): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const sock = openFromPod(local, address, port, 'UDP', verdict.allowed);
    const onError = (err: NodeJS.ErrnoException) => {
      sock.close();
      reject(dialErrorOf(err));
    };
    sock.once('error', onError);
    sock.once('connect', () => {
      sock.removeListener('error', onError);
      sock.on('error', () => {});
      resolve(sock);
    });
  });
}

function dialErrorOf(err: NodeJS.ErrnoException): DialError {
  switch (err.code) {
    case 'ECONNREFUSED': return new DialError('ECONNREFUSED', 'Connection refused');
    case 'ETIMEDOUT': return new DialError('ETIMEDOUT', 'Connection timed out');
    case 'EHOSTUNREACH': return new DialError('EHOSTUNREACH', 'No route to host');
    case 'ENETUNREACH': return new DialError('ENETUNREACH', 'Network is unreachable');
    case 'EADDRNOTAVAIL': return new DialError('EADDRNOTAVAIL', 'Cannot assign requested address');
    case 'ECONNRESET': return new DialError('ECONNRESET', 'Connection reset by peer');
    default: return new DialError('EOTHER', err.message);
  }
}
