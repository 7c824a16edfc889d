/**
 * The fallback client-side server (`httpServer: 'node'`, or a Node whose parser binding
 * http1-server.ts does not recognise): node:http, given what it lacks against nginx so that
 * both servers answer alike: nginx's head rules (request-head-check.ts) and CONNECT refused.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { RequestLike } from './http1-request.js';
import type { ResponseLike } from './http1-response.js';
import { writeLocal } from './local-response.js';
import { requestHeadError } from './request-head-check.js';
import { writeError } from './upgrade-pass.js';

export interface NodeHttpOptions {
  /** TLS options for an HTTPS listener; none for plain HTTP. */
  tls?: https.ServerOptions;
  onRequest(req: RequestLike, res: ResponseLike): void;
  onUpgrade(req: RequestLike, socket: Duplex, head: Buffer): void;
  onClientError(err: NodeJS.ErrnoException, socket: Duplex): void;
  keepAliveTimeoutMs: number;
  maxRequestsPerSocket: number;
}

export function nodeHttpServer(opts: NodeHttpOptions): http.Server {
  const server = opts.tls ? https.createServer(opts.tls) : http.createServer();
  server.keepAliveTimeout = opts.keepAliveTimeoutMs;
  server.maxRequestsPerSocket = opts.maxRequestsPerSocket;
  // The lean server stops its parser at a bad head. node:http reads on, so the 400 goes out in
  // turn after earlier pipelined answers, with Connection: close, and what the client pipelined
  // behind the bad request is never served (nginx never reads it).
  const refused = new WeakSet<object>();
  // node:http answers a parse error at once, cutting off the responses still owed to requests
  // pipelined before it; nginx (and the lean server) answer those first, then the 400.
  const pending = new WeakMap<object, { responses: number; error?: NodeJS.ErrnoException; last?: { req: http.IncomingMessage; res: http.ServerResponse } }>();
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    const p = pending.get(socket) ?? { responses: 0 };
    p.responses++;
    p.last = { req, res };
    pending.set(socket, p);
    res.once('close', () => {
      if (--p.responses > 0) return;
      pending.delete(socket);
      if (p.error) opts.onClientError(p.error, socket);
    });
    if (refused.has(socket)) return;
    if (requestHeadError(req.httpVersionMajor, req.httpVersionMinor, req.rawHeaders)) {
      refused.add(socket);
      writeLocal(res, 400, [], ['Server', 'knet'], req.method);
      return;
    }
    opts.onRequest(req, res);
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (requestHeadError(req.httpVersionMajor, req.httpVersionMinor, req.rawHeaders)) writeError(socket, 400, ['Server', 'knet']);
    else opts.onUpgrade(req, socket, head);
  });
  server.on('connect', (_req: unknown, socket: Duplex) => writeError(socket, 400));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const p = pending.get(socket);
    // A request whose own body is broken (a bad chunk) never completes, so waiting for its
    // response would hold the client until it gives up: when it is the one being answered it
    // gets the 400 now, or a cut connection once its response has begun, as in the lean server.
    const brokenBody = p?.responses === 1 && p.last !== undefined && !p.last.req.complete;
    if (p && !brokenBody && err.code !== 'ERR_HTTP_REQUEST_TIMEOUT' && err.code !== 'ECONNRESET') p.error ??= err;
    else if (brokenBody && p.last!.res.headersSent) socket.destroy();
    else opts.onClientError(err, socket);
  });
  return server;
}
