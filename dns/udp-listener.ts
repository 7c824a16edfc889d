/** DNS over UDP: one datagram in, at most one datagram out. */
import type dgram from 'node:dgram';
import type { Logger } from '../dataplane/log.js';
import type { QueryEngine } from './query-engine.js';

/** Bigger kernel buffers keep bursts (dnsperf, a pod restart storm) from being dropped. */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

export function serveUdp(sock: dgram.Socket, engine: QueryEngine, log: Logger): void {
  try {
    sock.setRecvBufferSize(SOCKET_BUFFER_BYTES);
    sock.setSendBufferSize(SOCKET_BUFFER_BYTES);
  } catch {
    // Capped by net.core.rmem_max; the defaults still work.
  }
  // No per-send callback (it costs on every packet); send errors arrive as 'error' events.
  const send = (out: Buffer, rinfo: dgram.RemoteInfo) => {
    try {
      sock.send(out, rinfo.port, rinfo.address);
    } catch {
      // A forwarded answer completing after close(): dropped.
    }
  };
  sock.on('message', (msg, rinfo) => {
    const out = engine.handle(msg, 'udp', rinfo);
    if (out === null) return;
    if (out instanceof Promise) {
      void out.then((r) => {
        if (r) send(r, rinfo);
      });
    } else send(out, rinfo);
  });
  sock.on('error', (err) => log.debug('udp socket error', { err }));
}
