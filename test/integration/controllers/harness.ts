/**
 * A cluster for controller tests: a store keyspace of its own in a shared test Redis, a real
 * watch, the controller-manager, Node objects, and a fake node agent — a few lines that
 * heartbeat, give bound pods an IP and mark them Running/Ready (optionally after a delay),
 * and finish deleting terminating pods, as the kubelet would. testClusters() registers the
 * hooks that start the file's Redis and close each test's cluster.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { startTestRedis, type TestRedis } from '../../support/redis.js';
import { connectRedis } from '../../../dataplane/base/store/redis-connection.js';
import { ObjectStore } from '../../../dataplane/base/store/object-store.js';
import { StoreInformerFactory } from '../../../dataplane/base/store/watch.js';
import { clusterConfig, nodeIP, type ClusterConfig } from '../../../dataplane/base/cluster-config.js';
import { startControllerManager, type ControllerManager, type ControllerManagerOptions } from '../../../dataplane/controllers/controller-manager.js';
import { StoreError } from '../../../dataplane/base/store/errors.js';
import type { KObject, Kind } from '../../../dataplane/base/model/object.js';
import { waitUntil } from '../../../dataplane/cluster/wait-until.js';
import { GC_KINDS } from '../../../dataplane/controllers/garbage-collector.js';
import { deleteObject } from '../../../dataplane/base/admission/writes.js';

let seq = 0;

export interface FakeAgentOptions {
  /** Ms between a pod starting (Running, not ready) and turning Ready; 0 = Ready at once. */
  readyDelayMs?: number;
}

export interface TestCluster {
  store: ObjectStore;
  informers: StoreInformerFactory;
  config: ClusterConfig;
  cm: ControllerManager;
  /** Nodes whose fake agent is stopped (no heartbeats, no pod handling). */
  stopped: Set<string>;
  addNode(name: string, zone?: string): Promise<void>;
  pods(filter?: (p: Pod) => boolean): Pod[];
  list<T extends KObject>(kind: Parameters<StoreInformerFactory['informer']>[0]): T[];
  close(): Promise<void>;
}

export function nodeObject(name: string, ordinal: number, config: ClusterConfig, zone?: string): Node {
  const now = new Date().toISOString();
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...(zone ? { 'topology.kubernetes.io/zone': zone } : {}) } },
    spec: {},
    status: {
      addresses: [{ type: 'InternalIP', address: nodeIP(config, ordinal) }],
      // What the EndpointSlice controller weighs zones by (topology-mode Auto).
      allocatable: { cpu: '2' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
    },
  };
}

export async function startTestCluster(
  redisUrl: string,
  opts: { nodes?: number; graceSeconds?: number; agent?: FakeAgentOptions; config?: Partial<ClusterConfig>; controllers?: Partial<ControllerManagerOptions> } = {},
): Promise<TestCluster> {
  const name = `cm${process.pid}-${++seq}`;
  const store = new ObjectStore(connectRedis(redisUrl), name);
  const informers = new StoreInformerFactory(store, { redisUrl, blockMs: 500 });
  watching = informers;
  const config: ClusterConfig = { ...clusterConfig(0), name, nodeGraceSeconds: opts.graceSeconds ?? 1, ...opts.config };
  const agentNodes = new Set<string>();
  const stopped = new Set<string>();
  const ordinals = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const addNode = async (nodeName: string, zone?: string) => {
    const ordinal = ordinals.size + 1;
    ordinals.set(nodeName, ordinal);
    agentNodes.add(nodeName);
    await store.redis.hset(store.keys.heartbeats, nodeName, String(Date.now()));
    const created = await store.create(nodeObject(nodeName, ordinal, config, zone));
    await store.updateStatus({ ...created, status: nodeObject(nodeName, ordinal, config, zone).status });
  };
  await store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' }, spec: { finalizers: ['kubernetes'] } });
  for (let i = 1; i <= (opts.nodes ?? 2); i++) await addNode(`node-${i}`, i % 2 ? 'zone-a' : 'zone-b');

  // ---- the fake node agent ---------------------------------------------------------------
  const heartbeat = setInterval(() => {
    for (const n of agentNodes) if (!stopped.has(n)) void store.redis.hset(store.keys.heartbeats, n, String(Date.now())).catch(() => {});
  }, 100);
  const podInformer = informers.informer<Pod>('Pod');
  const ips = new Map<string, number>();
  const handled = new Map<string, string>();
  const inFlight = new Set<Promise<void>>();
  const later = (ms: number, fn: () => Promise<unknown>) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (closed) return;
      const p = fn().then(() => undefined, ignoreGone);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }, ms);
    timers.add(t);
  };
  const onPod = (p: Pod) => {
    const node = p.spec?.nodeName;
    if (!node || !agentNodes.has(node) || stopped.has(node)) return;
    const key = `${p.metadata?.namespace}/${p.metadata?.name}`;
    if (p.metadata?.deletionTimestamp) {
      if (handled.get(key) === `deleting ${p.metadata.uid}`) return;
      handled.set(key, `deleting ${p.metadata.uid}`);
      later(20, () => deleteObject(store, 'Pod', p.metadata?.namespace, p.metadata!.name!, { gracePeriodSeconds: 0 }));
      return;
    }
    if (handled.get(key) === p.metadata?.uid) return;
    handled.set(key, p.metadata!.uid!);
    const ordinal = ordinals.get(node)!;
    const n = (ips.get(node) ?? 1) + 1;
    ips.set(node, n);
    const podIP = `${config.podPrefix}.${ordinal}.${n}`;
    const delay = opts.agent?.readyDelayMs ?? 0;
    const status = (ready: boolean) => {
      const now = new Date().toISOString();
      return {
        phase: 'Running',
        podIP,
        podIPs: [{ ip: podIP }],
        hostIP: nodeIP(config, ordinal),
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
        ],
        containerStatuses: (p.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '', imageID: '', ready, restartCount: 0, started: true })),
      };
    };
    const write = (ready: boolean) => () =>
      store.mutate<Pod>('Pod', p.metadata?.namespace, p.metadata!.name!, (cur) => (cur.metadata?.uid === p.metadata?.uid && !cur.metadata?.deletionTimestamp ? { ...cur, status: status(ready) } : undefined), { status: true });
    later(5, write(delay === 0));
    if (delay > 0) later(delay, write(true));
  };
  podInformer.on({ add: onPod, update: (_o, p) => onPod(p), delete: (p) => handled.delete(`${p.metadata?.namespace}/${p.metadata?.name}`) });

  const cm = await startControllerManager({ store, informers, config, heartbeatPollMs: 100, gcIntervalMs: 200, ...opts.controllers });
  for (const p of podInformer.list()) onPod(p);

  return {
    store,
    informers,
    config,
    cm,
    stopped,
    addNode,
    pods: (filter) => podInformer.list().filter((p) => !filter || filter(p)),
    list: <T extends KObject>(kind: Parameters<StoreInformerFactory['informer']>[0]) => informers.informer<T>(kind).list(),
    async close() {
      closed = true;
      if (watching === informers) watching = undefined;
      clearInterval(heartbeat);
      for (const t of timers) clearTimeout(t);
      await cm.close();
      await Promise.all([...inFlight]);
      await informers.close();
      await store.close();
    },
  };
}

export type TestClusterOptions = NonNullable<Parameters<typeof startTestCluster>[1]>;

export interface TestClusters {
  /** Starts this test's cluster in the file's Redis; it is closed after the test, even a failed one. */
  start(opts?: TestClusterOptions): Promise<TestCluster>;
  /** This test's cluster (started by start()). */
  current(): TestCluster;
  /** SIGKILLs the file's Redis and starts it again on the same port and data. */
  crashRedis(): Promise<void>;
}

/** The lifecycle of a controller test file: one test Redis for the file, and a cluster per test in it. */
export function testClusters(): TestClusters {
  let redis: TestRedis | undefined;
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.cleanup();
  });
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });
  return {
    async start(opts) {
      cluster = await startTestCluster(redis!.url, opts);
      return cluster;
    },
    current: () => cluster!,
    async crashRedis() {
      redis = await redis!.crashAndRestart();
    },
  };
}

function ignoreGone(err: unknown): void {
  if (err instanceof StoreError && (err.reason === 'NotFound' || err.reason === 'Conflict')) return;
  console.error('fake node agent:', err);
}

/** What the controller-manager watches: informers that exist already, so waiting on them costs no new watch. */
const WATCHED: Kind[] = GC_KINDS;
/** The informers of the test cluster started last (until() re-checks on their events). */
let watching: StoreInformerFactory | undefined;

/**
 * Waits for a condition over the caches, re-checked on every watch event of the kinds the
 * controllers watch, and every 100 ms for what no informer shows (Events read from the store).
 * No timing assertion: only a generous ceiling.
 */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  await waitUntil(async () => (await check()) || undefined, {
    ...(watching ? { informers: watching, kinds: WATCHED } : {}),
    timeoutMs,
    pollMs: 100,
    onTimeout: () => new Error(`timed out waiting for ${what}`),
  });
}
