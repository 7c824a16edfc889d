/**
 * `GET /metrics` (`kubectl get --raw /metrics`): Prometheus text from the apiserver's own state at
 * scrape time, on a Registry per server. `apiserver_storage_objects{resource}` is upstream's
 * (the objects stored per resource); the request and watch counts are knet's own, under a
 * `knet_apiserver_` prefix, since upstream's carry labels (verb, resource, code, …) knet does not
 * count by.
 */
import { Gauge, Registry } from 'prom-client';
import { scrapedCounter } from '../base/net/scraped-counter.js';
import type { ApiContext, Reply } from './api-request.js';
import { API_RESOURCES } from '../base/model/api-resources.js';

export function createApiMetrics(ctx: ApiContext): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'apiserver_storage_objects',
    help: '[STABLE] Number of stored objects at the time of last check split by kind.',
    labelNames: ['resource'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of API_RESOURCES) this.set({ resource: r.group ? `${r.plural}.${r.group}` : r.plural }, ctx.cache.list(r.kind).length);
    },
  });
  scrapedCounter(registry, 'knet_apiserver_requests_total', 'Requests received (every path and verb).', () => ctx.counters.requests);
  scrapedCounter(registry, 'knet_apiserver_request_errors_total', 'Requests answered with a 4xx or 5xx code.', () => ctx.counters.errors);
  new Gauge({
    name: 'knet_apiserver_watches',
    help: 'Watch streams open now.',
    registers: [registry],
    collect() {
      this.set(ctx.counters.watches);
    },
  });
  return registry;
}

const registries = new WeakMap<ApiContext, Registry>();

export async function metricsReply(ctx: ApiContext): Promise<Reply> {
  let registry = registries.get(ctx);
  if (!registry) registries.set(ctx, (registry = createApiMetrics(ctx)));
  return { code: 200, contentType: registry.contentType, body: await registry.metrics() };
}
