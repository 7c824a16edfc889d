/**
 * The DNS server's Prometheus endpoint, as CoreDNS's `prometheus :9153`: GET /metrics on the
 * DNS address, port 9153 (the kube-dns Service's `metrics` port and its prometheus.io/port
 * annotation). A port that cannot be bound is a warning, never a reason not to serve DNS.
 */
import http from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../dataplane/log.js';
import { hostPort } from './listen.js';

export const DEFAULT_METRICS_PORT = 9153;

export interface MetricsEndpoint {
  /** The port served, or undefined when it could not be bound. */
  port: number | undefined;
  close(): Promise<void>;
}

export async function serveMetrics(address: string, port: number, registry: Registry, log: Logger): Promise<MetricsEndpoint> {
  const server = http.createServer((req, res) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
      (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  server.keepAliveTimeout = 5_000;
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      log.warn(`cannot serve DNS metrics on ${hostPort(address, port)}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}; DNS is served regardless`, { address, port });
      resolve(false);
    });
    server.listen({ host: address, port, exclusive: true }, () => resolve(true));
  });
  return {
    port: bound ? (server.address() as { port: number }).port : undefined,
    close: () =>
      new Promise<void>((resolve) => {
        if (!bound) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
