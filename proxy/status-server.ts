/**
 * The proxy's own endpoints, as kube-proxy serves them on the node: Prometheus metrics
 * (`--metrics-bind-address`, 10249) and /healthz + /livez (`--healthz-bind-address`, 10256).
 */
import http from 'node:http';
import { describeBindError } from '../dataplane/base/net/bind-error.js';

export interface StatusRoute {
  (): Promise<{ status: number; contentType: string; body: string }>;
}

export interface StatusServer {
  /** Set when the bind failed: the reason and the fix. */
  error?: string;
  address: string;
  port: number;
  close(): Promise<void>;
}

/** "127.18.0.2:10249" → host and port. */
export function parseBindAddress(bind: string): { host: string; port: number } {
  const i = bind.lastIndexOf(':');
  const portText = bind.slice(i + 1);
  const port = Number(portText);
  if (i <= 0 || !/^\d+$/.test(portText) || port > 65535) throw new Error(`bind address must be HOST:PORT, got "${bind}"`);
  return { host: bind.slice(0, i), port };
}

export async function startStatusServer(bind: string, routes: Record<string, StatusRoute>): Promise<StatusServer> {
  const { host, port } = parseBindAddress(bind);
  const server = http.createServer((req, res) => {
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (!route) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    route().then(
      (r) => res.writeHead(r.status, { 'Content-Type': r.contentType }).end(r.body),
      (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  server.keepAliveTimeout = 5_000;
  const error = await new Promise<string | undefined>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => resolve(describeBindError(err, 'TCP', host, port)));
    server.listen({ host, port, exclusive: true }, () => resolve(undefined));
  });
  return {
    ...(error ? { error } : {}),
    address: host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        if (error) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
