/**
 * Prometheus metrics named as ingress-nginx names them (`nginx_ingress_controller_*`,
 * internal/ingress/metric/collectors), on a per-instance Registry. Label children are
 * cached per route so a request costs a map lookup, not a label hash per metric.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RouteInfo } from './route.js';

const LABELS = ['status', 'method', 'path', 'namespace', 'ingress', 'service', 'canary', 'host'] as const;
type Label = (typeof LABELS)[number];

export interface RequestObservation {
  info: RouteInfo;
  host: string;
  method: string;
  status: number;
  /** Seconds from the first byte of the request to the end of the response. */
  requestSeconds: number;
  /** Seconds the upstream took (all tries), when proxied. */
  upstreamSeconds?: number;
  connectSeconds?: number;
  headerSeconds?: number;
  requestBytes: number;
  responseBytes: number;
}

interface Children {
  requests: ReturnType<Counter<Label>['labels']>;
  duration: ReturnType<Histogram<Label>['labels']>;
  response: ReturnType<Histogram<Label>['labels']>;
  connect: ReturnType<Histogram<Label>['labels']>;
  header: ReturnType<Histogram<Label>['labels']>;
  requestSize: ReturnType<Histogram<Label>['labels']>;
  responseSize: ReturnType<Histogram<Label>['labels']>;
}

export class IngressMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: 'nginx_ingress_controller_requests', help: 'The total number of client requests', labelNames: LABELS, registers: [this.registry] });
  private readonly duration = hist(this.registry, 'nginx_ingress_controller_request_duration_seconds', 'The request processing time in seconds (from the first byte of the request to the last byte of the response)');
  private readonly response = hist(this.registry, 'nginx_ingress_controller_response_duration_seconds', 'The time spent on receiving the response from the upstream server in seconds');
  private readonly connect = hist(this.registry, 'nginx_ingress_controller_connect_duration_seconds', 'The time spent on establishing a connection with the upstream server');
  private readonly header = hist(this.registry, 'nginx_ingress_controller_header_duration_seconds', 'The time spent on receiving the first header from the upstream server');
  private readonly requestSize = hist(this.registry, 'nginx_ingress_controller_request_size', 'The request length (including request line, header, and request body)', [10, 100, 1000, 10000, 100000, 1e6, 1e7]);
  private readonly responseSize = hist(this.registry, 'nginx_ingress_controller_response_size', 'The response length (including request line, header, and request body)', [10, 100, 1000, 10000, 100000, 1e6, 1e7]);
  readonly configHash = new Gauge({ name: 'nginx_ingress_controller_config_hash', help: 'Running configuration hash actually running', registers: [this.registry] });
  readonly reloadSuccessful = new Gauge({ name: 'nginx_ingress_controller_config_last_reload_successful', help: 'Whether the last configuration reload attempt was successful', registers: [this.registry] });
  readonly reloadTimestamp = new Gauge({ name: 'nginx_ingress_controller_config_last_reload_successful_timestamp_seconds', help: 'Timestamp of the last successful configuration reload.', registers: [this.registry] });
  readonly syncs = new Counter({ name: 'nginx_ingress_controller_success', help: 'Cumulative number of Ingress controller reload operations', registers: [this.registry] });
  readonly sslExpire = new Gauge({ name: 'nginx_ingress_controller_ssl_expire_time_seconds', help: 'Number of seconds since 1970 to the SSL Certificate expire.', labelNames: ['host', 'secret_name', 'namespace'] as const, registers: [this.registry] });
  private readonly cache = new Map<string, Children>();

  observe(o: RequestObservation): void {
    const i = o.info;
    const key = `${o.status}\u0000${o.method}\u0000${i.location ?? ''}\u0000${i.ingress?.namespace ?? ''}\u0000${i.ingress?.name ?? ''}\u0000${i.service ?? ''}\u0000${i.alternativeUpstreamName}\u0000${o.host}`;
    let c = this.cache.get(key);
    if (!c) {
      if (this.cache.size > 10_000) this.cache.clear(); // unbounded hosts must not grow memory forever
      const labels: Record<Label, string> = {
        status: String(o.status),
        method: o.method,
        path: i.location ?? '',
        namespace: i.ingress?.namespace ?? '',
        ingress: i.ingress?.name ?? '',
        service: i.service ?? '',
        canary: i.alternativeUpstreamName,
        host: o.host,
      };
      c = {
        requests: this.requests.labels(labels),
        duration: this.duration.labels(labels),
        response: this.response.labels(labels),
        connect: this.connect.labels(labels),
        header: this.header.labels(labels),
        requestSize: this.requestSize.labels(labels),
        responseSize: this.responseSize.labels(labels),
      };
      this.cache.set(key, c);
    }
    c.requests.inc();
    c.duration.observe(o.requestSeconds);
    if (o.upstreamSeconds !== undefined) c.response.observe(o.upstreamSeconds);
    if (o.connectSeconds !== undefined) c.connect.observe(o.connectSeconds);
    if (o.headerSeconds !== undefined) c.header.observe(o.headerSeconds);
    c.requestSize.observe(o.requestBytes);
    c.responseSize.observe(o.responseBytes);
  }
}

function hist(registry: Registry, name: string, help: string, buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]): Histogram<Label> {
  return new Histogram({ name, help, labelNames: LABELS, buckets, registers: [registry] });
}
