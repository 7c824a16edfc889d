/**
 * Misbehaving and special backends for the robustness tests: a WebSocket echo server, a
 * server that streams forever, one that resets every connection, one that never answers.
 * Each counts its open connections, which is how tests see leaked upstream sockets.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Backend {
  port: number;
  /** Open TCP connections right now. */
  open(): number;
  close(): Promise<void>;
}

function track(server: http.Server): { open: () => number; destroyAll: () => void } {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  });
  return { open: () => sockets.size, destroyAll: () => sockets.forEach((s) => s.destroy()) };
}

async function serve(server: http.Server, address: string, port: number): Promise<Backend> {
  // Idle keep-alive connections stay open for the whole test: a socket the proxy leaves
  // behind is then seen as open, not closed by the backend's own idle timer.
  server.keepAliveTimeout = 120_000;
  const t = track(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    open: t.open,
    close: () =>
      new Promise<void>((r) => {
        t.destroyAll();
        server.close(() => r());
      }),
  };
}

/** Streams `chunk\n` every 20 ms and never ends. */
export function streamingBackend(address: string, port = 8080): Promise<Backend> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    const timer = setInterval(() => res.write('chunk\n'), 20);
    res.on('close', () => clearInterval(timer));
  });
  return serve(server, address, port);
}

/** Destroys every connection as soon as a request arrives. */
export function resettingBackend(address: string, port = 8080): Promise<Backend> {
  const server = http.createServer((req) => req.socket.destroy());
  return serve(server, address, port);
}

/** Accepts requests and never answers. */
export function silentBackend(address: string, port = 8080): Promise<Backend> {
  const server = http.createServer(() => {});
  return serve(server, address, port);
}

/** Answers `<name> <method> <url>` with X-Pod, for retry tests. */
export function namedBackend(name: string, address: string, port = 8080): Promise<Backend> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'X-Pod': name, 'Content-Type': 'text/plain' });
      res.end(`${name} ${req.method} ${req.url}`);
    });
  });
  return serve(server, address, port);
}

/** A minimal RFC 6455 echo server: text and binary frames are sent back unmasked. */
export function websocketEchoBackend(address: string, port = 8080): Promise<Backend> {
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain' });
    res.end('upgrade required');
  });
  server.on('upgrade', (req, socket: Socket) => {
    socket.on('error', () => socket.destroy());
    const key = String(req.headers['sec-websocket-key'] ?? '');
    const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Seen-Forwarded-For: ${req.headers['x-forwarded-for']}\r\n\r\n`);
    let buf = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      buf = Buffer.concat([buf, data]);
      for (;;) {
        if (buf.length < 2) return;
        const opcode = buf[0]! & 0x0f;
        const masked = (buf[1]! & 0x80) !== 0;
        let len = buf[1]! & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        const maskOff = off;
        if (masked) off += 4;
        if (buf.length < off + len) return;
        const payload = Buffer.from(buf.subarray(off, off + len));
        if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= buf[maskOff + (i % 4)]!;
        buf = buf.subarray(off + len);
        if (opcode === 0x8) {
          socket.end(Buffer.from([0x88, 0x00]));
          return;
        }
        if (opcode === 0x1 || opcode === 0x2) {
          const header = payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length]) : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
          socket.write(Buffer.concat([header, payload]));
        }
      }
    });
  });
  return serve(server, address, port);
}

/** Answers with the status named in the path (`/status/503`), or 200, and echoes X-Code. */
export function statusBackend(name: string, address: string, port = 8080): Promise<Backend> {
  const server = http.createServer((req, res) => {
    req.resume();
    const m = /^\/status\/(\d{3})/.exec(req.url ?? '');
    res.writeHead(m ? Number(m[1]) : 200, { 'X-Pod': name, 'Content-Type': 'text/plain' });
    res.end(`${name} saw ${req.method} ${req.url} x-code=${req.headers['x-code'] ?? ''} x-original-uri=${req.headers['x-original-uri'] ?? ''}`);
  });
  return serve(server, address, port);
}

/** An HTTPS pod (backend-protocol: HTTPS) with the given certificate. */
export async function httpsBackend(name: string, address: string, pair: { cert: string; key: string }, port = 8443): Promise<Backend> {
  const https = await import('node:https');
  const server = https.createServer(pair, (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(`${name} over ${(req.socket as import('node:tls').TLSSocket).encrypted ? 'tls' : 'plain'}`);
  });
  return serve(server as unknown as http.Server, address, port);
}
