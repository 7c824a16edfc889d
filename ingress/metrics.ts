/**
 * Prometheus metrics named as ingress-nginx names them (`nginx_ingress_controller_*`,
 * internal/ingress/metric/collectors), on a per-instance Registry.
 *
 * Per-request series are aggregated here, in plain arrays keyed by the label values, and
 * handed to prom-client only when scraped: prom-client hashes the label set on every
 * observe, which cost more than the rest of the request path's bookkeeping together.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { RouteInfo } from './route.js';

type Labels = Record<'status' | 'method' | 'path' | 'namespace' | 'ingress' | 'service' | 'canary' | 'host', string>;

export interface RequestObservation {
  info: RouteInfo;
  host: string;
  method: string;
  status: number;
  /** Seconds from the first byte of the request to the end of the response. */
  requestSeconds: number;
  /** Seconds the upstream took (all tries), when proxied. */
  upstreamSeconds?: number;
  headerSeconds?: number;
  requestBytes: number;
  responseBytes: number;
}

const TIME_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SIZE_BUCKETS = [10, 100, 1000, 10000, 100000, 1e6, 1e7];

/** The per-request histograms, in the order a series stores them. */
const HISTOGRAMS = [
  ['nginx_ingress_controller_request_duration_seconds', 'The request processing time in seconds (from the first byte of the request to the last byte of the response)', TIME_BUCKETS],
  ['nginx_ingress_controller_response_duration_seconds', 'The time spent on receiving the response from the upstream server in seconds', TIME_BUCKETS],
  ['nginx_ingress_controller_header_duration_seconds', 'The time spent on receiving the first header from the upstream server', TIME_BUCKETS],
  ['nginx_ingress_controller_request_size', 'The request length (including request line, header, and request body)', SIZE_BUCKETS],
  ['nginx_ingress_controller_response_size', 'The response length (including request line, header, and request body)', SIZE_BUCKETS],
] as const;

interface Hist {
  counts: number[];
  sum: number;
  count: number;
}

interface Series {
  labels: Labels;
  requests: number;
  hists: Hist[];
}

export class IngressMetrics {
  readonly registry = new Registry();
  /** Hashes the running configuration; computed when scraped, not on every table rebuild. */
  configHashOf: () => number = () => 0;
  // prom-client calls collect() with the gauge as `this`; the arrow keeps ours.
  readonly configHash: Gauge = new Gauge({ name: 'nginx_ingress_controller_config_hash', help: 'Running configuration hash actually running', registers: [this.registry], collect: (): void => this.configHash.set(this.configHashOf()) });
  readonly reloadSuccessful = new Gauge({ name: 'nginx_ingress_controller_config_last_reload_successful', help: 'Whether the last configuration reload attempt was successful', registers: [this.registry] });
  readonly reloadTimestamp = new Gauge({ name: 'nginx_ingress_controller_config_last_reload_successful_timestamp_seconds', help: 'Timestamp of the last successful configuration reload.', registers: [this.registry] });
  readonly syncs = new Counter({ name: 'nginx_ingress_controller_success', help: 'Cumulative number of Ingress controller reload operations', registers: [this.registry] });
  readonly sslExpire = new Gauge({ name: 'nginx_ingress_controller_ssl_expire_time_seconds', help: 'Number of seconds since 1970 to the SSL Certificate expire.', labelNames: ['host', 'secret_name', 'namespace'] as const, registers: [this.registry] });
  private readonly series = new Map<string, Series>();

  constructor() {
    const series = () => this.series.values();
    const requests = {
      name: 'nginx_ingress_controller_requests',
      help: 'The total number of client requests',
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({ name: requests.name, help: requests.help, type: 'counter', aggregator: 'sum', values: [...series()].map((s) => ({ labels: s.labels, value: s.requests })) }),
      reset: () => this.series.clear(),
    };
    this.registry.registerMetric(requests as never);
    HISTOGRAMS.forEach(([name, help, buckets], index) => {
      const metric = {
        name,
        help,
        type: 'histogram',
        aggregator: 'sum',
        get: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: histogramValues(name, buckets, index, series()) }),
        reset: () => this.series.clear(),
      };
      this.registry.registerMetric(metric as never);
    });
  }

  observe(o: RequestObservation): void {
    const i = o.info;
    const key = `${o.status}\u0000${o.method}\u0000${i.location ?? ''}\u0000${i.ingress?.namespace ?? ''}\u0000${i.ingress?.name ?? ''}\u0000${i.service ?? ''}\u0000${i.alternativeUpstreamName}\u0000${o.host}`;
    let s = this.series.get(key);
    if (!s) {
      if (this.series.size > 10_000) this.series.clear(); // unbounded Host values must not grow memory forever
      s = {
        labels: {
          status: String(o.status),
          method: o.method,
          path: i.location ?? '',
          namespace: i.ingress?.namespace ?? '',
          ingress: i.ingress?.name ?? '',
          service: i.service ?? '',
          canary: i.alternativeUpstreamName,
          host: o.host,
        },
        requests: 0,
        hists: HISTOGRAMS.map(([, , b]) => ({ counts: new Array<number>(b.length).fill(0), sum: 0, count: 0 })),
      };
      this.series.set(key, s);
    }
    s.requests++;
    add(s.hists[0]!, TIME_BUCKETS, o.requestSeconds);
    if (o.upstreamSeconds !== undefined) add(s.hists[1]!, TIME_BUCKETS, o.upstreamSeconds);
    if (o.headerSeconds !== undefined) add(s.hists[2]!, TIME_BUCKETS, o.headerSeconds);
    add(s.hists[3]!, SIZE_BUCKETS, o.requestBytes);
    add(s.hists[4]!, SIZE_BUCKETS, o.responseBytes);
  }
}

function add(h: Hist, buckets: readonly number[], v: number): void {
  h.sum += v;
  h.count++;
  for (let b = 0; b < buckets.length; b++) {
    if (v <= buckets[b]!) {
      h.counts[b]!++;
      return;
    }
  }
}

/** prom-client's histogram value list: cumulative `_bucket`s with `le`, then `_sum` and `_count`. */
function histogramValues(name: string, buckets: readonly number[], index: number, series: Iterable<Series>) {
  const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
  for (const s of series) {
    const h = s.hists[index]!;
    if (h.count === 0) continue;
    let cumulative = 0;
    buckets.forEach((le, b) => {
      cumulative += h.counts[b]!;
      values.push({ labels: { ...s.labels, le }, value: cumulative, metricName: `${name}_bucket` });
    });
    values.push({ labels: { ...s.labels, le: '+Inf' }, value: h.count, metricName: `${name}_bucket` });
    values.push({ labels: s.labels, value: h.sum, metricName: `${name}_sum` });
    values.push({ labels: s.labels, value: h.count, metricName: `${name}_count` });
  }
  return values;
}
