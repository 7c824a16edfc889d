/**
 * Test rig for the proxy: a cluster config in the proxy's block 127.51.0.0/16, backends that
 * answer who they are and who called, and real curl.
 *   node-1 = 127.51.0.2 (pods 127.51.1.0/24), node-2 = 127.51.0.3 (pods 127.51.2.0/24),
 *   ClusterIPs 127.51.96.x, LB IPs 127.51.255.x, outside clients 127.51.200.x.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { clusterConfig, type ClusterConfig } from '../../../dataplane/base/cluster-config.js';
import { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import { createLogger } from '../../../dataplane/base/log.js';
import { plainIp } from '../../../dataplane/base/net/ip.js';
import { startProxy, type ProxyHandle, type ProxyOptions } from '../../../proxy/proxier.js';
import { NODE1, NODE2 } from '../../unit/proxy/fixtures.js';

export { NODE1, NODE2, slice, svc } from '../../unit/proxy/fixtures.js';

export const CONFIG: ClusterConfig = {
  ...clusterConfig(0),
  name: 'proxy-test',
  nodeAddressBase: '127.51.0.1',
  podPrefix: '127.51',
  serviceCIDR: '127.51.96.0/20',
  kubernetesServiceIP: '127.51.96.1',
  dnsServiceIP: '127.51.96.10',
  loadBalancerPool: { first: '127.51.255.200', last: '127.51.255.250' },
};

export const OUTSIDE = '127.51.200.1';

export interface Rig {
  informers: MemoryInformerFactory;
  proxy: ProxyHandle;
  close(): Promise<void>;
}

export async function startRig(extra: Partial<ProxyOptions> = {}): Promise<Rig> {
  const informers = new MemoryInformerFactory();
  const proxy = await startProxy({ informers, config: CONFIG, nodes: [NODE1, NODE2], allNodes: () => [NODE1, NODE2], log: createLogger('proxy', { level: process.env.KNET_LOG_LEVEL === 'debug' ? 'debug' : 'warn' }), ...extra });
  return { informers, proxy, close: () => proxy.close() };
}

/**
 * A pod stand-in on ip:port. HTTP: "/" answers "ip:port", "/clientip" the peer "ip:port",
 * "/slow?bytes=N" streams N bytes, "/wait" answers after the client half-closes.
 * UDP on the same port: replies "ip:port" (or "echo X" → "X").
 */
export interface Backend {
  ip: string;
  port: number;
  name: string;
  /** Open TCP sockets, to kill mid-stream. */
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}

export async function startBackend(ip: string, port = 8080, opts: { udp?: boolean } = {}): Promise<Backend> {
  const name = `${ip}:${port}`;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/clientip') {
      res.end(`${plainIp(req.socket.remoteAddress)}:${req.socket.remotePort}`);
      return;
    }
    res.end(name);
  });
  server.keepAliveTimeout = 1000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: ip, port }, resolve);
  });
  let udp: dgram.Socket | undefined;
  if (opts.udp) {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (msg, rinfo) => {
      const text = msg.toString();
      const reply = text.startsWith('echo ') ? text.slice(5) : text === 'clientip' ? `${rinfo.address}:${rinfo.port}` : name;
      sock.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => sock.bind({ address: ip, port }, resolve));
    udp = sock;
  }
  return {
    ip,
    port,
    name,
    sockets,
    async close() {
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (udp) await new Promise<void>((resolve) => udp!.close(() => resolve()));
    },
  };
}

/** A raw TCP backend for byte-level tests: each connection is handed to onConnection. */
export async function startRawBackend(ip: string, port: number, onConnection: (s: net.Socket) => void): Promise<{ close(): Promise<void>; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    onConnection(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: ip, port }, resolve);
  });
  return {
    sockets,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface CurlResult {
  code: number;
  body: string;
}

export function curl(url: string, opts: { from?: string; maxTime?: number } = {}): Promise<CurlResult> {
  const args = ['-s', '--max-time', String(opts.maxTime ?? 5), '--noproxy', '*'];
  if (opts.from) args.push('--interface', opts.from);
  args.push(url);
  return new Promise((resolve) => {
    execFile('curl', args, { timeout: 20_000 }, (err, stdout) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, body: stdout });
    });
  });
}

/** One UDP request/response from a client bound to `from`. */
export function udpAsk(address: string, port: number, message: string, opts: { from?: string; timeoutMs?: number } = {}): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const done = (v: string | undefined) => {
      clearTimeout(timer);
      sock.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), opts.timeoutMs ?? 2000);
    sock.on('error', () => done(undefined));
    sock.on('message', (m) => done(m.toString()));
    sock.bind({ address: opts.from ?? '127.0.0.1', port: 0 }, () => sock.send(message, port, address));
  });
}

/** Connect and wait; resolves "connected" or the error code. */
export function tcpConnect(address: string, port: number, localAddress?: string): Promise<net.Socket | string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port, ...(localAddress ? { localAddress } : {}), allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/**
 * Reads `total` bytes from `s`, stalling 5 ms after every MiB so that writes to it queue
 * along the path; resolves with how many arrived and their sha256.
 */
export function slowReadHash(s: net.Socket, total: number): Promise<{ received: number; sha256: string }> {
  const got = createHash('sha256');
  let received = 0;
  return new Promise((resolve, reject) => {
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      got.update(d);
      received += d.length;
      if (received >= total) resolve({ received, sha256: got.digest('hex') });
      else if (received % (1024 * 1024) < d.length) {
        s.pause();
        setTimeout(() => s.resume(), 5);
      }
    });
  });
}

/**
 * Writes `total` bytes to `s` with back-pressure, in chunks of about `chunkBytes` whose
 * pattern differs per chunk (a reused buffer overwritten too early would show); resolves
 * with the sha256 of what was written once the last chunk is handed to the socket.
 */
export function writePattern(s: net.Socket, total: number, chunkBytes: number): Promise<string> {
  const sent = createHash('sha256');
  let offset = 0;
  return new Promise((resolve) => {
    const pump = (): void => {
      while (offset < total) {
        const chunk = Buffer.alloc(Math.min(chunkBytes + (offset % 7919), total - offset), offset % 251);
        offset += chunk.length;
        sent.update(chunk);
        if (!s.write(chunk)) {
          if (offset < total) s.once('drain', pump);
          else resolve(sent.digest('hex'));
          return;
        }
      }
      resolve(sent.digest('hex'));
    };
    pump();
  });
}

/** Connects or throws (tcpConnect resolves with the error code instead). */
export async function mustConnect(address: string, port: number): Promise<net.Socket> {
  const s = await tcpConnect(address, port);
  if (typeof s === 'string') throw new Error(`connect ${address}:${port}: ${s}`);
  return s;
}

/** Everything a socket receives, and how it ended: 'EOF' (a FIN), an error code, or a plain close. */
export function readAll(s: net.Socket): Promise<{ data: string; error?: string }> {
  return new Promise((resolve) => {
    let data = '';
    s.on('data', (d) => (data += d.toString()));
    s.on('error', (e: NodeJS.ErrnoException) => resolve({ data, error: e.code ?? e.message }));
    s.on('end', () => resolve({ data, error: 'EOF' }));
    s.on('close', () => resolve({ data }));
  });
}
