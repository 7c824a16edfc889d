/**
 * Connecting to the state store. One URL names it:
 *   redis://[:password@]host:port[/db]            a plain Redis (rediss:// for TLS)
 *   redis-sentinel://[:password@]h1:p1,h2:p2/NAME  a Sentinel-managed master called NAME
 *   redis-cluster://[:password@]h1:p1,h2:p2        a Redis Cluster (all our keys share one hash tag)
 * RESP2 is pinned: ioredis 6 defaults to RESP3 and we rely on RESP2 reply shapes.
 */
import { Redis, Cluster, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

export interface ConnectOptions {
  /** A dedicated connection for blocking reads (the watch) must not queue behind other commands. */
  purpose?: string;
  /** Give up queued commands after this many reconnect attempts (ioredis default 20; null = wait forever). */
  maxRetriesPerRequest?: number | null;
}

export function connectRedis(url: string, opts: ConnectOptions = {}): RedisClient {
  const u = new URL(url);
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const base: RedisOptions = {
    protocol: 2,
    password,
    username,
    connectionName: opts.purpose ? `knet-${opts.purpose}` : 'knet',
    maxRetriesPerRequest: opts.maxRetriesPerRequest === undefined ? 20 : opts.maxRetriesPerRequest,
    // Reconnect quickly and forever: components keep serving their cache while Redis is away.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    enableOfflineQueue: true,
    lazyConnect: false,
  };
  const hosts = (u.host || '127.0.0.1:6379').split(',').map((h) => {
    const [host, port] = h.split(':');
    return { host: host || '127.0.0.1', port: Number(port || 6379) };
  });
  switch (u.protocol) {
    case 'redis:':
    case 'rediss:': {
      const db = Number(u.pathname.replace('/', '') || 0);
      const first = hosts[0]!;
      return new Redis({ ...base, host: first.host, port: first.port, db, tls: u.protocol === 'rediss:' ? {} : undefined });
    }
    case 'redis-sentinel:': {
      const name = u.pathname.replace('/', '') || 'mymaster';
      return new Redis({ ...base, sentinels: hosts, name, sentinelPassword: password });
    }
    case 'redis-cluster:':
      return new Cluster(hosts, { redisOptions: base, clusterRetryStrategy: base.retryStrategy });
    default:
      throw new Error(`unsupported Redis URL scheme "${u.protocol}" (use redis://, rediss://, redis-sentinel:// or redis-cluster://)`);
  }
}

/** Strips the password from a URL for logs and summaries. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
