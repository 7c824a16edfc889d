/**
 * One forwarded connection into a pod, as the kubelet's PortForward makes it for each stream
 * (kubelet cri/streaming/portforward; the CRI dials the port inside the pod): a TCP connection
 * to the pod's port carrying the stream's bytes both ways, each direction's end passed on as a
 * half-close, and a failure worded as the kubelet words it for the stream's error channel:
 *
 *   error forwarding port 80 to pod web-1, uid 1c2…: dial tcp4 127.244.1.5:80: connect: connection refused
 *
 * knet's pods are real listeners on their pod IP, so the connection goes straight there. It
 * comes from 127.0.0.1, the address a forwarded connection has inside a pod in a cluster (the
 * kubelet dials the pod's localhost). `knet port-forward` and the apiserver's
 * `pods/portforward` both forward through here.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Pod } from 'kubernetes-types/core/v1.js';

export interface PodForward {
  /** Settles when the connection is over, either way (never rejects). */
  done: Promise<void>;
  /** Ends it at once (the stream's peer went away, the pod is gone). */
  close(): void;
}

/** Go's wording of a dial or copy error (what kubectl users see in the kubelet's message). */
export function socketErrorText(e: NodeJS.ErrnoException, ip: string, port: number, network: 'tcp' | 'tcp4' = 'tcp4'): string {
  const dial = `dial ${network} ${ip}:${port}: connect: `;
  switch (e.code) {
    case 'ECONNREFUSED':
      return `${dial}connection refused`;
    case 'ETIMEDOUT':
      return `${dial}connection timed out`;
    case 'EHOSTUNREACH':
      return `${dial}no route to host`;
    case 'ENETUNREACH':
      return `${dial}network is unreachable`;
    case 'EADDRNOTAVAIL':
      return `${dial}cannot assign requested address`;
    case 'ECONNRESET':
      return `read ${network} 127.0.0.1->${ip}:${port}: read: connection reset by peer`;
    case 'EPIPE':
      return `write ${network} 127.0.0.1->${ip}:${port}: write: broken pipe`;
    default:
      return e.message;
  }
}

/** The kubelet's message for a failed forward. */
export function forwardErrorText(pod: Pod, port: number, cause: string): string {
  return `error forwarding port ${port} to pod ${pod.metadata?.name ?? ''}, uid ${pod.metadata?.uid ?? ''}: ${cause}`;
}

/** Why a pod cannot take forwarded connections now (undefined: it can). */
export function notForwardable(pod: Pod): string | undefined {
  if (!pod.status?.podIP) return `pod ${pod.metadata?.name ?? ''} has no IP address yet (phase ${pod.status?.phase ?? 'Pending'})`;
  if (pod.status.phase !== 'Running') return `pod ${pod.metadata?.name ?? ''} is not running (phase ${pod.status.phase ?? 'Pending'})`;
  return undefined;
}

/**
 * Connects `stream` to `port` on `pod`. `onError` gets the kubelet's message when the
 * connection cannot be made or breaks; the stream is ended (not destroyed) when the pod ends
 * its side, and the caller closes it when `done` settles.
 */
export function forwardToPod(pod: Pod, port: number, stream: Duplex, onError: (message: string) => void): PodForward {
  let settle!: () => void;
  const done = new Promise<void>((resolve) => (settle = resolve));
  const refusal = notForwardable(pod);
  if (refusal) {
    stream.on('error', () => {});
    onError(forwardErrorText(pod, port, refusal));
    settle();
    return { done, close: () => {} };
  }
  const ip = pod.status!.podIP!;
  // From the pod's node, as the kubelet forwards on a cluster: NetworkPolicy always lets a
  // pod's own node in (probes do the same), so a forward reaches an isolated pod there too,
  // where a cluster's forwarded traffic enters through the pod's loopback and no policy sees it.
  const hostIP = pod.status?.hostIP;
  const conn = net.connect({ host: ip, port, allowHalfOpen: true, ...(hostIP && hostIP !== ip ? { localAddress: hostIP } : {}) });
  // A stream error (its peer reset it) ends the forward; the listener keeps it from throwing.
  stream.on('error', () => conn.destroy());
  let connected = false;
  let over = false;
  const finish = () => {
    if (over) return;
    over = true;
    conn.destroy();
    settle();
  };
  conn.once('connect', () => {
    connected = true;
    // Each direction's end is a half-close on the other side, as TCP through the kubelet.
    stream.pipe(conn);
    conn.pipe(stream);
  });
  conn.on('error', (e: NodeJS.ErrnoException) => {
    // The first error is the one to report (a reset can follow a refused write).
    if (!over) onError(forwardErrorText(pod, port, socketErrorText(e, ip, port)));
    finish();
  });
  conn.once('close', finish);
  // The stream's peer went away before both sides ended: nothing more can be delivered.
  stream.once('close', () => {
    if (!connected || !conn.readableEnded || !conn.writableFinished) finish();
  });
  return { done, close: finish };
}
