/**
 * The apiserver's socket shell: HTTPS with keep-alive (node:https), client certificates
 * requested and checked against the cluster CA, then authentication, the body read with the
 * apiserver's 3 MiB limit (413 beyond, without reading the rest), the request handed to the
 * router, and its Reply written — whole, or streamed for watches and followed logs.
 * `services/proxy` and `pods/proxy` are streamed through before any body is read
 * (proxy-subresource.ts); upgrade requests go to the `upgrade` option (upgrade.ts).
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { ApiContext, ApiRequest, Reply, StreamSink, User } from './api-request.js';
import { route, unauthorized } from './router.js';
import { authenticate, type Credentials } from './authn.js';
import { impersonatedUser } from './impersonation.js';
import { failure } from './status.js';
import { proxyRequest, serveProxy } from './proxy-subresource.js';

/** The apiserver's --max-request-body-bytes default. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface ShellOptions {
  host: string;
  port: number;
  tls: { key: string; cert: string; ca: string };
  credentials: Credentials;
  maxBodyBytes?: number;
  /** Routes answered straight from the socket before the router (the OpenAPI documents). */
  rawRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Requests that ask to upgrade the connection (pods/exec, pods/attach, pods/portforward: upgrade.ts). */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

export interface Shell {
  address: string;
  port: number;
  close(): Promise<void>;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function serve(ctx: ApiContext, opts: ShellOptions): Promise<Shell> {
  const maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const sockets = new Set<Socket>();
  const server = https.createServer(
    {
      key: opts.tls.key,
      cert: opts.tls.cert,
      ca: opts.tls.ca,
      requestCert: true,
      rejectUnauthorized: false,
      // kubectl and client-go keep connections open between requests.
      keepAlive: true,
    },
    (req, res) => void handle(ctx, opts, maxBody, req, res),
  );
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  // Requests (not responses: watches run for their own timeoutSeconds) must arrive within a minute.
  server.requestTimeout = 60_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  if (opts.upgrade) server.on('upgrade', opts.upgrade);
  server.on('tlsClientError', () => {});
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue: a burst of clients (informers starting together) must not see SYNs dropped.
    server.listen({ port: opts.port, host: opts.host, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    address: opts.host,
    port: opts.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

async function handle(ctx: ApiContext, opts: ShellOptions, maxBody: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  ctx.counters.requests++;
  res.setHeader('Audit-Id', randomUUID());
  const authenticated = authenticate(req, opts.credentials);
  if (!authenticated) {
    drain(req);
    return write(res, unauthorized());
  }
  let user: User;
  try {
    user = impersonatedUser(authenticated, req.headers);
  } catch (err) {
    drain(req);
    return write(res, { code: 400, contentType: 'application/json', body: JSON.stringify(failure('BadRequest', (err as Error).message)) });
  }
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'https://apiserver');
  } catch {
    return write(res, { code: 400, contentType: 'application/json', body: JSON.stringify(failure('BadRequest', 'malformed request URL')) });
  }
  if (opts.rawRoutes && url.pathname.startsWith('/openapi')) {
    try {
      if (opts.rawRoutes(req, res)) return;
    } catch (err) {
      ctx.log.warn('raw route failed', { path: url.pathname, error: err as Error });
      if (!res.headersSent) return write(res, { code: 400, contentType: 'application/json', body: JSON.stringify(failure('BadRequest', `cannot serve ${url.pathname}`)) });
      res.destroy();
      return;
    }
  }
  // services/proxy and pods/proxy stream the request and the response through.
  const proxied = url.pathname.includes('/proxy') ? proxyRequest(url.pathname) : undefined;
  if (proxied) return serveProxy(ctx, req, res, proxied, url.search);
  let body: Buffer | undefined;
  if (WRITE_METHODS.has(req.method ?? '')) {
    const read = await readBody(req, maxBody);
    if (read === 'too-large') {
      res.setHeader('Connection', 'close');
      return write(res, { code: 413, contentType: 'application/json', body: JSON.stringify(failure('RequestEntityTooLarge', `Request entity too large: limit is ${maxBody}`)) });
    }
    if (read === 'aborted') return;
    body = read;
  }
  const apiReq: ApiRequest = {
    method: req.method ?? 'GET',
    pathname: url.pathname,
    query: url.searchParams,
    headers: { accept: req.headers.accept, contentType: req.headers['content-type'], userAgent: req.headers['user-agent'] },
    body,
    user,
  };
  const reply = await route(ctx, apiReq);
  if (reply.code >= 400) ctx.counters.errors++;
  write(res, reply);
}

/** The body, or 'too-large' past the limit (what is left is not read: the connection closes). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large' | 'aborted'> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) return Promise.resolve('too-large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (v: Buffer | 'too-large' | 'aborted') => {
      if (done) return;
      done = true;
      resolve(v);
    };
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.pause();
        finish('too-large');
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => finish(Buffer.concat(chunks)));
    req.on('error', () => finish('aborted'));
    req.on('aborted', () => finish('aborted'));
  });
}

function drain(req: IncomingMessage): void {
  req.resume();
}

function write(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return;
  const headers: Record<string, string> = { 'Content-Type': reply.contentType, 'Cache-Control': 'no-cache, private', ...reply.headers };
  if ('body' in reply) {
    const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
    headers['Content-Length'] = String(body.length);
    res.writeHead(reply.code, headers);
    res.end(body);
    return;
  }
  delete headers['Transfer-Encoding'];
  res.writeHead(reply.code, headers);
  res.flushHeaders();
  const closers: Array<() => void> = [];
  let closed = false;
  const onGone = () => {
    if (closed) return;
    closed = true;
    for (const fn of closers) fn();
  };
  res.on('close', onGone);
  const sink: StreamSink = {
    write: (chunk) => (closed ? false : res.write(chunk)),
    buffered: () => res.writableLength,
    end: () => {
      if (!res.writableEnded) res.end();
    },
    onClose: (fn) => {
      if (closed) fn();
      else closers.push(fn);
    },
  };
  try {
    reply.stream(sink);
  } catch {
    sink.end();
  }
}
