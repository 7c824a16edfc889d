/**
 * `knet node NAME`: the kubelet of one node. It registers the Node, heartbeats, and runs
 * the Pods bound to it as real listeners on their pod IPs (the runtime in ./runtime),
 * reporting their status. Pods it runs:
 *   bound here, not terminal          → allocate a pod IP (store claim), start, report
 *   deletionTimestamp set             → stop within the grace period, then delete (grace 0)
 *   gone from the store               → stop at once
 * `knet node stop NAME` sets a fault annotation on the Node: the agent stops heartbeating
 * (the node lifecycle controller then marks it NotReady) until `knet node start NAME`.
 */
import type { Node, Pod, PodStatus, Secret, ConfigMap, Service } from 'kubernetes-types/core/v1.js';
import type { ObjectStore } from '../store/object-store.js';
import type { InformerFactory } from '../informer-types.js';
import { nodeIP, nodeOrdinal, type ClusterConfig } from '../cluster-config.js';
import { silentLogger, type Logger } from '../log.js';
import { noopRecorder, type EventRecorder } from '../api/events.js';
import { StoreError } from '../store/errors.js';
import { WorkQueue } from '../work-queue.js';
import { PodIPAllocator } from './pod-ip-allocator.js';
import { FAULT_ANNOTATION, nodeObject, nodeStatus, readyCondition } from './node-object.js';
import { startPod, type PodHandle, type PodRuntimeStatus } from './runtime/container-runner.js';

export interface NodeAgentOptions {
  store: ObjectStore;
  informers: InformerFactory;
  config: ClusterConfig;
  name: string;
  /** Root directory for container logs: <logRoot>/<ns>_<pod>/<container>.log */
  podLogDir: (namespace: string, pod: string) => string;
  log?: Logger;
  events?: EventRecorder;
  heartbeatMs?: number;
  /** Crash back-off base (the kubelet uses 10 s); tests make it short. */
  crashBackoffMs?: number;
}

export interface NodeAgentHandle {
  name: string;
  ip: string;
  /** Pods running here by "ns/name". */
  pods(): string[];
  close(): Promise<void>;
}

export async function startNodeAgent(opts: NodeAgentOptions): Promise<NodeAgentHandle> {
  const { store, config, name } = opts;
  const ordinal = nodeOrdinal(name);
  if (ordinal === undefined || ordinal < 1 || ordinal > 250) throw new Error(`node name "${name}" must be node-N with N in 1…250 (N picks its address and pod /24)`);
  const log = (opts.log ?? silentLogger).child(name);
  const events = opts.events ?? noopRecorder;
  const ip = nodeIP(config, ordinal);
  const allocator = new PodIPAllocator(config, ordinal);
  const running = new Map<string, { handle: PodHandle; uid: string; ip: string; startTime: string; stopping?: Promise<void>; writing?: boolean; writeAgain?: boolean }>();
  const lastWritten = new Map<string, string>();

  await registerNode(store, config, name, ordinal);
  log.info('node registered', { ip, podCIDR: `${config.podPrefix}.${ordinal}.0/24` });

  const podInformer = opts.informers.informer<Pod>('Pod');
  const nodeInformer = opts.informers.informer<Node>('Node');
  const services = opts.informers.informer<Service>('Service');
  const secrets = opts.informers.informer<Secret>('Secret');
  const configMaps = opts.informers.informer<ConfigMap>('ConfigMap');

  let faulted = false;
  let closed = false;

  const queue = new WorkQueue('pods', (key) => reconcile(key), { log, concurrency: 8 });

  const mine = (p: Pod) => p.spec?.nodeName === name;
  const keyOfPod = (p: Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;
  const unsubscribe = [
    podInformer.on({
      add: (p) => mine(p) && queue.add(keyOfPod(p)),
      update: (o, p) => (mine(p) || mine(o)) && queue.add(keyOfPod(p)),
      delete: (p) => mine(p) && queue.add(keyOfPod(p)),
    }),
    // A pod waiting for a Secret or ConfigMap starts once it appears.
    secrets.on({ add: () => requeueWaiting(), update: () => requeueWaiting() }),
    configMaps.on({ add: () => requeueWaiting(), update: () => requeueWaiting() }),
    nodeInformer.on({ update: (_o, n) => n.metadata?.name === name && onNodeChange(n), add: (n) => n.metadata?.name === name && onNodeChange(n) }),
  ];
  await opts.informers.waitForSync();
  for (const p of podInformer.list()) if (mine(p)) queue.add(keyOfPod(p));

  // ---- heartbeats ---------------------------------------------------------------------------
  const beat = async () => {
    if (faulted || closed) return;
    try {
      await store.redis.hset(store.keys.heartbeats, name, String(Date.now()));
      const node = nodeInformer.get(undefined, name);
      const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
      if (node && ready?.status !== 'True') {
        await store.mutate<Node>('Node', undefined, name, (n) => ({ ...n, status: { ...n.status, conditions: [readyCondition()] } }), { status: true });
        log.info('node Ready again');
        // Re-report every pod: the node lifecycle controller marked them NotReady meanwhile.
        lastWritten.clear();
        for (const key of running.keys()) requestStatusWrite(key);
      }
    } catch (err) {
      log.warn('heartbeat failed', { error: err as Error });
    }
  };
  await beat();
  const heartbeat = setInterval(() => void beat(), opts.heartbeatMs ?? 1000);

  function onNodeChange(n: Node) {
    const fault = n.metadata?.annotations?.[FAULT_ANNOTATION] === 'stopped';
    if (fault !== faulted) {
      faulted = fault;
      log.warn(fault ? 'fault injected: node stopped (no heartbeats)' : 'fault cleared: node started');
      if (!fault) void beat();
    }
  }

  function requeueWaiting() {
    // Running pods may be waiting inside the runtime for a Secret or ConfigMap.
    for (const r of running.values()) r.handle.resync();
    for (const p of podInformer.list()) if (mine(p) && !running.has(keyOfPod(p)) && !p.metadata?.deletionTimestamp) queue.add(keyOfPod(p));
  }

  // ---- per-pod reconcile ------------------------------------------------------------------------
  async function reconcile(key: string): Promise<void> {
    if (closed) return;
    const [ns, podName] = key.split('/') as [string, string];
    const pod = podInformer.get(ns, podName);
    const have = running.get(key);
    if (!pod || !mine(pod) || (have && pod.metadata?.uid !== have.uid)) {
      // Deleted (or replaced by a new pod of the same name): stop what runs.
      if (have) await stopPod(key, 0);
      if (pod && mine(pod)) queue.add(key);
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      const graceMs = Math.max(0, Date.parse(pod.metadata.deletionTimestamp) - Date.now());
      if (have) await stopPod(key, graceMs / 1000);
      await finishDelete(pod);
      return;
    }
    const phase = pod.status?.phase;
    if (have || phase === 'Succeeded' || phase === 'Failed') return;
    await startPodHere(pod);
  }

  async function startPodHere(pod: Pod): Promise<void> {
    const key = keyOfPod(pod);
    let podIP = pod.status?.podIP;
    if (!podIP) podIP = await claimIP(pod);
    const now = new Date().toISOString();
    const handle = startPod({
      pod,
      podIP,
      nodeName: name,
      hostIP: ip,
      logDir: opts.podLogDir(pod.metadata!.namespace!, pod.metadata!.name!),
      services: () => services.list(),
      lookup: {
        secret: (n: string, s: string) => secrets.get(n, s),
        configMap: (n: string, c: string) => configMaps.get(n, c),
      },
      log: log.child(`${pod.metadata?.namespace}/${pod.metadata?.name}`),
      crashBackoffMs: opts.crashBackoffMs,
      onStatus: () => requestStatusWrite(key),
      onEvent: (type: 'Normal' | 'Warning', reason: string, message: string) => {
        const current = podInformer.get(pod.metadata?.namespace, pod.metadata?.name ?? '') ?? pod;
        events.record(current, type, reason, message);
      },
    });
    running.set(key, { handle, uid: pod.metadata!.uid!, ip: podIP, startTime: now });
    log.info('pod started', { pod: key, podIP });
    requestStatusWrite(key);
  }

  /**
   * Status writes of one pod are serialized and always carry the runtime's latest status, so
   * an older status can never land after a newer one (which would leave a pod stuck NotReady).
   */
  function requestStatusWrite(key: string): void {
    const r = running.get(key);
    if (!r) return;
    if (r.writing) {
      r.writeAgain = true;
      return;
    }
    r.writing = true;
    void (async () => {
      do {
        r.writeAgain = false;
        await writeStatus(key, r.handle.status(), r.ip, r.startTime);
      } while (r.writeAgain && running.get(key) === r);
      r.writing = false;
    })();
  }

  async function claimIP(pod: Pod): Promise<string> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const taken = new Set(Object.keys(await store.redis.hgetall(store.keys.allocations(allocator.pool))));
      const candidate = allocator.next(taken);
      if (!candidate) throw new Error(`node ${name} has no free pod IP left in its /24`);
      try {
        const owner = `Pod/${pod.metadata?.namespace}/${pod.metadata?.name}`;
        await store.mutate<Pod>('Pod', pod.metadata?.namespace, pod.metadata?.name ?? '', (p) => ({ ...p, status: { ...p.status, podIP: candidate, podIPs: [{ ip: candidate }], hostIP: ip, hostIPs: [{ ip }] } }), { status: true });
        await store.redis.hset(store.keys.allocations(allocator.pool), candidate, owner);
        return candidate;
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
      }
    }
    throw new Error(`could not allocate a pod IP on ${name}`);
  }

  async function writeStatus(key: string, s: PodRuntimeStatus, podIP: string, startTime: string): Promise<void> {
    if (faulted || closed) return;
    const [ns, podName] = key.split('/') as [string, string];
    const status: PodStatus = {
      phase: s.phase,
      conditions: [...s.conditions.filter((c) => c.type !== 'PodScheduled'), { type: 'PodScheduled', status: 'True' }],
      hostIP: ip,
      hostIPs: [{ ip }],
      podIP,
      podIPs: [{ ip: podIP }],
      startTime,
      containerStatuses: s.containerStatuses,
      ...(s.initContainerStatuses.length ? { initContainerStatuses: s.initContainerStatuses } : {}),
      qosClass: 'BestEffort',
    };
    const fingerprint = JSON.stringify(status, (k, v: unknown) => (k === 'lastTransitionTime' ? undefined : v));
    if (lastWritten.get(key) === fingerprint) return;
    try {
      await store.mutate<Pod>(
        'Pod',
        ns,
        podName,
        (p) => {
          if (p.metadata?.uid !== running.get(key)?.uid) return undefined;
          const prior = new Map((p.status?.conditions ?? []).map((c) => [c.type, c]));
          const conditions = status.conditions!.map((c) => {
            const was = prior.get(c.type);
            return { ...c, lastTransitionTime: was && was.status === c.status ? was.lastTransitionTime : new Date().toISOString() };
          });
          return { ...p, status: { ...status, startTime: p.status?.startTime ?? startTime, conditions } };
        },
        { status: true },
      );
      lastWritten.set(key, fingerprint);
    } catch (err) {
      log.warn('could not write pod status; retrying', { pod: key, error: err as Error });
      setTimeout(() => requestStatusWrite(key), 500).unref();
    }
  }

  async function stopPod(key: string, graceSeconds: number): Promise<void> {
    const have = running.get(key);
    if (!have) return;
    have.stopping ??= have.handle.stop(graceSeconds);
    await have.stopping;
    running.delete(key);
    lastWritten.delete(key);
    await store.redis.hdel(store.keys.allocations(allocator.pool), have.ip).catch(() => 0);
    log.info('pod stopped', { pod: key });
  }

  async function finishDelete(pod: Pod): Promise<void> {
    try {
      await store.delete('Pod', pod.metadata?.namespace, pod.metadata?.name ?? '', { gracePeriodSeconds: 0 });
    } catch (err) {
      if (!(err instanceof StoreError && err.reason === 'NotFound')) throw err;
    }
    const podIP = pod.status?.podIP;
    if (podIP) await store.redis.hdel(store.keys.allocations(allocator.pool), podIP).catch(() => 0);
  }

  return {
    name,
    ip,
    pods: () => [...running.keys()],
    async close() {
      closed = true;
      clearInterval(heartbeat);
      await queue.close();
      for (const u of unsubscribe) u();
      await Promise.all([...running.keys()].map((k) => stopPod(k, 0).catch(() => {})));
    },
  };
}

async function registerNode(store: ObjectStore, config: ClusterConfig, name: string, ordinal: number): Promise<void> {
  const desired = nodeObject(config, name, ordinal);
  const existing = await store.get<Node>('Node', undefined, name);
  if (!existing) {
    const created = await store.create(desired);
    await store.updateStatus({ ...created, status: nodeStatus(config, name, ordinal) });
    return;
  }
  await store.mutate<Node>('Node', undefined, name, (n) => ({ ...n, metadata: { ...n.metadata, labels: { ...n.metadata?.labels, ...desired.metadata?.labels } }, spec: { ...n.spec, ...desired.spec } }));
  await store.mutate<Node>('Node', undefined, name, (n) => ({ ...n, status: nodeStatus(config, name, ordinal) }), { status: true });
}
