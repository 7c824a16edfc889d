/**
 * How a command finds its cluster: --redis URL or KNET_REDIS_URL names the store directly;
 * otherwise the cluster's file in the state dir (written by `knet up`) does.
 */
import { connectRedis } from '../store/redis-connection.js';
import { ObjectStore } from '../store/object-store.js';
import { ClusterDir, defaultStateDir, type ClusterFile } from '../cluster/state-dir.js';
import type { ClusterConfig } from '../cluster-config.js';

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

export function clusterDirOf(opts: GlobalOptions): ClusterDir {
  return new ClusterDir(opts.stateDir ?? defaultStateDir(), opts.cluster ?? process.env.KNET_CLUSTER ?? 'default');
}

export async function connect(opts: GlobalOptions): Promise<Connection> {
  const clusterDir = clusterDirOf(opts);
  const file = clusterDir.read();
  const redisUrl = opts.redis ?? process.env.KNET_REDIS_URL ?? file?.redisUrl;
  if (!redisUrl) {
    throw new UsageError(`no cluster found at ${clusterDir.dir} (start one with \`knet up\`, or pass --redis URL / set KNET_REDIS_URL)`);
  }
  const clusterName = file?.name ?? clusterDir.name;
  const store = new ObjectStore(connectRedis(redisUrl, { maxRetriesPerRequest: 2 }), clusterName);
  let config: ClusterConfig | undefined;
  try {
    config = await withTimeout(store.readConfig<ClusterConfig>(), 5000, `the state store at ${redisUrl.replace(/:[^:@/]*@/, ':***@')} did not answer`);
  } catch (err) {
    await store.close();
    throw err;
  }
  if (!config) {
    await store.close();
    throw new UsageError(`the state store has no cluster "${clusterName}" (start one with \`knet up\`)`);
  }
  return { store, config, redisUrl, clusterDir, clusterFile: file, close: () => store.close() };
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new UsageError(message)), ms);
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
