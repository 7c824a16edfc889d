/**
 * One HTTP(S) exchange from the pod, for curl and wget: the name resolved as the pod's libc
 * would (pod-resolver.ts), the connection opened by dialFromPod (so from the pod's IP), then
 * node:http over that socket (TLS on top for https). Failures come back as values a command
 * turns into its own messages and exit codes.
 */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { Socket } from 'node:net';
import { dialFromPod, DialError } from '../dial-from-pod.js';
import { resolveHost, type PodNetwork, type ResolverFiles } from '../pod-resolver.js';

export interface HttpExchange {
  url: URL;
  method: string;
  /** Request headers in order, as sent (Host first). */
  headers: Array<[string, string]>;
  body?: Buffer;
  /** The whole exchange (curl --max-time); undefined = none. */
  timeoutMs?: number;
  /** Connecting only (curl --connect-timeout, wget -T). */
  connectTimeoutMs?: number;
  insecure?: boolean;
  signal?: AbortSignal;
  onResolved?(ip: string): void;
  onConnected?(ip: string, port: number): void;
}

export interface HttpResult {
  status: number;
  statusText: string;
  httpVersion: string;
  headers: Array<[string, string]>;
  body: Buffer;
  remote: { ip: string; port: number };
  local: { ip: string; port: number };
}

export type HttpFailure =
  | { kind: 'resolve'; host: string; reason: string }
  | { kind: 'connect'; host: string; ip: string; port: number; code: DialError['code']; message: string }
  | { kind: 'timeout'; received: number; connected: boolean }
  | { kind: 'empty' }
  | { kind: 'reset'; message: string }
  | { kind: 'tls'; message: string }
  | { kind: 'aborted' };

export class HttpError extends Error {
  constructor(readonly failure: HttpFailure) {
    super(failure.kind);
  }
}

export function defaultPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

export async function httpFromPod(network: PodNetwork, files: ResolverFiles, ex: HttpExchange): Promise<HttpResult> {
  const started = Date.now();
  const deadline = ex.timeoutMs !== undefined ? started + ex.timeoutMs : undefined;
  const left = () => (deadline === undefined ? undefined : Math.max(0, deadline - Date.now()));
  const host = ex.url.hostname.replace(/^\[(.*)\]$/, '$1');
  const resolution = await withDeadline(resolveHost(network, files, host, ex.signal), left(), () => new HttpError({ kind: 'timeout', received: 0, connected: false }));
  if (!resolution.ok) throw new HttpError({ kind: 'resolve', host, reason: resolution.reason });
  const ip = resolution.addresses[0]!;
  ex.onResolved?.(ip);
  const port = defaultPort(ex.url);
  const connectTimeout = Math.min(ex.connectTimeoutMs ?? 75_000, left() ?? Infinity);
  let socket: Socket;
  try {
    socket = await dialFromPod(network.endpoint, ip, port, 'TCP', { timeoutMs: connectTimeout, signal: ex.signal });
  } catch (err) {
    if (!(err instanceof DialError)) throw err;
    if (err.code === 'EABORTED') throw new HttpError({ kind: 'aborted' });
    if (err.code === 'ETIMEDOUT' && deadline !== undefined && Date.now() >= deadline - 5) throw new HttpError({ kind: 'timeout', received: 0, connected: false });
    throw new HttpError({ kind: 'connect', host, ip, port, code: err.code, message: err.message });
  }
  ex.onConnected?.(ip, port);
  const local = { ip: socket.localAddress ?? network.endpoint.podIP, port: socket.localPort ?? 0 };
  const tlsOn = ex.url.protocol === 'https:';
  const conn: Socket = tlsOn ? tls.connect({ socket, servername: isIPName(host) ? undefined : host, rejectUnauthorized: !ex.insecure, ALPNProtocols: ['http/1.1'] }) : socket;
  return new Promise<HttpResult>((resolve, reject) => {
    let received = 0;
    let settled = false;
    const fail = (f: HttpFailure) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      reject(new HttpError(f));
    };
    const rest = left();
    const timer = rest === undefined ? undefined : setTimeout(() => fail({ kind: 'timeout', received, connected: true }), rest);
    ex.signal?.addEventListener('abort', () => fail({ kind: 'aborted' }), { once: true });
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of ex.headers) {
      const prev = headers[k];
      headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const options: http.RequestOptions = {
      method: ex.method,
      path: ex.url.pathname + ex.url.search,
      headers,
      setHost: false,
      // No agent: only then does node:http use createConnection (agent: false makes a new Agent).
      createConnection: () => conn,
    };
    const req = (tlsOn ? https : http).request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        received += c.length;
        chunks.push(c);
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const raw = res.rawHeaders;
        const pairs: Array<[string, string]> = [];
        for (let i = 0; i < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
        conn.destroy();
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', httpVersion: res.httpVersion, headers: pairs, body: Buffer.concat(chunks), remote: { ip, port }, local });
      });
      res.on('error', (err: NodeJS.ErrnoException) => fail({ kind: 'reset', message: err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' && err.message === 'socket hang up') return fail({ kind: 'empty' });
      if (err.code === 'ECONNRESET') return fail({ kind: 'reset', message: 'Connection reset by peer' });
      if (tlsOn && /certificate|SSL|TLS|self.signed/i.test(err.message)) return fail({ kind: 'tls', message: err.message });
      fail({ kind: 'reset', message: err.message });
    });
    req.end(ex.body);
  });
}

function isIPName(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

async function withDeadline<T>(p: Promise<T>, ms: number | undefined, onTimeout: () => Error): Promise<T> {
  if (ms === undefined) return p;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(onTimeout()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
