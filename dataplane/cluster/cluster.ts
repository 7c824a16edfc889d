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
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterConfig, type ClusterConfig } from '../base/cluster-config.js';
import { abandonConnection, connectRedis, storeAnswers } from '../base/store/redis-connection.js';
import { ObjectStore } from '../base/store/object-store.js';
import { StoreInformerFactory } from '../base/store/watch.js';
import type { ApplyResult } from '../base/admission/apply.js';
import type { ManifestDoc } from '../base/admission/manifests.js';
import { KINDS, type Kind } from '../base/model/object.js';
import { silentLogger, type Logger } from '../base/log.js';
import { bootstrapObjects, madeByControlPlane } from './bootstrap.js';
import { claimClusterIndex, ClusterDir, defaultStateDir, pidAlive, releaseClusterIndex, type ClusterFile } from './state-dir.js';
import { startComponent, type ComponentName, type RunningComponent } from './components.js';
import { Supervisor, type SupervisedChild } from './supervisor.js';
import { blockCheck } from './address-block-check.js';
import { reclaimDeadClusters, reclaimPrograms } from './reclaim-programs.js';
import { startSupervisedRedis, type SupervisedRedis } from './supervised-redis.js';
import type { Clock } from '../base/clock.js';
import { stopOrphanedRedis } from './embedded-redis.js';

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
  components?: { apiserver?: boolean; proxy?: boolean; dns?: boolean; ingress?: boolean };
  /** Settings to override in the cluster's config (e.g. dnsPort, nodeGraceSeconds). */
  config?: Partial<ClusterConfig>;
  log?: Logger;
  crashBackoffMs?: number;
  /** Single-process mode: the proxy's time (affinity and UDP session expiry), the node agents' volume sync and the Job and CronJob controllers' (schedules, deadlines, back-off, TTL), so a test advances it instead of waiting. */
  clock?: Clock;
  /**
   * A throwaway cluster (the test API's): its state dir is removed on close, so nothing in it
   * needs to survive a crash — the embedded Redis skips fsync and is killed, not shut down.
   */
  removeStateOnClose?: boolean;
  /** Single-process mode: also cache Events in the shared watch (the test API explains failures from them). */
  watchEvents?: boolean;
  /**
   * The user's manifests (`knet up -f`): applied as soon as every node has registered Ready,
   * while the other components start, so the scheduler spreads the first pods over all nodes
   * (as on a cluster whose nodes are up before anyone applies). Their results are in `applied`.
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
  /** The embedded Redis's pid now (undefined with --redis, and while it is being restarted). */
  redisPid(): number | undefined;
  /** The components' shared watch (single-process mode only; processes each have their own). */
  informers?: StoreInformerFactory;
  /** Component name → pid (all the same in single-process mode), and `redis`. */
  pids(): Record<string, number | undefined>;
  /** Component name → info it reported (DNS port, ingress ports, node IPs). */
  componentInfo(): Record<string, Record<string, string | number> | undefined>;
  /** Milliseconds each start phase took (redis, bootstrap, components), and close once closed. */
  timings: Record<string, number>;
  /** What applying `manifests` did, in their order. */
  applied: ApplyResult[];
  /** The admin kubeconfig of this cluster: a file in its state dir (0600) and its text. */
  kubeconfig: { path: string; yaml: string };
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

/** How long a store may take to answer before close goes on without it. */
const STORE_ANSWER_MS = 300;

/** Every kind a component watches (Events are written, not watched, except by the apiserver), listed in one go. */
const WATCHED_KINDS = (Object.keys(KINDS) as Kind[]).filter((k) => k !== 'Event');

/**
 * The cluster's PKI (created at its first start) and its admin kubeconfig in the state dir.
 * Done before any component starts, so the apiserver process finds the credentials made once.
 */
async function prepareCredentials(dir: ClusterDir, config: ClusterConfig): Promise<{ path: string; yaml: string }> {
  const { ensurePki, servingNames } = await import('../apiserver/pki.js');
  const { kubeconfigEntry, kubeconfigOf, kubeconfigYaml } = await import('../apiserver/kubeconfig.js');
  const pki = await ensurePki(dir.pkiDir, servingNames(config.apiServerAddress, config.kubernetesServiceIP, config.clusterDomain));
  const yaml = kubeconfigYaml(kubeconfigOf(kubeconfigEntry(config.name, `https://${config.apiServerAddress}:${config.apiServerPort}`, pki)));
  writeFileSync(dir.kubeconfigFile, yaml, { mode: 0o600 });
  return { path: dir.kubeconfigFile, yaml };
}

/** What close() has to undo, in the order it undoes it. */
interface Teardown {
  components: Array<() => Promise<void>>;
  connections: Array<() => Promise<void> | void>;
  files: Array<() => void>;
}

export async function launchCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const name = opts.name ?? 'default';
  const stateDir = opts.stateDir ?? defaultStateDir();
  const dir = new ClusterDir(stateDir, name);
  const log = opts.log ?? silentLogger;
  const mode = opts.mode ?? 'processes';
  if (opts.clock && mode !== 'single-process') throw new Error('clock: a clock can drive only components in this process; use mode: single-process');
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
  // Programs an earlier run of this cluster, or a cluster whose process died, left running
  // would hold addresses of the block: stop them, then take only a block nothing else holds.
  if (prior?.supervisorPid !== process.pid) await reclaimPrograms(dir.dir, log);
  await reclaimDeadClusters(log);
  const inUse = await blockCheck();
  let index: number;
  try {
    index = claimClusterIndex(`${name} ${dir.dir}`, wanted, wanted === undefined ? kept : undefined, inUse);
  } catch (err) {
    if (!mustKeep || opts.index !== undefined) throw err;
    throw new Error(
      `cluster "${name}" keeps its objects in ${dir.redisDir}, allocated from address block ${kept} (${clusterConfig(kept!, name).serviceCIDR}), ` +
        `and ${(err as Error).message}; stop that cluster, or remove ${dir.dir} to start "${name}" afresh`,
    );
  }
  dir.ensure();
  if (!ephemeral) dir.writeBlock(index);
  const timings: Record<string, number> = {};
  let mark = performance.now();
  const phase = (what: string) => {
    timings[what] = msSince(mark);
    mark = performance.now();
  };
  const teardown: Teardown = { components: [], connections: [], files: [] };
  let store: ObjectStore | undefined;
  let shared: StoreInformerFactory | undefined;
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    const settle = (fns: Array<() => Promise<void> | void>, what: string) =>
      Promise.all(fns.map((fn) => Promise.resolve().then(fn).catch((err: Error) => log.warn(`${what} failed while stopping the cluster`, { error: err }))));
    // A store that does not answer would hold every component's last writes until their
    // retries run out: drop the connections, and the components close without it. Component
    // processes ask for themselves (component.ts), so they are not kept waiting for our answer.
    const s = store;
    const dropIfSilent = (async () => {
      if (!s || (await storeAnswers(s.redis, STORE_ANSWER_MS))) return;
      log.warn('the state store does not answer; stopping without it');
      abandonConnection(s.redis);
      await shared?.close();
    })();
    if (mode === 'single-process') await dropIfSilent;
    await settle(teardown.components, 'component close');
    await dropIfSilent;
    // A node agent that was killed (and not yet restarted) could not stop its pods' programs.
    await settle([async () => void (await reclaimPrograms(dir.dir, log))], 'reclaiming programs');
    await settle(teardown.connections, 'disconnect');
    await settle(teardown.files, 'state cleanup');
    releaseClusterIndex(index);
    // Closed sockets and exited children release their handles on the next loop turns.
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  try {
    const config: ClusterConfig = { ...clusterConfig(index, name), ...opts.config };
    let redis: SupervisedRedis | undefined;
    let redisUrl = opts.redisUrl;
    if (!redisUrl) {
      // A Redis that a killed `knet up` left running on these files goes first: two on one AOF would corrupt it.
      await stopOrphanedRedis(dir.redisDir, log);
      redis = await startSupervisedRedis({ dir: dir.redisDir, log, ...(ephemeral ? { appendfsync: 'no' as const } : {}) });
      redisUrl = redis.url;
      const r = redis;
      teardown.connections.push(() => r.stop(ephemeral));
    }
    phase('redis');
    const conn = new ObjectStore(connectRedis(redisUrl), name);
    store = conn;
    teardown.connections.push(() => disconnect(conn));
    await Promise.all([
      conn.writeConfig(config),
      // Clear heartbeats of a previous run so old nodes are not thought alive.
      conn.redis.del(conn.keys.heartbeats),
    ]);

    const nodes = Array.from({ length: opts.nodes ?? 2 }, (_, i) => `node-${i + 1}`);
    const want = { apiserver: true, proxy: true, dns: true, ingress: true, ...opts.components };
    const kubeconfig = await prepareCredentials(dir, config);
    const order: ComponentName[] = [
      ...(want.apiserver ? (['apiserver'] as const) : []),
      'controller-manager',
      ...(nodes as ComponentName[]),
      ...(want.proxy ? (['proxy'] as const) : []),
      ...(want.dns ? (['dns'] as const) : []),
      ...(want.ingress ? (['ingress'] as const) : []),
    ];
    const info: Record<string, Record<string, string | number> | undefined> = {};
    const file: ClusterFile = { name, redisUrl, embeddedRedis: !!redis, config, supervisorPid: process.pid, startedAt: new Date().toISOString(), mode, processes: {} };
    const processes = (): Record<string, number> => {
      const pids: Record<string, number> = mode === 'single-process' ? Object.fromEntries(order.map((c) => [c, process.pid])) : (supervisor?.pids() ?? {});
      const redisPid = redis?.pid();
      return redisPid ? { redis: redisPid, ...pids } : pids;
    };

    // Component processes are spawned first, while this process is small (each spawn forks
    // it, and a fork costs in proportion to its memory) and so that their start (~0.3 s of
    // CPU each) overlaps the bootstrap writes; components wait for the bootstrap objects they
    // need (components.ts).
    let supervisor: Supervisor | undefined;
    let children: Promise<SupervisedChild[]> | undefined;
    let nodesReady: Promise<unknown> | undefined;
    if (mode === 'processes') {
      const sup = new Supervisor(cliEntry(), log);
      supervisor = sup;
      teardown.components.push(() => sup.stopAll());
      // The Redis URL carries the password: hand it over in the environment, not in argv (ps).
      const common = ['--state-dir', stateDir, '--cluster', name];
      const argsOf = (c: ComponentName) => (c.startsWith('node-') ? ['node', c, ...common] : [c, ...common, '--nodes', nodes.join(',')]);
      const env = { KNET_REDIS_URL: redisUrl, ...(opts.crashBackoffMs ? { KNET_CRASH_BACKOFF_MS: String(opts.crashBackoffMs) } : {}) };
      dir.write(file);
      const starts = order.map((c) => sup.start({ name: c, args: argsOf(c), logFile: dir.componentLog(c), env }));
      children = Promise.all(starts);
      children.catch(() => {});
      nodesReady = Promise.all(starts.filter((_, i) => order[i]!.startsWith('node-')));
    }

    const { applyManifests } = await import('../base/admission/apply.js');
    await applyManifests(conn, config, bootstrapObjects(config).map((object, i) => ({ source: '<bootstrap>', index: i + 1, object, plain: madeByControlPlane(object) })));
    phase('bootstrap');
    // The manifests go in once the nodes are Ready (see ClusterOptions.manifests), while the
    // other components still start. A failed apply fails the start below.
    const manifests = opts.manifests ?? [];
    let applying: Promise<ApplyResult[]> = Promise.resolve([]);
    const applyOnce = (ready: Promise<unknown>) => {
      if (manifests.length) applying = ready.then(() => timed(() => applyManifests(conn, config, manifests), timings, 'manifests'));
      applying.catch(() => {});
    };

    if (mode === 'single-process') {
      const informers = new StoreInformerFactory(conn, { redisUrl, log });
      shared = informers;
      teardown.connections.push(() => informers.close());
      // Ask for every kind before anything starts: one list covers them all, instead of a
      // relist each time a component asks for a kind the watch did not have yet.
      for (const kind of [...WATCHED_KINDS, ...(opts.watchEvents || want.apiserver ? (['Event'] as const) : [])]) informers.informer(kind);
      const ctx = { store: conn, informers, config, log, clusterDir: dir, nodes, crashBackoffMs: opts.crashBackoffMs, clock: opts.clock };
      const starts = order.map(async (c) => {
        const running: RunningComponent = await timed(() => startComponent(c, ctx), timings, c);
        teardown.components.push(() => running.close());
        return running;
      });
      applyOnce(Promise.all(starts.filter((_, i) => order[i]!.startsWith('node-'))));
      const started = await Promise.allSettled(starts);
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      for (const s of started) if (s.status === 'fulfilled') info[s.value.name] = s.value.info;
    } else {
      applyOnce(nodesReady!);
      for (const ch of await children!) info[ch.name] = ch.info();
    }
    file.processes = processes();
    dir.write(file);
    // The cluster file names the processes (for `knet down` and whoever looks): a restarted
    // store has a new pid.
    redis?.onRestart(() => {
      if (released) return;
      file.processes = processes();
      dir.write(file);
    });
    teardown.files.push(ephemeral ? () => rmSync(dir.dir, { recursive: true, force: true }) : () => dir.remove());
    phase('components');
    const applied = await applying;

    let closing: Promise<void> | undefined;
    return {
      name,
      config,
      redisUrl,
      store: conn,
      dir,
      mode,
      redisPid: () => redis?.pid(),
      informers: shared,
      pids: () => ({ redis: redis?.pid(), ...processes() }),
      componentInfo: () => info,
      timings,
      applied,
      kubeconfig,
      apply: (docs) => applyManifests(conn, config, docs),
      close: () => (closing ??= timed(release, timings, 'close')),
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
