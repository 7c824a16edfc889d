/**
 * Answers on an upgrade request's raw socket (before or instead of a 101): a Status with its
 * code, or the 101 of a SPDY upgrade, written as net/http writes them.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Status } from './status.js';

/** Writes `status` as the whole response and closes the connection. */
export function rejectUpgrade(socket: Duplex, status: Status): void {
  const body = JSON.stringify(status);
  if (!socket.writable) return void socket.destroy();
  socket.end(
    `HTTP/1.1 ${status.code} ${STATUS_CODES[status.code] ?? ''}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Cache-Control: no-cache, private\r\n' +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/** The 101 of a SPDY/3.1 upgrade (apimachinery's spdy.responseUpgrader), with the negotiated stream protocol. */
export function acceptSpdyUpgrade(socket: Duplex, protocol: string | undefined): void {
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Connection: Upgrade\r\n' +
      'Upgrade: SPDY/3.1\r\n' +
      (protocol ? `X-Stream-Protocol-Version: ${protocol}\r\n` : '') +
      '\r\n',
  );
}
