/**
 * Bringing a whole cluster up and down: the embedded Redis (or a given one), the cluster's
 * settings and bootstrap objects, then the components — as supervised child processes
 * (`knet up`, DESIGN.md §2) or all inside this process (`--single-process`, the test API).
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterConfig, type ClusterConfig } from '../cluster-config.js';
import { connectRedis } from '../store/redis-connection.js';
import { ObjectStore } from '../store/object-store.js';
import { StoreInformerFactory } from '../store/watch.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../store/embedded-redis.js';
import { applyManifests } from '../api/apply.js';
import type { ManifestDoc } from '../api/manifests.js';
import { silentLogger, type Logger } from '../log.js';
import { bootstrapObjects } from './bootstrap.js';
import { claimClusterIndex, ClusterDir, defaultStateDir, pidAlive, releaseClusterIndex, type ClusterFile } from './state-dir.js';
import { startComponent, type ComponentName, type RunningComponent } from './components.js';
import { Supervisor } from './supervisor.js';

export interface ClusterOptions {
  /** Cluster name; `default` uses the Kubernetes-default address block (index 0). */
  name?: string;
  /** Address block; chosen automatically (and safely under concurrency) when omitted. */
  index?: number;
  nodes?: number;
  stateDir?: string;
  /** Use this Redis instead of starting one. */
  redisUrl?: string;
  mode?: 'processes' | 'single-process';
  /** Which optional components to run (all by default). */
  components?: { proxy?: boolean; dns?: boolean; ingress?: boolean };
  /** Settings to override in the cluster's config (e.g. dnsPort, nodeGraceSeconds). */
  config?: Partial<ClusterConfig>;
  log?: Logger;
  crashBackoffMs?: number;
  /** Remove the state dir on close (the test API's temp dirs). */
  removeStateOnClose?: boolean;
}

export interface Cluster {
  name: string;
  config: ClusterConfig;
  redisUrl: string;
  store: ObjectStore;
  dir: ClusterDir;
  mode: 'processes' | 'single-process';
  /** The embedded Redis's pid (undefined with --redis). */
  redisPid?: number;
  /** Component name → pid (all the same in single-process mode). */
  pids(): Record<string, number | undefined>;
  /** Component name → info it reported (DNS port, ingress ports, node IPs). */
  componentInfo(): Record<string, Record<string, string | number> | undefined>;
  apply(docs: ManifestDoc[]): ReturnType<typeof applyManifests>;
  close(): Promise<void>;
}

export function cliEntry(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const sibling = path.join(here, '..', 'cli', 'main.js');
  if (existsSync(sibling)) return sibling;
  // Running from TypeScript sources (tests): use the build.
  const built = path.resolve(here, '..', '..', 'dist', 'dataplane', 'cli', 'main.js');
  if (existsSync(built)) return built;
  throw new Error(`cannot find the knet CLI build (${built}); run \`npm run build\``);
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const name = opts.name ?? 'default';
  const stateDir = opts.stateDir ?? defaultStateDir();
  const dir = new ClusterDir(stateDir, name);
  const log = opts.log ?? silentLogger;
  const mode = opts.mode ?? 'processes';
  const prior = dir.read();
  if (prior?.supervisorPid && prior.supervisorPid !== process.pid && pidAlive(prior.supervisorPid)) {
    throw new Error(`cluster "${name}" is already running (pid ${prior.supervisorPid}); stop it with \`knet down${name === 'default' ? '' : ` --cluster ${name}`}\``);
  }
  const index = claimClusterIndex(`${name} ${dir.dir}`, opts.index ?? (name === 'default' ? 0 : undefined));
  const cleanups: Array<() => Promise<void> | void> = [() => releaseClusterIndex(index)];
  const runCleanups = async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
  };
  try {
    const config: ClusterConfig = { ...clusterConfig(index, name), ...opts.config };
    let redis: EmbeddedRedis | undefined;
    let redisUrl = opts.redisUrl;
    if (!redisUrl) {
      redis = await startEmbeddedRedis({ dir: dir.redisDir, log });
      redisUrl = redis.url;
      cleanups.push(() => redis!.stop());
    }
    const store = new ObjectStore(connectRedis(redisUrl), name);
    cleanups.push(() => store.close());
    await store.writeConfig(config);
    // Clear heartbeats of a previous run so old nodes are not thought alive.
    await store.redis.del(store.keys.heartbeats);
    await applyManifests(store, config, bootstrapObjects(config).map((object, i) => ({ source: '<bootstrap>', index: i + 1, object })));

    const nodes = Array.from({ length: opts.nodes ?? 2 }, (_, i) => `node-${i + 1}`);
    const wanted = { proxy: true, dns: true, ingress: true, ...opts.components };
    const order: ComponentName[] = [
      'controller-manager',
      ...(nodes as ComponentName[]),
      ...(wanted.proxy ? (['proxy'] as const) : []),
      ...(wanted.dns ? (['dns'] as const) : []),
      ...(wanted.ingress ? (['ingress'] as const) : []),
    ];
    const info: Record<string, Record<string, string | number> | undefined> = {};
    const file: ClusterFile = { name, redisUrl, embeddedRedis: !!redis, config, supervisorPid: process.pid, startedAt: new Date().toISOString(), mode, processes: {} };

    if (mode === 'single-process') {
      const informers = new StoreInformerFactory(store, { redisUrl, log });
      cleanups.push(() => informers.close());
      const running: RunningComponent[] = [];
      cleanups.push(async () => {
        for (const c of running.reverse()) await c.close().catch((err: Error) => log.warn('component close failed', { component: c.name, error: err }));
      });
      const ctx = { store, informers, config, log, clusterDir: dir, nodes, crashBackoffMs: opts.crashBackoffMs };
      // The controller manager and nodes first, then the data plane in parallel.
      for (const c of order.slice(0, nodes.length + 1)) running.push(await startComponent(c, ctx));
      running.push(...(await Promise.all(order.slice(nodes.length + 1).map((c) => startComponent(c, ctx)))));
      for (const c of running) info[c.name] = c.info;
      file.processes = { all: process.pid };
    } else {
      const supervisor = new Supervisor(cliEntry(), log);
      cleanups.push(() => supervisor.stopAll());
      const common = ['--state-dir', stateDir, '--cluster', name, '--redis', redisUrl];
      const argsOf = (c: ComponentName) => (c.startsWith('node-') ? ['node', c, ...common] : [c, ...common, '--nodes', nodes.join(',')]);
      const env = opts.crashBackoffMs ? { KNET_CRASH_BACKOFF_MS: String(opts.crashBackoffMs) } : undefined;
      dir.write(file);
      const children = await Promise.all(order.map((c) => supervisor.start({ name: c, args: argsOf(c), logFile: dir.componentLog(c), env })));
      for (const ch of children) info[ch.name] = ch.info();
      file.processes = supervisor.pids();
    }
    dir.write(file);
    cleanups.push(() => dir.remove());
    if (opts.removeStateOnClose) cleanups.push(() => rmSync(dir.dir, { recursive: true, force: true }));

    let closed: Promise<void> | undefined;
    return {
      name,
      config,
      redisUrl,
      store,
      dir,
      mode,
      redisPid: redis?.pid,
      pids: () => ({ redis: redis?.pid, ...(mode === 'single-process' ? Object.fromEntries(order.map((c) => [c, process.pid])) : file.processes) }),
      componentInfo: () => info,
      apply: (docs) => applyManifests(store, config, docs),
      close: () => (closed ??= runCleanups()),
    };
  } catch (err) {
    await runCleanups();
    throw err;
  }
}
