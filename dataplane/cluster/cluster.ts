/**
 * Bringing a whole cluster up and down: the embedded Redis (or a given one), the cluster's
 * settings and bootstrap objects, then the components — as supervised child processes
 * (`knet up`, DESIGN.md §2) or all inside this process (`--single-process`, the test API).
 *
 * Start is on the critical path of every test that uses knet, so independent steps run
 * side by side: the bootstrap writes go out together, and in single-process mode every
 * component starts at once over one shared watch (components only meet through the store,
 * so their order does not matter). Close undoes it in the opposite order: components first
 * (they may still write), then the store connections and Redis, then the files, and the
 * address block last, so a block is never reused while anything of ours still holds it.
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterConfig, type ClusterConfig } from '../cluster-config.js';
import { connectRedis } from '../store/redis-connection.js';
import { ObjectStore } from '../store/object-store.js';
import { StoreInformerFactory } from '../store/watch.js';
import { startEmbeddedRedis, type EmbeddedRedis } from '../store/embedded-redis.js';
import type { ApplyResult } from '../api/apply.js';
import type { ManifestDoc } from '../api/manifests.js';
import { KINDS, type Kind } from '../model/object.js';
import { silentLogger, type Logger } from '../log.js';
import { bootstrapObjects } from './bootstrap.js';
import { claimClusterIndex, ClusterDir, defaultStateDir, pidAlive, releaseClusterIndex, type ClusterFile } from './state-dir.js';
import { startComponent, type ComponentName, type RunningComponent } from './components.js';
import { Supervisor, type SupervisedChild } from './supervisor.js';

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
  /**
   * A throwaway cluster (the test API's): its state dir is removed on close, so nothing in it
   * needs to survive a crash — the embedded Redis skips fsync and is killed, not shut down.
   */
  removeStateOnClose?: boolean;
  /** Single-process mode: also cache Events in the shared watch (the test API explains failures from them). */
  watchEvents?: boolean;
  /**
   * The user's manifests (`knet up -f`): applied as soon as the store is bootstrapped, while the
   * components start — the apiserver takes objects before any controller runs, and the
   * controllers pick them up from their first list. Their results are in `applied`.
   */
  manifests?: ManifestDoc[];
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
  /** The components' shared watch (single-process mode only; processes each have their own). */
  informers?: StoreInformerFactory;
  /** Component name → pid (all the same in single-process mode). */
  pids(): Record<string, number | undefined>;
  /** Component name → info it reported (DNS port, ingress ports, node IPs). */
  componentInfo(): Record<string, Record<string, string | number> | undefined>;
  /** Milliseconds each start phase took (redis, bootstrap, components), and close once closed. */
  timings: Record<string, number>;
  /** What applying `manifests` did, in their order. */
  applied: ApplyResult[];
  apply(docs: ManifestDoc[]): Promise<ApplyResult[]>;
  close(): Promise<void>;
}

/**
 * The `knet` program the supervisor starts components with: the bundle (dist/knet/main.js,
 * scripts/bundle.mjs), which starts in about half the CPU of the unbundled build, else tsc's
 * output. Works from the bundle itself, from dist/dataplane, and from the TypeScript sources.
 */
export function cliEntry(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    ...(path.basename(here) === 'chunks' ? [path.join(here, '..', 'main.js')] : []), // inside the bundle
    path.resolve(here, '..', '..', 'knet', 'main.js'), // dist/dataplane/cluster
    path.resolve(here, '..', '..', 'dist', 'knet', 'main.js'), // dataplane/cluster (sources, tests)
    path.resolve(here, '..', 'cli', 'main.js'), // dist/dataplane/cluster, built without the bundle step
    path.resolve(here, '..', '..', 'dist', 'dataplane', 'cli', 'main.js'), // sources, built without the bundle step
  ];
  const found = candidates.find((c) => existsSync(c));
  if (found) return found;
  throw new Error(`cannot find the knet CLI build (${candidates.at(-1)}); run \`npm run build\``);
}

/** Every kind a component watches (Events are written, not watched), listed in one go. */
const WATCHED_KINDS = (Object.keys(KINDS) as Kind[]).filter((k) => k !== 'Event');

/** What close() has to undo, in the order it undoes it. */
interface Teardown {
  components: Array<() => Promise<void>>;
  connections: Array<() => Promise<void> | void>;
  files: Array<() => void>;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const name = opts.name ?? 'default';
  const stateDir = opts.stateDir ?? defaultStateDir();
  const dir = new ClusterDir(stateDir, name);
  const log = opts.log ?? silentLogger;
  const mode = opts.mode ?? 'processes';
  const ephemeral = opts.removeStateOnClose === true;
  const prior = dir.read();
  if (prior?.supervisorPid && prior.supervisorPid !== process.pid && pidAlive(prior.supervisorPid)) {
    throw new Error(`cluster "${name}" is already running (pid ${prior.supervisorPid}); stop it with \`knet down${name === 'default' ? '' : ` --cluster ${name}`}\``);
  }
  // A cluster restarted on its own Redis data must get its block back: its stored ClusterIPs,
  // NodePorts and pod IPs were allocated from it, and another block would contradict them.
  const kept = prior?.config?.index ?? dir.readBlock();
  const mustKeep = !opts.redisUrl && kept !== undefined && existsSync(dir.redisDir);
  const wanted = opts.index ?? (name === 'default' ? 0 : mustKeep ? kept : undefined);
  let index: number;
  try {
    index = claimClusterIndex(`${name} ${dir.dir}`, wanted, wanted === undefined ? kept : undefined);
  } catch (err) {
    if (!mustKeep || opts.index !== undefined) throw err;
    throw new Error(
      `cluster "${name}" keeps its objects in ${dir.redisDir}, allocated from address block ${kept} (${clusterConfig(kept!, name).serviceCIDR}), ` +
        `and ${(err as Error).message}; stop that cluster, or remove ${dir.dir} to start "${name}" afresh`,
    );
  }
  if (!ephemeral) dir.writeBlock(index);
  const timings: Record<string, number> = {};
  let mark = performance.now();
  const phase = (what: string) => {
    timings[what] = msSince(mark);
    mark = performance.now();
  };
  const teardown: Teardown = { components: [], connections: [], files: [] };
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    const settle = (fns: Array<() => Promise<void> | void>, what: string) =>
      Promise.all(fns.map((fn) => Promise.resolve().then(fn).catch((err: Error) => log.warn(`${what} failed while stopping the cluster`, { error: err }))));
    await settle(teardown.components, 'component close');
    await settle(teardown.connections, 'disconnect');
    await settle(teardown.files, 'state cleanup');
    releaseClusterIndex(index);
    // Closed sockets and exited children release their handles on the next loop turns.
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  try {
    const config: ClusterConfig = { ...clusterConfig(index, name), ...opts.config };
    let redis: EmbeddedRedis | undefined;
    let redisUrl = opts.redisUrl;
    if (!redisUrl) {
      redis = await startEmbeddedRedis({ dir: dir.redisDir, log, ...(ephemeral ? { appendfsync: 'no' as const } : {}) });
      redisUrl = redis.url;
      const r = redis;
      teardown.connections.push(() => stopRedis(r, ephemeral));
    }
    phase('redis');
    const store = new ObjectStore(connectRedis(redisUrl), name);
    teardown.connections.push(() => disconnect(store));
    await Promise.all([
      store.writeConfig(config),
      // Clear heartbeats of a previous run so old nodes are not thought alive.
      store.redis.del(store.keys.heartbeats),
    ]);

    const nodes = Array.from({ length: opts.nodes ?? 2 }, (_, i) => `node-${i + 1}`);
    const want = { proxy: true, dns: true, ingress: true, ...opts.components };
    const order: ComponentName[] = [
      'controller-manager',
      ...(nodes as ComponentName[]),
      ...(want.proxy ? (['proxy'] as const) : []),
      ...(want.dns ? (['dns'] as const) : []),
      ...(want.ingress ? (['ingress'] as const) : []),
    ];
    const info: Record<string, Record<string, string | number> | undefined> = {};
    const file: ClusterFile = { name, redisUrl, embeddedRedis: !!redis, config, supervisorPid: process.pid, startedAt: new Date().toISOString(), mode, processes: {} };
    let informers: StoreInformerFactory | undefined;

    // Component processes are spawned first, while this process is small (each spawn forks
    // it, and a fork costs in proportion to its memory) and so that their start (~0.3 s of
    // CPU each) overlaps the bootstrap writes; components wait for the bootstrap objects they
    // need (components.ts).
    let supervisor: Supervisor | undefined;
    let children: Promise<SupervisedChild[]> | undefined;
    if (mode === 'processes') {
      const sup = new Supervisor(cliEntry(), log);
      supervisor = sup;
      teardown.components.push(() => sup.stopAll());
      // The Redis URL carries the password: hand it over in the environment, not in argv (ps).
      const common = ['--state-dir', stateDir, '--cluster', name];
      const argsOf = (c: ComponentName) => (c.startsWith('node-') ? ['node', c, ...common] : [c, ...common, '--nodes', nodes.join(',')]);
      const env = { KNET_REDIS_URL: redisUrl, ...(opts.crashBackoffMs ? { KNET_CRASH_BACKOFF_MS: String(opts.crashBackoffMs) } : {}) };
      dir.write(file);
      children = Promise.all(order.map((c) => sup.start({ name: c, args: argsOf(c), logFile: dir.componentLog(c), env })));
      children.catch(() => {});
    }

    const { applyManifests } = await import('../api/apply.js');
    await applyManifests(store, config, bootstrapObjects(config).map((object, i) => ({ source: '<bootstrap>', index: i + 1, object })));
    phase('bootstrap');
    // Not awaited yet: the components start meanwhile. A failed apply fails the start below.
    const manifests = opts.manifests ?? [];
    const applying = manifests.length ? timed(() => applyManifests(store, config, manifests), timings, 'manifests') : Promise.resolve([]);
    applying.catch(() => {});

    if (mode === 'single-process') {
      const shared = new StoreInformerFactory(store, { redisUrl, log });
      informers = shared;
      teardown.connections.push(() => shared.close());
      // Ask for every kind before anything starts: one list covers them all, instead of a
      // relist each time a component asks for a kind the watch did not have yet.
      for (const kind of [...WATCHED_KINDS, ...(opts.watchEvents ? (['Event'] as const) : [])]) shared.informer(kind);
      const ctx = { store, informers: shared, config, log, clusterDir: dir, nodes, crashBackoffMs: opts.crashBackoffMs };
      const started = await Promise.allSettled(
        order.map(async (c) => {
          const running: RunningComponent = await timed(() => startComponent(c, ctx), timings, c);
          teardown.components.push(() => running.close());
          return running;
        }),
      );
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      for (const s of started) if (s.status === 'fulfilled') info[s.value.name] = s.value.info;
      file.processes = { all: process.pid };
    } else {
      for (const ch of await children!) info[ch.name] = ch.info();
      file.processes = supervisor!.pids();
    }
    dir.write(file);
    teardown.files.push(ephemeral ? () => rmSync(dir.dir, { recursive: true, force: true }) : () => dir.remove());
    phase('components');
    const applied = await applying;

    let closing: Promise<void> | undefined;
    return {
      name,
      config,
      redisUrl,
      store,
      dir,
      mode,
      redisPid: redis?.pid,
      informers,
      pids: () => ({ redis: redis?.pid, ...(mode === 'single-process' ? Object.fromEntries(order.map((c) => [c, process.pid])) : file.processes) }),
      componentInfo: () => info,
      timings,
      applied,
      apply: (docs) => applyManifests(store, config, docs),
      close: () =>
        (closing ??= timed(release, timings, 'close')),
    };
  } catch (err) {
    // A half-started cluster goes away whole; a throwaway one leaves no files either.
    if (ephemeral) teardown.files.push(() => rmSync(dir.dir, { recursive: true, force: true }));
    await release();
    throw err;
  }
}

/** Milliseconds since a performance.now() mark, to a tenth. */
function msSince(mark: number): number {
  return Math.round((performance.now() - mark) * 10) / 10;
}

/** Runs `work` and records how long it took as timings[what]. */
async function timed<T>(work: () => Promise<T>, timings: Record<string, number>, what: string): Promise<T> {
  const t = performance.now();
  const result = await work();
  timings[what] = msSince(t);
  return result;
}

/** Disconnects the store and resolves once its socket is closed (or after a second at most). */
async function disconnect(store: ObjectStore): Promise<void> {
  const conn = store.redis;
  const ended = conn.status === 'end' ? Promise.resolve() : new Promise<void>((resolve) => conn.once('end', () => resolve()));
  await store.close();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))]);
  clearTimeout(timer);
}

/**
 * Stops the embedded Redis and resolves once its process and pipes are gone (so no handle of
 * it outlives close). A throwaway cluster's Redis has nothing to save: kill it outright.
 */
async function stopRedis(redis: EmbeddedRedis, kill: boolean): Promise<void> {
  const child = redis.process;
  const exited = child.exitCode !== null || child.signalCode !== null;
  const pipesClosed = [child.stdout, child.stderr].every((s) => !s || s.closed || s.destroyed);
  // 'close' comes after the exit and after the pipes closed.
  const gone = exited && pipesClosed ? Promise.resolve() : new Promise<void>((resolve) => child.once('close', () => resolve()));
  if (kill) child.kill('SIGKILL');
  else await redis.stop();
  await gone;
}
