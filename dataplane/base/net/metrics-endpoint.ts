/**
 * A component's Prometheus endpoint: GET /metrics on `address:port` from a registry of its own,
 * 404 for any other path. A port that cannot be bound is a warning, never a reason for the
 * component not to run: `port` is then undefined. Used by the DNS server (:9153, as CoreDNS)
 * and the node agent (:10255, the kubelet's read-only port).
 */
import http from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';

export interface MetricsEndpoint {
  /** The port served, or undefined when it could not be bound. */
  port: number | undefined;
  close(): Promise<void>;
}

export interface MetricsEndpointNames {
  /** What the warning calls it: "DNS metrics", "node metrics". */
  what: string;
  /** Appended to the warning: what still runs without it. */
  regardless?: string;
}

export async function serveMetrics(address: string, port: number, registry: Registry, log: Logger, names: MetricsEndpointNames): Promise<MetricsEndpoint> {
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
      const at = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
      const why = err.code === 'EADDRINUSE' ? 'the port is in use' : err.message;
      log.warn(`cannot serve ${names.what} on ${at}: ${why}${names.regardless ? `; ${names.regardless}` : ''}`, { address, port });
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
