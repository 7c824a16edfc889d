/**
 * Prometheus metrics of one DNS server, on its own Registry (several clusters may share a
 * process). Values are read from DnsStats at scrape time; shaped like CoreDNS's
 * (coredns_dns_requests_total{type}, coredns_dns_responses_total{rcode}, coredns_cache_*) under
 * a knet_dns_ prefix. metrics-endpoint.ts serves them on :9153.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { scrapedCounter } from '../dataplane/base/net/scraped-counter.js';
import type { DnsStats } from './dns-stats.js';
import { rcodeName, RRType, typeName } from './records.js';

/** Types with their own label value; the rest are "other", as CoreDNS does. */
const LABELLED_TYPES = new Set<number>([
  RRType.A,
  RRType.AAAA,
  RRType.SRV,
  RRType.PTR,
  RRType.TXT,
  RRType.CNAME,
  RRType.SOA,
  RRType.NS,
  RRType.MX,
  RRType.ANY,
  RRType.HINFO,
  RRType.AXFR,
  RRType.IXFR,
  65,
]);

export function createDnsMetrics(stats: DnsStats, cacheEntries: () => number): Registry {
  const registry = new Registry();
  const counter = (name: string, help: string, read: () => number) => scrapedCounter(registry, name, help, read);
  new Counter({
    name: 'knet_dns_requests_total',
    help: 'DNS queries received, by query type and transport.',
    labelNames: ['type', 'proto'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [k, v] of stats.byTypeAndTransport) {
        const t = k >> 1;
        this.inc({ type: LABELLED_TYPES.has(t) ? typeName(t) : 'other', proto: k & 1 ? 'tcp' : 'udp' }, v);
      }
    },
  });
  new Counter({
    name: 'knet_dns_responses_total',
    help: 'DNS responses sent, by rcode.',
    labelNames: ['rcode'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [rcode, v] of stats.byRcode) this.inc({ rcode: rcodeName(rcode) }, v);
    },
  });
  counter('knet_dns_cache_hits_total', 'Queries answered from the encoded-response cache.', () => stats.cacheHits);
  counter('knet_dns_cache_misses_total', 'Queries that had to be answered and encoded.', () => stats.cacheMisses);
  counter('knet_dns_dropped_total', 'Packets not answered (malformed beyond a header, responses, internal failures).', () => stats.dropped);
  counter('knet_dns_truncated_total', 'Responses sent with TC set.', () => stats.truncated);
  counter('knet_dns_forward_requests_total', 'Queries forwarded upstream.', () => stats.forwarded);
  counter('knet_dns_forward_failures_total', 'Forwarded queries that timed out or failed (SERVFAIL).', () => stats.forwardFailures);
  new Gauge({
    name: 'knet_dns_cache_entries',
    help: 'Entries in the encoded-response cache.',
    registers: [registry],
    collect() {
      this.set(cacheEntries());
    },
  });
  return registry;
}
