/**
 * Connecting to the state store. One URL names it:
 *   redis://[[user]:password@]host:port[/db]            a plain Redis (rediss:// for TLS)
 *   redis-sentinel://[[user]:password@]h1:p1,h2:p2/NAME  a Sentinel-managed master called NAME
 *   redis-cluster://[[user]:password@]h1:p1,h2:p2        a Redis Cluster (all our keys share one hash tag)
 * The password is the data nodes'; Sentinels get the same one unless the query says
 * `?sentinelPassword=…` (ioredis only warns when a Sentinel has no password set). Hosts may be
 * IPv6 in brackets (`[::1]:26379`); a missing port is 6379 (26379 for Sentinels).
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

export type RedisScheme = 'redis' | 'rediss' | 'redis-sentinel' | 'redis-cluster';

/** A parsed store URL. */
export interface RedisTarget {
  scheme: RedisScheme;
  hosts: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  /** redis:// and rediss:// only. */
  db: number;
  /** redis-sentinel:// only: the monitored master's name. */
  masterName?: string;
  sentinelPassword?: string;
}

const SCHEMES: readonly string[] = ['redis', 'rediss', 'redis-sentinel', 'redis-cluster'];

/**
 * Parses a store URL. Not `new URL()`: WHATWG URL parsing rejects the comma-separated host
 * lists Sentinel and Cluster URLs need (`h1:p1,h2:p2` is an invalid port), so this reads
 * `scheme://[userinfo@]hosts[/path][?query]` itself.
 */
export function parseRedisUrl(url: string): RedisTarget {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(url.trim());
  const scheme = m?.[1]?.toLowerCase();
  if (!m || !scheme || !SCHEMES.includes(scheme)) {
    throw new Error(`unsupported Redis URL "${redactUrl(url)}" (use redis://, rediss://, redis-sentinel:// or redis-cluster://)`);
  }
  let rest = m[2]!;
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) [rest, query] = [rest.slice(0, q), rest.slice(q + 1)];
  // The last '@' ends the userinfo, so an unescaped '@' in a password still works.
  let userinfo: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) [userinfo, rest] = [rest.slice(0, at), rest.slice(at + 1)];
  const slash = rest.indexOf('/');
  const hostList = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash + 1).replace(/\/+$/, '') : '';
  const defaultPort = scheme === 'redis-sentinel' ? 26379 : 6379;
  const hosts = hostList ? hostList.split(',').map((h) => parseHost(h, defaultPort, url)) : [{ host: '127.0.0.1', port: defaultPort }];

  let username: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    const pass = colon >= 0 ? userinfo.slice(colon + 1) : undefined;
    // `redis://secret@host` is a password alone, as redis-cli and ioredis read it.
    if (pass === undefined) password = decode(user);
    else [username, password] = [user ? decode(user) : undefined, pass ? decode(pass) : undefined];
  }
  const params = new URLSearchParams(query);
  const target: RedisTarget = { scheme: scheme as RedisScheme, hosts, username, password, db: 0 };
  if (scheme === 'redis' || scheme === 'rediss') {
    if (path && !/^\d+$/.test(path)) throw new Error(`Redis URL "${redactUrl(url)}": the path must be a database number (got "/${path}")`);
    target.db = Number(path || 0);
  } else if (scheme === 'redis-sentinel') {
    target.masterName = path ? decode(path) : 'mymaster';
    target.sentinelPassword = params.has('sentinelPassword') ? params.get('sentinelPassword') || undefined : password;
  } else if (path) {
    throw new Error(`Redis URL "${redactUrl(url)}": a redis-cluster:// URL has no path (got "/${path}")`);
  }
  return target;
}

function parseHost(spec: string, defaultPort: number, url: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]*)(?::(\d*))?$/.exec(spec.trim());
  if (!m) throw new Error(`Redis URL "${redactUrl(url)}": cannot read the host "${spec}" (host:port, [ipv6]:port)`);
  const host = m[1]!.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = m[2] ? Number(m[2]) : defaultPort;
  if (!(port > 0 && port < 65536)) throw new Error(`Redis URL "${redactUrl(url)}": port ${m[2]} is out of range`);
  return { host, port };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The last connection error of each client (ioredis reports them as events, not to the command that waits). */
const lastErrors = new WeakMap<RedisClient, Error>();

/** Why the client's connection last failed (`connect ECONNREFUSED 127.0.0.1:6379`), if it did. */
export function lastConnectionError(client: RedisClient): Error | undefined {
  return lastErrors.get(client);
}

export function connectRedis(url: string, opts: ConnectOptions = {}): RedisClient {
  const client = createClient(url, opts);
  // Without a listener ioredis prints every connection error with its stack to stderr, once
  // per reconnect attempt. The commands that wait fail on their own; who cares reads this.
  client.on('error', (err: Error) => lastErrors.set(client, err));
  return client;
}

/** What abandonConnection reaches into: ioredis 6's queues of waiting commands. */
interface QueuedCommands {
  length: number;
  shift(): { command: { reject(err: Error): void } } | undefined;
}

/**
 * Gives up on a connection at once: every command waiting on it, and every later one, fails
 * with "Connection is closed.". ioredis's disconnect() does not do that between two reconnect
 * attempts — the commands queued meanwhile, and those that were in flight when the connection
 * broke, stay pending for good (redis/ioredis#2197, #2169), and a shutdown waiting on one of
 * them hangs. So this also ends the client and rejects its queues itself (internals of ioredis
 * 6; a Cluster client only gets the disconnect).
 */
export function abandonConnection(client: RedisClient): void {
  client.disconnect();
  if (!(client instanceof Redis) || client.status === 'end') return;
  const internals = client as unknown as { setStatus?(status: string): void; offlineQueue?: QueuedCommands; commandQueue?: QueuedCommands; prevCommandQueue?: QueuedCommands | null };
  internals.setStatus?.('end');
  const closed = new Error('Connection is closed.');
  for (const queue of [internals.offlineQueue, internals.commandQueue, internals.prevCommandQueue]) {
    for (let item = queue?.shift(); item; item = queue?.shift()) item.command.reject(closed);
  }
}

/**
 * True if the store answers a PING within `ms`; false at once while the connection is down.
 * Shutdown asks this first: a store that does not answer would hold every last write.
 */
export async function storeAnswers(client: RedisClient, ms: number): Promise<boolean> {
  if (client.status !== 'ready') return false;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([client.ping().then(() => true, () => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

function createClient(url: string, opts: ConnectOptions): RedisClient {
  const t = parseRedisUrl(url);
  const base: RedisOptions = {
    protocol: 2,
    password: t.password,
    username: t.username,
    connectionName: opts.purpose ? `knet-${opts.purpose}` : 'knet',
    maxRetriesPerRequest: opts.maxRetriesPerRequest === undefined ? 20 : opts.maxRetriesPerRequest,
    // Reconnect quickly and forever: components keep serving their cache while Redis is away.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
    enableOfflineQueue: true,
    lazyConnect: false,
    // Closing waits this long for the server to close its side (ioredis: 2 s): a store that
    // hangs must not hold a shutdown.
    disconnectTimeout: 200,
  };
  switch (t.scheme) {
    case 'redis':
    case 'rediss': {
      const first = t.hosts[0]!;
      return new Redis({ ...base, host: first.host, port: first.port, db: t.db, tls: t.scheme === 'rediss' ? {} : undefined });
    }
    case 'redis-sentinel':
      return new Redis({
        ...base,
        sentinels: t.hosts,
        name: t.masterName,
        sentinelPassword: t.sentinelPassword,
        // Learn of a failover from the Sentinels' +switch-master at once, not at the next error.
        failoverDetector: true,
        // Right after a failover this connection can still point at the demoted master (now a
        // replica): a write fails with READONLY. Reconnect (asking the Sentinels for the new
        // master) and resend the command (2) instead of failing it.
        reconnectOnError: (err) => (err.message.includes('READONLY') ? 2 : false),
      });
    case 'redis-cluster':
      return new Cluster(t.hosts, { redisOptions: base, clusterRetryStrategy: base.retryStrategy });
  }
}

/** Strips the password from a URL for logs and errors (up to the last '@', as the parser reads it). */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)(?:([^:@/]*):)?.*@/i, (_m, scheme: string, user?: string) => `${scheme}${user === undefined ? '' : `${user}:`}***@`)
    .replace(/([?&]sentinelPassword=)[^&]*/i, '$1***');
}
