/**
 * knet inside test suites: start a real cluster from a test, talk to it, break it, close it.
 *
 *   import { startCluster } from 'knet';
 *   await using cluster = await startCluster({ manifests: 'examples/quickstart' });
 *   const res = await cluster.fetch('http://web.default.svc.cluster.local/hostname');
 *
 * Every cluster gets its own address block, Redis and state dir, so test files can run in
 * parallel. It runs the same components and store as the command line — all in this process
 * by default (fastest), or one process each — and nothing is faked.
 *
 * Waiting is driven by the cluster's watch, not by polling, and a wait that cannot succeed
 * fails at once (a crash-looping pod, a Service port that cannot be bound) with an error that
 * names the object and the reason and quotes the last events and the pod's log tail.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchCluster, type Cluster, type ClusterOptions } from '../cluster/cluster.js';
import { applyManifests } from '../base/admission/apply.js';
import { connectRedis } from '../base/store/redis-connection.js';
import { ObjectStore } from '../base/store/object-store.js';
import { ClusterDir } from '../cluster/state-dir.js';
import type { ClusterConfig } from '../base/cluster-config.js';
import type { Clock } from '../base/clock.js';
import { silentLogger, type Logger } from '../base/log.js';
import { KnetCluster, type ClusterRef, type ManifestInput } from './knet-cluster.js';

export interface StartClusterOptions {
  /** Manifests applied once the cluster is up: paths (files or directories), YAML text or objects. Waits until ready. */
  manifests?: ManifestInput;
  /** Number of nodes (2). */
  nodes?: number;
  /** Optional components to leave out, e.g. `{ ingress: false }` (all run by default). */
  components?: ClusterOptions['components'];
  /** 'single-process' (default: all components in this process) or 'processes' (one each, as `knet up`). */
  mode?: ClusterOptions['mode'];
  /** Settings to override (dnsPort, nodeGraceSeconds, zones…). */
  config?: Partial<ClusterConfig>;
  /** An explicit address block (1…65); otherwise the first free one, chosen safely across processes. */
  index?: number;
  /** The cluster's name (a DNS label); unique per process by default. */
  name?: string;
  /** Keep the state dir here instead of a fresh temp dir (not removed on close). */
  stateDir?: string;
  /** How long `manifests` (and apply()) may take to be ready (30 s). */
  readyTimeoutMs?: number;
  /**
   * The kubelet's crash back-off base and the Job controller's back-off before it replaces a
   * failed pod (both 10 s in Kubernetes); 100 ms here so crash loops and failing Jobs show fast.
   */
  crashBackoffMs?: number;
  /**
   * Time a test moves by hand, single-process mode only (any `Clock`: `now()` and timers; e.g.
   * @sinonjs/fake-timers' createClock behind a few lines, as knet's tests do): the proxy's
   * ClientIP affinity records and UDP sessions expire, mounted ConfigMaps and Secrets are
   * brought up to date (every 2 s), CronJobs fire their schedules, and Jobs reach
   * activeDeadlineSeconds, their back-off and ttlSecondsAfterFinished when the test advances it,
   * not after waiting.
   */
  clock?: Clock;
  /** Fail a wait as soon as what it waits for cannot get ready on its own (true). */
  failFast?: boolean;
  /** Component logs (silent by default). */
  log?: Logger;
}

const DEFAULT_TIMEOUT_MS = 30_000;
let counter = 0;

/** Starts a cluster (and applies `manifests`, waiting until ready). Close it with close() or `await using`. */
export async function startCluster(opts: StartClusterOptions = {}): Promise<KnetCluster> {
  const stateDir = opts.stateDir ?? mkdtempSync(path.join(os.tmpdir(), 'knet-'));
  let cluster: Cluster;
  try {
    cluster = await launchCluster({
      name: opts.name ?? `t${process.pid}-${++counter}`,
      stateDir,
      index: opts.index,
      nodes: opts.nodes ?? 2,
      mode: opts.mode ?? 'single-process',
      components: opts.components,
      config: opts.config,
      crashBackoffMs: opts.crashBackoffMs ?? 100,
      clock: opts.clock,
      removeStateOnClose: opts.stateDir === undefined,
      watchEvents: true,
      log: opts.log ?? silentLogger,
    });
  } catch (err) {
    if (opts.stateDir === undefined) rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  const handle = new KnetCluster(cluster, {
    timeoutMs: opts.readyTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    failFast: opts.failFast ?? true,
    components: { proxy: true, dns: true, ingress: true, ...opts.components },
    ...(opts.stateDir === undefined ? { tempDir: stateDir } : {}),
  });
  if (opts.manifests) {
    const t = performance.now();
    try {
      await handle.apply(opts.manifests);
    } catch (err) {
      await handle.close();
      throw err;
    }
    cluster.timings.manifests = Math.round((performance.now() - t) * 10) / 10;
  }
  return handle;
}

/**
 * A handle on a cluster another process started (its `ref`): every method works — apply,
 * wait, addresses, lookup, faults, logs — but close() only disconnects; the cluster stays up
 * until its owner closes it.
 */
export async function connectCluster(ref: ClusterRef, opts: { readyTimeoutMs?: number; failFast?: boolean } = {}): Promise<KnetCluster> {
  const store = new ObjectStore(connectRedis(ref.redisUrl), ref.name);
  const attached: Cluster = {
    name: ref.name,
    config: ref.config,
    redisUrl: ref.redisUrl,
    store,
    dir: new ClusterDir(ref.stateDir, ref.name),
    mode: 'single-process',
    redisPid: () => undefined,
    pids: () => ({}),
    componentInfo: () => ref.componentInfo,
    timings: {},
    applied: [],
    kubeconfig: kubeconfigOfDir(new ClusterDir(ref.stateDir, ref.name)),
    apply: (docs) => applyManifests(store, ref.config, docs),
    close: () => store.close(),
  };
  return new KnetCluster(attached, { timeoutMs: opts.readyTimeoutMs ?? DEFAULT_TIMEOUT_MS, failFast: opts.failFast ?? true, components: ref.components });
}

/** The kubeconfig the cluster's owner wrote into its state dir. */
function kubeconfigOfDir(dir: ClusterDir): { path: string; yaml: string } {
  const file = dir.kubeconfigFile;
  return { path: file, yaml: existsSync(file) ? readFileSync(file, 'utf8') : '' };
}
