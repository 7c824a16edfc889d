/**
 * How a command finds its cluster: --redis URL or KNET_REDIS_URL names the store directly;
 * otherwise the cluster's file in the state dir (written by `knet up`) does.
 *
 * A command fails fast when the store does not answer, with one line that says which store
 * and why (storeNotAnswering): no stack trace, exit 1. A component (`knet node node-1`…)
 * connects the same way but waits longer: its writes ride out a restart of the store.
 */
import { connectRedis, lastConnectionError, parseRedisUrl, type RedisClient } from '../base/store/redis-connection.js';
import { ObjectStore } from '../base/store/object-store.js';
import { isConnectionError, storeNotAnswering, type StoreLocation } from '../base/store/errors.js';
import { ClusterDir, defaultStateDir, type ClusterFile } from '../cluster/state-dir.js';
import type { ClusterConfig } from '../base/cluster-config.js';

export interface GlobalOptions {
  stateDir?: string;
  redis?: string;
  cluster?: string;
}

export interface Connection {
  store: ObjectStore;
  config: ClusterConfig;
  redisUrl: string;
  clusterDir: ClusterDir;
  clusterFile?: ClusterFile;
  close(): Promise<void>;
}

export class UsageError extends Error {}

/** What a one-shot command and a long-running component each put up with. */
const ROLES = {
  /** A queued command fails after 2 reconnect attempts (~0.3 s); the first answer may take 2 s. */
  command: { maxRetriesPerRequest: 2, answerMs: 2000 },
  /** Writes wait through ~20 reconnect attempts (~18 s: a store restart); starting, 10 s. */
  component: { maxRetriesPerRequest: 20, answerMs: 10_000 },
} as const;

/** The store the last connect() reached for, to explain a connection error later in the command. */
let reached: { where: StoreLocation; client: RedisClient } | undefined;

export function clusterDirOf(opts: GlobalOptions): ClusterDir {
  return new ClusterDir(opts.stateDir ?? defaultStateDir(), opts.cluster ?? process.env.KNET_CLUSTER ?? 'default');
}

export async function connect(opts: GlobalOptions, role: keyof typeof ROLES = 'command'): Promise<Connection> {
  const clusterDir = clusterDirOf(opts);
  const file = clusterDir.read();
  const given = opts.redis ?? process.env.KNET_REDIS_URL;
  const redisUrl = given ?? file?.redisUrl;
  if (!redisUrl) {
    throw new UsageError(`no cluster found at ${clusterDir.dir} (start one with \`knet up\`, or pass --redis URL / set KNET_REDIS_URL)`);
  }
  const clusterName = file?.name ?? clusterDir.name;
  const { maxRetriesPerRequest, answerMs } = ROLES[role];
  const client = connectRedis(redisUrl, { maxRetriesPerRequest });
  const where: StoreLocation = {
    cluster: clusterName,
    address: parseRedisUrl(redisUrl).hosts.map((h) => `${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`).join(','),
    embedded: file?.embeddedRedis === true && (given === undefined || given === file.redisUrl),
  };
  reached = { where, client };
  const store = new ObjectStore(client, clusterName);
  let config: ClusterConfig | undefined;
  try {
    config = await withTimeout(store.readConfig<ClusterConfig>(), answerMs);
  } catch (err) {
    await store.close();
    throw explainStoreFailure(err);
  }
  if (!config) {
    await store.close();
    throw new UsageError(`the state store has no cluster "${clusterName}" (start one with \`knet up\`)`);
  }
  return { store, config, redisUrl, clusterDir, clusterFile: file, close: () => store.close() };
}

/**
 * The error to show for `err`: a failure to reach the store becomes the one line that names
 * the store and the cause (the connection's own error, say ECONNREFUSED, rather than
 * ioredis's "Reached the max retries per request limit"); anything else is itself.
 */
export function explainStoreFailure(err: unknown): unknown {
  if (!reached || !(err instanceof NoAnswer || isConnectionError(err))) return err;
  const cause = err instanceof NoAnswer ? err.message : (lastConnectionError(reached.client)?.message ?? (err as Error).message);
  return storeNotAnswering(reached.where, cause);
}

class NoAnswer extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new NoAnswer(`no answer within ${ms / 1000} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
