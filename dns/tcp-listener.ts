/**
 * DNS over TCP (RFC 7766): 2-byte length framing, any number of pipelined queries per
 * connection, answered as each completes (cluster answers in order; a slow forwarded one
 * does not hold back the rest; clients match by ID). Timeouts as CoreDNS: 3 s for the first
 * query, 10 s idle after; a reader that stops reading is cut off.
 */
import type net from 'node:net';
import type { Logger } from '../dataplane/base/log.js';
import type { SilentHold } from '../dataplane/base/netpol/silent-hold.js';
import type { QueryEngine } from './query-engine.js';

export interface TcpTimeouts {
  firstReadMs: number;
  idleMs: number;
}

export const DEFAULT_TCP_TIMEOUTS: TcpTimeouts = { firstReadMs: 3000, idleMs: 10_000 };
/** Unsent response bytes beyond which a connection is considered stuck. */
const MAX_PENDING_WRITE = 1 << 20;

/**
 * NetworkPolicy for a DNS connection (server.ts): `admits` false holds it silent — nothing read
 * is answered, nothing is sent — as a connection whose SYN was dropped looks to the client once
 * accepted (base/netpol/silent-hold.ts).
 */
export interface TcpPolicy {
  admits(clientIp: string): boolean;
  hold: SilentHold;
}

export function serveTcp(
  server: net.Server,
  engine: QueryEngine,
  log: Logger,
  timeouts: TcpTimeouts = DEFAULT_TCP_TIMEOUTS,
  policy?: TcpPolicy,
): { closeConnections(): void } {
  const connections = new Set<net.Socket>();
  server.on('connection', (sock) => {
    if (policy && !policy.admits(sock.remoteAddress ?? '')) {
      policy.hold.hold(sock);
      return;
    }
    connections.add(sock);
    sock.setNoDelay(true);
    sock.setTimeout(timeouts.firstReadMs);
    sock.on('timeout', () => sock.destroy());
    sock.on('error', (err) => log.debug('tcp connection error', { err }));
    sock.on('close', () => connections.delete(sock));
    const peer = { address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 };
    let pending: Buffer | undefined;
    let first = true;
    const reply = (out: Buffer | null) => {
      if (!out || sock.destroyed) return;
      if (sock.writableLength > MAX_PENDING_WRITE) {
        sock.destroy();
        return;
      }
      const frame = Buffer.allocUnsafe(out.length + 2);
      frame.writeUInt16BE(out.length, 0);
      out.copy(frame, 2);
      sock.write(frame);
    };
    sock.on('data', (chunk: Buffer) => {
      let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        if (first) {
          first = false;
          sock.setTimeout(timeouts.idleMs);
        }
        const out = engine.handle(msg, 'tcp', peer);
        if (out instanceof Promise) void out.then(reply);
        else reply(out);
      }
      pending = buf.length > 0 ? Buffer.from(buf) : undefined;
    });
  });
  server.on('error', (err) => log.warn('tcp server error', { err }));
  return {
    closeConnections() {
      for (const s of connections) s.destroy();
      connections.clear();
      policy?.hold.closeAll();
    },
  };
}
