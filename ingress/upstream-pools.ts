/**
 * Keep-alive connection pools to pods, one undici Pool per endpoint (nginx keeps an
 * upstream keepalive cache per peer too). Connections are bound to the controller's pod
 * address, idle ones close after 60 s, and pools of endpoints that left the route table
 * are closed once their in-flight requests finish.
 */
import { Pool } from 'undici';
import type { Endpoint } from './endpoints.js';
import type { RouteTable } from './route-table.js';

export interface PoolOptions {
  /** Local address for connections (the controller's pod IP). */
  localAddress?: string;
}

export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly opts: PoolOptions = {}) {}

  /** The pool for an endpoint, protocol and connect timeout (created on first use). */
  get(ep: Endpoint, protocol: 'http' | 'https', connectTimeoutMs: number): Pool {
    const key = `${protocol}|${ep.id}|${connectTimeoutMs}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new Pool(`${protocol}://${ep.address}:${ep.port}`, {
        keepAliveTimeout: 60_000,
        keepAliveMaxTimeout: 60_000,
        connectTimeout: connectTimeoutMs,
        // Timeouts are set per request (proxy-read-timeout); these are only the ceilings.
        headersTimeout: 0,
        bodyTimeout: 0,
        ...(this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}),
        ...(protocol === 'https' ? { connect: { rejectUnauthorized: false } } : {}),
      });
      // A pool-level error (e.g. a socket failing while idle) must never become uncaught.
      pool.on('connectionError', () => {});
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Closes pools whose endpoints are gone from the table (gracefully: in-flight requests finish). */
  prune(table: RouteTable): void {
    const live = new Set<string>();
    const add = (eps: Endpoint[] | undefined) => eps?.forEach((e) => live.add(e.id));
    for (const u of table.upstreams.values()) add(u.endpoints);
    for (const s of table.servers) for (const l of s.locations) add(l.customDefaultBackend?.endpoints);
    for (const [key, pool] of this.pools) {
      const id = key.split('|')[1]!;
      if (live.has(id)) continue;
      this.pools.delete(key);
      pool.close().catch(() => {});
    }
  }

  /** Destroys every pool and connection (shutdown). */
  async destroy(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.destroy().catch(() => {})));
  }
}
