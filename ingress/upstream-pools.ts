/**
 * Keep-alive connection pools to pods, one undici Pool per endpoint (nginx keeps an
 * upstream keepalive cache per peer too). Connections are bound to the controller's pod
 * address, idle ones close after 60 s, and pools of endpoints that left the route table
 * are closed once their in-flight requests finish.
 *
 * undici 7.30 reconnects after a request is aborted mid-response (nodejs/undici#5845; fix in
 * PR #5846, unreleased): the aborted request is put back as pending, a new connection is
 * opened for it and then left idle. A client that hangs up would so leave an open socket
 * to the pod. `dropIdleReconnect` undoes that: a connection opened right after an abort
 * that finds nothing to send is closed and its Client leaves the pool.
 */
import { Client, Pool } from 'undici';
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
        factory: (origin, options) => dropIdleReconnect(new Client(origin, options)),
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

/** See the module comment: close a connection undici opened only for an aborted request. */
function dropIdleReconnect(client: Client): Client {
  let afterAbort = false;
  client.on('disconnect', (_origin, _targets, err) => {
    // InformationalError: the socket was closed on purpose (abort, idle timeout, reset).
    if ((err as { code?: string } | undefined)?.code === 'UND_ERR_INFO') afterAbort = true;
  });
  client.on('connect', (origin) => {
    if (!afterAbort) return;
    afterAbort = false;
    setImmediate(() => {
      const s = client.stats;
      if (s.running > 0 || s.pending > 0 || client.destroyed) return;
      // 'connectionError' is how a Pool learns to drop a Client; then the socket is closed.
      const reason = Object.assign(new Error('idle connection opened for an aborted request'), { code: 'KNET_IDLE_RECONNECT', name: 'KnetIdleReconnect' });
      client.emit('connectionError', origin, [client], reason);
      client.destroy().catch(() => {});
    });
  });
  return client;
}
