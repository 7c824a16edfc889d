/** The HTTP shell of a healthCheckNodePort: one server per Local LoadBalancer service per node IP. */
import http from 'node:http';
import type { HealthCheckResponse } from './health-check.js';

export function createHealthCheckServer(answer: () => HealthCheckResponse): http.Server {
  const server = http.createServer((req, res) => {
    const r = answer();
    res.writeHead(r.status, { ...r.headers, 'Content-Length': Buffer.byteLength(r.body) });
    res.end(req.method === 'HEAD' ? undefined : r.body);
  });
  // Load balancers probe often; do not let idle keep-alive sockets pile up.
  server.keepAliveTimeout = 5_000;
  return server;
}
