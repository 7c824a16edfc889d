/**
 * sessionAffinity: ClientIP for one service port: client IP → endpoint, with a sliding window.
 *
 * As in the userspace proxier's roundrobin.go: the key is the source IP only (the port is
 * dropped), a hit within the timeout refreshes lastUsed (so the window slides with each new
 * connection, as iptables' `recent --rcheck --seconds` does from the last `--set`), records of
 * endpoints that left are dropped, and idle records are reaped on each sync.
 */
import { endpointId, type EndpointInfo } from './service-table.js';

interface AffinityRecord {
  endpoint: string;
  lastUsedMs: number;
}

export class AffinityTable {
  private readonly records = new Map<string, AffinityRecord>();

  constructor(public timeoutSeconds: number) {}

  /**
   * The endpoint this client is stuck to, if its record is live and the endpoint is among the
   * candidates; refreshes the record. An expired record is forgotten.
   */
  lookup(clientIp: string, candidates: readonly EndpointInfo[], nowMs: number): EndpointInfo | undefined {
    const rec = this.records.get(clientIp);
    if (!rec) return undefined;
    if (nowMs - rec.lastUsedMs >= this.timeoutSeconds * 1000) {
      this.records.delete(clientIp);
      return undefined;
    }
    const ep = candidates.find((c) => endpointId(c) === rec.endpoint);
    if (!ep) return undefined;
    rec.lastUsedMs = nowMs;
    return ep;
  }

  record(clientIp: string, ep: EndpointInfo, nowMs: number): void {
    this.records.set(clientIp, { endpoint: endpointId(ep), lastUsedMs: nowMs });
  }

  /** Drops records whose endpoint is no longer in the service port, and idle ones. */
  prune(endpointIds: ReadonlySet<string>, nowMs: number): void {
    const ttlMs = this.timeoutSeconds * 1000;
    for (const [ip, rec] of this.records) {
      if (!endpointIds.has(rec.endpoint) || nowMs - rec.lastUsedMs >= ttlMs) this.records.delete(ip);
    }
  }

  get size(): number {
    return this.records.size;
  }

  /** clientIp → endpoint id, for introspection and tests. */
  entries(): Array<[string, string]> {
    return [...this.records].map(([ip, rec]) => [ip, rec.endpoint]);
  }
}
