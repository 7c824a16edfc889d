/**
 * The DNS server's Prometheus endpoint, as CoreDNS's `prometheus :9153`: GET /metrics on the
 * DNS address, port 9153 (the kube-dns Service's `metrics` port and its prometheus.io/port
 * annotation). A port that cannot be bound is a warning, never a reason not to serve DNS.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../dataplane/base/log.js';
import { serveMetrics as serveEndpoint, type MetricsEndpoint } from '../dataplane/base/net/metrics-endpoint.js';

export type { MetricsEndpoint };

export const DEFAULT_METRICS_PORT = 9153;

export function serveMetrics(address: string, port: number, registry: Registry, log: Logger): Promise<MetricsEndpoint> {
  return serveEndpoint(address, port, registry, log, { what: 'DNS metrics', regardless: 'DNS is served regardless' });
}
