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
  /** (qtype << 1 | tcp) → count, for every qtype; qtypes below 256 in a typed array. */
  private readonly rareTypes = new Map<number, number>();
  private readonly commonTypes = new Float64Array(512);
  /** rcode → count; the 4-bit header rcodes in an array, extended ones (BADVERS) in a map. */
  private readonly headerRcodes = new Float64Array(16);
  private readonly extendedRcodes = new Map<number, number>();

  countQuery(qtype: number, transport: 'udp' | 'tcp'): void {
    this.queries++;
    const tcp = transport === 'tcp' ? 1 : 0;
    if (tcp) this.tcp++;
    else this.udp++;
    // Typed arrays, not Map lookups: this runs on every query.
    const k = (qtype << 1) | tcp;
    if (k < 512) this.commonTypes[k]!++;
    else this.rareTypes.set(k, (this.rareTypes.get(k) ?? 0) + 1);
  }

  countResponse(rcode: number): void {
    if (rcode < 16) this.headerRcodes[rcode]!++;
    else this.extendedRcodes.set(rcode, (this.extendedRcodes.get(rcode) ?? 0) + 1);
  }

  /** (qtype << 1 | tcp) → count, for the counts that are not zero. */
  get byTypeAndTransport(): Map<number, number> {
    const out = new Map<number, number>();
    this.commonTypes.forEach((v, k) => {
      if (v > 0) out.set(k, v);
    });
    for (const [k, v] of this.rareTypes) out.set(k, v);
    return out;
  }

  /** rcode → count, for the counts that are not zero. */
  get byRcode(): Map<number, number> {
    const out = new Map<number, number>();
    this.headerRcodes.forEach((v, k) => {
      if (v > 0) out.set(k, v);
    });
    for (const [k, v] of this.extendedRcodes) out.set(k, v);
    return out;
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
