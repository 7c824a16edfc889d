/**
 * The proxy's Prometheus metrics, on a registry of its own (several clusters may share a
 * process). Per-endpoint counters carry the pod name, so a user can see which pod served.
 *
 * What moves per connection or per chunk (connections, active, bytes, which endpoint served)
 * is counted in plain numbers on tallies the forwarders keep a reference to, and copied into
 * the Prometheus metrics only when they are read: a prom-client `inc(labels)` hashes its label
 * set on every call, which showed up in profiles of the connection path.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { openFileCount, openFileLimit } from './open-files.js';
import { endpointId, type EndpointInfo } from './service-table.js';

export type FailReason = 'no_endpoints' | 'no_local_endpoints' | 'connect_failed' | 'policy_denied' | 'source_range_denied';

/** One service port's traffic; the forwarders bump the fields directly. */
export interface ServiceTally {
  connections: number;
  active: number;
  /** Client → endpoint. */
  bytesIn: number;
  /** Endpoint → client. */
  bytesOut: number;
}

interface ServiceEntry extends ServiceTally {
  readonly service: string;
  readonly protocol: string;
}

interface EndpointEntry {
  readonly labels: { service: string; endpoint: string; pod: string };
  connections: number;
}

export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly services = new Map<string, ServiceEntry>();
  private readonly endpoints = new Map<string, EndpointEntry>();

  /** The tally of a service port, created on first use and kept (counters never go back). */
  service(service: string, protocol: 'TCP' | 'UDP'): ServiceTally {
    const key = `${protocol} ${service}`;
    let entry = this.services.get(key);
    if (!entry) this.services.set(key, (entry = { service, protocol, connections: 0, active: 0, bytesIn: 0, bytesOut: 0 }));
    return entry;
  }

  /** Counts one connection (or UDP session) forwarded to an endpoint of a service port. */
  servedBy(service: string, ep: EndpointInfo): void {
    const id = endpointId(ep);
    const pod = ep.podName ?? '';
    const key = `${service} ${id} ${pod}`;
    let entry = this.endpoints.get(key);
    if (!entry) this.endpoints.set(key, (entry = { labels: { service, endpoint: id, pod }, connections: 0 }));
    entry.connections++;
  }

  /** Connections (TCP) and sessions (UDP) accepted on a service frontend. */
  readonly connections: Counter<'service' | 'protocol'> = new Counter({
    name: 'knet_proxy_connections_total',
    help: 'Connections (TCP) and sessions (UDP) accepted, by service port',
    labelNames: ['service', 'protocol'] as const,
    registers: [this.registry],
    collect: () => {
      this.connections.reset();
      for (const t of this.services.values()) this.connections.inc({ service: t.service, protocol: t.protocol }, t.connections);
    },
  });

  readonly active: Gauge<'service' | 'protocol'> = new Gauge({
    name: 'knet_proxy_connections_active',
    help: 'Connections and UDP sessions open now, by service port',
    labelNames: ['service', 'protocol'] as const,
    registers: [this.registry],
    collect: () => {
      this.active.reset();
      for (const t of this.services.values()) this.active.set({ service: t.service, protocol: t.protocol }, t.active);
    },
  });

  readonly failed = new Counter({
    name: 'knet_proxy_connections_failed_total',
    help: 'Connections refused (no_endpoints), held or dropped (no_local_endpoints; policy_denied by a NetworkPolicy; source_range_denied: outside loadBalancerSourceRanges) or closed after every connect attempt failed (connect_failed), by service port and reason',
    labelNames: ['service', 'reason'] as const,
    registers: [this.registry],
  });

  /** Resets the proxy sent or passed on (tcp-resets.ts); rare, so counted with inc() where they happen. */
  readonly resets = new Counter({
    name: 'knet_proxy_resets_total',
    help: 'TCP connections ended by a reset the proxy sent or passed on, by service port and reason (no_endpoints, client_reset, client_error, endpoint_reset, endpoint_error, accept_failed)',
    labelNames: ['service', 'reason'] as const,
    registers: [this.registry],
  });

  readonly endpointConnections: Counter<'service' | 'endpoint' | 'pod'> = new Counter({
    name: 'knet_proxy_endpoint_connections_total',
    help: 'Connections and UDP sessions forwarded to each endpoint',
    labelNames: ['service', 'endpoint', 'pod'] as const,
    registers: [this.registry],
    collect: () => {
      this.endpointConnections.reset();
      for (const e of this.endpoints.values()) this.endpointConnections.inc(e.labels, e.connections);
    },
  });

  readonly endpointFailures = new Counter({
    name: 'knet_proxy_endpoint_connect_failures_total',
    help: 'Connect attempts to an endpoint that were refused or timed out',
    labelNames: ['service', 'endpoint', 'pod'] as const,
    registers: [this.registry],
  });

  /** direction: "in" is client → endpoint, "out" is endpoint → client. */
  readonly bytes: Counter<'service' | 'direction'> = new Counter({
    name: 'knet_proxy_bytes_total',
    help: 'Bytes forwarded, by service port and direction (in: client to endpoint, out: endpoint to client)',
    labelNames: ['service', 'direction'] as const,
    registers: [this.registry],
    collect: () => {
      this.bytes.reset();
      for (const t of this.services.values()) {
        if (t.bytesIn > 0) this.bytes.inc({ service: t.service, direction: 'in' }, t.bytesIn);
        if (t.bytesOut > 0) this.bytes.inc({ service: t.service, direction: 'out' }, t.bytesOut);
      }
    },
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

  /** Read at scrape time; absent where /proc is not (open-files.ts says why they matter). */
  readonly openFds: Gauge = new Gauge({
    name: 'process_open_fds',
    help: 'Open file descriptors of the proxy process (two per forwarded TCP connection)',
    registers: [this.registry],
    collect: () => {
      const n = openFileCount();
      if (n !== undefined) this.openFds.set(n);
    },
  });

  readonly maxFds: Gauge = new Gauge({
    name: 'process_max_fds',
    help: 'The open file descriptor limit of the proxy process; at the limit, connections are closed unserved',
    registers: [this.registry],
    collect: () => {
      const n = openFileLimit();
      if (n !== undefined) this.maxFds.set(n);
    },
  });

  readonly bindErrors = new Gauge({
    name: 'knet_proxy_bind_errors',
    help: 'Listeners the proxy wants but cannot bind (see the log and bindErrors())',
    registers: [this.registry],
  });
}
