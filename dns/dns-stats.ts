/**
 * Plain counters bumped on the query path (a few integer adds per query); metrics.ts exposes
 * them through prom-client at scrape time, so the hot path never touches label hashing.
 */
import { rcodeName, typeName } from './records.js';

export interface DnsStatsSnapshot {
  queries: number;
  byTransport: { udp: number; tcp: number };
  /** Query counts by QTYPE name (A, AAAA, SRV, …, TYPE65). */
  byType: Record<string, number>;
  /** Response counts by rcode name (NOERROR, NXDOMAIN, …). */
  byRcode: Record<string, number>;
  cacheHits: number;
  cacheMisses: number;
  /** Hits / (hits + misses); 0 before any query. */
  cacheHitRate: number;
  cacheEntries: number;
  /** Packets with no reply: too short, responses, or failures while answering. */
  dropped: number;
  truncated: number;
  forwarded: number;
  /** Forwarded queries that timed out or failed (answered SERVFAIL). */
  forwardFailures: number;
}

export class DnsStats {
  queries = 0;
  udp = 0;
  tcp = 0;
  cacheHits = 0;
  cacheMisses = 0;
  dropped = 0;
  truncated = 0;
  forwarded = 0;
  forwardFailures = 0;
  /** (qtype << 1 | tcp) → count */
  readonly byTypeAndTransport = new Map<number, number>();
  readonly byRcode = new Map<number, number>();

  countQuery(qtype: number, transport: 'udp' | 'tcp'): void {
    this.queries++;
    const tcp = transport === 'tcp' ? 1 : 0;
    if (tcp) this.tcp++;
    else this.udp++;
    const k = (qtype << 1) | tcp;
    this.byTypeAndTransport.set(k, (this.byTypeAndTransport.get(k) ?? 0) + 1);
  }

  countResponse(rcode: number): void {
    this.byRcode.set(rcode, (this.byRcode.get(rcode) ?? 0) + 1);
  }

  snapshot(cacheEntries: number): DnsStatsSnapshot {
    const byType: Record<string, number> = {};
    for (const [k, v] of this.byTypeAndTransport) {
      const name = typeName(k >> 1);
      byType[name] = (byType[name] ?? 0) + v;
    }
    const byRcode: Record<string, number> = {};
    for (const [k, v] of this.byRcode) byRcode[rcodeName(k)] = v;
    const lookups = this.cacheHits + this.cacheMisses;
    return {
      queries: this.queries,
      byTransport: { udp: this.udp, tcp: this.tcp },
      byType,
      byRcode,
      cacheHits: this.cacheHits,
      cacheMisses: this.cacheMisses,
      cacheHitRate: lookups === 0 ? 0 : this.cacheHits / lookups,
      cacheEntries,
      dropped: this.dropped,
      truncated: this.truncated,
      forwarded: this.forwarded,
      forwardFailures: this.forwardFailures,
    };
  }
}
