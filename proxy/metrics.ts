/**
 * The proxy's Prometheus metrics, on a registry of its own (several clusters may share a
 * process). Per-endpoint counters carry the pod name, so a user can see which pod served.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type FailReason = 'no_endpoints' | 'no_local_endpoints' | 'connect_failed';

export class ProxyMetrics {
  readonly registry = new Registry();

  /** Connections (TCP) and sessions (UDP) accepted on a service frontend. */
  readonly connections = new Counter({
    name: 'knet_proxy_connections_total',
    help: 'Connections (TCP) and sessions (UDP) accepted, by service port',
    labelNames: ['service', 'protocol'] as const,
    registers: [this.registry],
  });

  readonly active = new Gauge({
    name: 'knet_proxy_connections_active',
    help: 'Connections and UDP sessions open now, by service port',
    labelNames: ['service', 'protocol'] as const,
    registers: [this.registry],
  });

  readonly failed = new Counter({
    name: 'knet_proxy_connections_failed_total',
    help: 'Connections refused (no endpoints), held (no local endpoint) or closed after every connect attempt failed',
    labelNames: ['service', 'reason'] as const,
    registers: [this.registry],
  });

  readonly endpointConnections = new Counter({
    name: 'knet_proxy_endpoint_connections_total',
    help: 'Connections and UDP sessions forwarded to each endpoint',
    labelNames: ['service', 'endpoint', 'pod'] as const,
    registers: [this.registry],
  });

  readonly endpointFailures = new Counter({
    name: 'knet_proxy_endpoint_connect_failures_total',
    help: 'Connect attempts to an endpoint that were refused or timed out',
    labelNames: ['service', 'endpoint', 'pod'] as const,
    registers: [this.registry],
  });

  /** direction: "in" is client → endpoint, "out" is endpoint → client. */
  readonly bytes = new Counter({
    name: 'knet_proxy_bytes_total',
    help: 'Bytes forwarded, by service port and direction (in: client to endpoint, out: endpoint to client)',
    labelNames: ['service', 'direction'] as const,
    registers: [this.registry],
  });

  readonly syncDuration = new Histogram({
    name: 'knet_proxy_sync_proxy_rules_duration_seconds',
    help: 'Time to rebuild the service table and reconcile listeners (kube-proxy: sync_proxy_rules_duration)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly listeners = new Gauge({
    name: 'knet_proxy_listeners',
    help: 'Bound listeners, by protocol and role',
    labelNames: ['protocol', 'role'] as const,
    registers: [this.registry],
  });

  readonly bindErrors = new Gauge({
    name: 'knet_proxy_bind_errors',
    help: 'Listeners the proxy wants but cannot bind (see the log and bindErrors())',
    registers: [this.registry],
  });
}
