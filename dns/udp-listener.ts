/** DNS over UDP: one datagram in, at most one datagram out. */
import type dgram from 'node:dgram';
import type { Logger } from '../dataplane/base/log.js';
import type { QueryEngine } from './query-engine.js';
import { openUdp, type UdpPort } from './udp-fast-path.js';

/** Bigger kernel buffers keep bursts (dnsperf, a pod restart storm) from being dropped. */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Serves a bound socket. Returns how: `fast` when node:dgram's per-packet JavaScript is
 * bypassed (udp-fast-path.ts), else `fallback` says why not. `admits` is NetworkPolicy
 * (server.ts): a query it refuses is dropped unanswered, as a denied datagram is, and the
 * client times out.
 */
export function serveUdp(sock: dgram.Socket, engine: QueryEngine, log: Logger, admits: (clientIp: string) => boolean = () => true): Pick<UdpPort, 'fast' | 'fallback'> {
  try {
    sock.setRecvBufferSize(SOCKET_BUFFER_BYTES);
    sock.setSendBufferSize(SOCKET_BUFFER_BYTES);
  } catch {
    // Capped by net.core.rmem_max; the defaults still work.
  }
  const port = openUdp(sock, {
    onPacket(msg, rinfo) {
      if (!admits(rinfo.address)) return;
      const out = engine.handle(msg, 'udp', rinfo);
      if (out === null) return;
      if (out instanceof Promise) {
        void out.then((r) => {
          if (r) port.send(r, rinfo.port, rinfo.address);
        });
      } else port.send(out, rinfo.port, rinfo.address);
    },
    onError: (err) => log.debug('udp receive error', { err }),
  });
  sock.on('error', (err) => log.debug('udp socket error', { err }));
  return port;
}
