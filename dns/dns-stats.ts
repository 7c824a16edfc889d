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

/**
 * Counts by small integer key: keys below `size` in a typed array (a Map lookup per query
 * showed in the profile), the rare larger ones in a map.
 */
class KeyCounts {
  private readonly dense: Float64Array;
  private readonly sparse = new Map<number, number>();
  constructor(size: number) {
    this.dense = new Float64Array(size);
  }
  add(key: number): void {
    if (key < this.dense.length) this.dense[key]!++;
    else this.sparse.set(key, (this.sparse.get(key) ?? 0) + 1);
  }
  /** key → count, for the counts that are not zero. */
  nonZero(): Map<number, number> {
    const out = new Map<number, number>();
    this.dense.forEach((v, k) => {
      if (v > 0) out.set(k, v);
    });
    for (const [k, v] of this.sparse) out.set(k, v);
    return out;
  }
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
  /** (qtype << 1 | tcp) → count; qtypes below 256 dense. */
  private readonly types = new KeyCounts(512);
  /** rcode → count; the 4-bit header rcodes dense, extended ones (BADVERS) sparse. */
  private readonly rcodes = new KeyCounts(16);

  countQuery(qtype: number, transport: 'udp' | 'tcp'): void {
    this.queries++;
    const tcp = transport === 'tcp' ? 1 : 0;
    if (tcp) this.tcp++;
    else this.udp++;
    this.types.add((qtype << 1) | tcp);
  }

  countResponse(rcode: number): void {
    this.rcodes.add(rcode);
  }

  /** (qtype << 1 | tcp) → count, for the counts that are not zero. */
  get byTypeAndTransport(): Map<number, number> {
    return this.types.nonZero();
  }

  /** rcode → count, for the counts that are not zero. */
  get byRcode(): Map<number, number> {
    return this.rcodes.nonZero();
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
