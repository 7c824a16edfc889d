/**
 * `knet node NAME`: the kubelet of one node. It registers the Node and heartbeats
 * (node-heartbeat.ts), and runs the Pods bound to it as real listeners on their pod IPs (the
 * runtime in ./runtime), reporting their status (pod-status-writer.ts). What it does with each
 * pod is pod-reconciler.ts; this file wires the pieces to the informers and the work queue.
 * A `hostNetwork: true` pod shares the node's network: its pod IP is the node IP (no claim),
 * so its containers listen on the node's address; ports clashing there fail as they would
 * on the host (the scheduler keeps two pods with the same hostPort off one node).
 * A pod's `hostPort`s are forwarded from the node IP to the pod while it runs here
 * (host-port-forwarder.ts), as the CNI portmap plugin does on a kind node.
 * `knet node stop NAME` sets a fault annotation on the Node: the agent stops heartbeating
 * (the node lifecycle controller then marks it NotReady) until `knet node start NAME`.
 *
 * Restart (the agent was killed): the programs its pods run are real processes that outlive
 * it, recorded in its state dir. Its next run takes them back before it reports ready — as the
 * kubelet keeps the running containers it finds — and stops those whose pod is gone
 * (leftover-containers.ts); every other container carries on from the pod's last status.
 */
import type { Node, Pod, Secret, ConfigMap, PersistentVolumeClaim, Service, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { ObjectStore } from '../base/store/object-store.js';
import type { Informer, InformerFactory } from '../base/informer/informer-types.js';
import { nodeIP, nodeOrdinal, podSubnet, type ClusterConfig } from '../base/cluster-config.js';
import { silentLogger, type Logger } from '../base/log.js';
import { noopRecorder, type EventRecorder } from '../base/admission/events.js';
import { WorkQueue } from '../base/work-queue.js';
import { PodIPAllocator } from './pod-ip-allocator.js';
import { PodIPClaims } from './pod-ip-claims.js';
import { NodeHeartbeat, registerNode } from './node-heartbeat.js';
import { containerRecordsOf } from './runtime/container-records.js';
import { LeftoverContainers } from './leftover-containers.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../base/clock.js';
import { randomBytes } from 'node:crypto';
import { startExecServer, type ExecServer } from './exec/exec-server.js';
import { publishExecEndpoint } from '../base/remotecommand/node-endpoint.js';
import { parseResolvConf } from './shell/resolv-conf.js';
import type { SigningKey } from '../base/serviceaccount/signing-key.js';
import { PodApiAccess } from './pod-api-access.js';
import type { EgressCheck } from './shell/dial-from-pod.js';
import { Registry } from 'prom-client';
import { NODE_METRICS_PORT, serveNodeMetrics } from './node-metrics.js';
import { indexPodsByNode, podsOnNode } from '../base/informer/indexes.js';
import { startNodeNetpol } from './node-netpol.js';
import { PodStatusWriter, type RunningPod } from './pod-status-writer.js';
import { boundTo, keyOfPod, PodReconciler } from './pod-reconciler.js';
import { removeOrphanedPodDirs } from './pod-dir-cleanup.js';
import { HostPortForwarder } from './host-port-forwarder.js';

export interface NodeAgentOptions {
  store: ObjectStore;
  informers: InformerFactory;
  config: ClusterConfig;
  name: string;
  /** Where container logs go (the cluster's logs/pods): `<root>/<ns>_<pod>_<uid>/<container>/<restartCount>.log`. */
  podLogsRoot: string;
  log?: Logger;
  events?: EventRecorder;
  heartbeatMs?: number;
  /** Crash back-off base (the kubelet uses 10 s); tests make it short. */
  crashBackoffMs?: number;
  /**
   * This node's state dir (`<cluster>/nodes/<name>`): records of the programs its pods run, so
   * that a restarted agent takes them back and a stopped cluster leaves none. Without it a
   * killed agent's programs are not found again.
   */
  stateDir?: string;
  /**
   * The cluster's PersistentVolume directories (`<cluster dir>/volumes`, base/persistent-volume-dir.ts),
   * shared by all its nodes: a bound claim's volume is its PV's directory there. Without it a
   * claim's volume is an empty directory (the pod still waits for its claim to be Bound).
   */
  persistentVolumesDir?: string;
  /**
   * The cluster's service-account signing key (base/serviceaccount/signing-key.ts): this node
   * signs its pods' projected tokens with it, as the kubelet gets them from TokenRequest.
   * Without it pods get no token.
   */
  serviceAccountKey?: () => SigningKey | undefined;
  /** NetworkPolicy egress, asked for every connection an emulated pod opens (shell/dial-from-pod.ts). */
  egress?: EgressCheck;
  /** The node's resolv.conf text (default: /etc/resolv.conf): dnsPolicy Default, and search domains pods inherit. */
  nodeResolvConf?: string;
  /** Port of GET /metrics on the node IP (10255, the kubelet's read-only port); 0: any. */
  metricsPort?: number;
  /** Timers of the volume sync (runtime/pod-volume-sync.ts VOLUME_SYNC_MS); tests pass a fake clock. */
  clock?: Clock;
  /** How often mounted ConfigMaps, Secrets and downward-API files are brought up to date (default VOLUME_SYNC_MS, 2 s). */
  volumeSyncMs?: number;
  /** How long a host port that could not be bound waits to be tried again (default 5 s). */
  hostPortBindRetryMs?: number;
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
  const ip = nodeIP(config, ordinal);
  const running = new Map<string, RunningPod>();
  const records = opts.stateDir ? containerRecordsOf(opts.stateDir) : undefined;
  // Each pod's directory (its programs' volumes, runtime/pod-volumes-dir.ts), as the kubelet's /var/lib/kubelet/pods/<uid>.
  const podsDir = opts.stateDir ? path.join(opts.stateDir, 'pods') : undefined;
  const leftovers = await LeftoverContainers.load(records, log);
  // The agent is ready only once every pod with a program left running has been taken back (or stopped) and its status written.
  const takeBack = pendingKeys(leftovers.pods());
  const nodeResolvConf = parseResolvConf(opts.nodeResolvConf ?? readNodeResolvConf());

  await registerNode(store, config, name, ordinal);
  log.info('node registered', { ip, podCIDR: `${config.podPrefix}.${ordinal}.0/24` });

  const informers = nodeInformers(opts.informers);
  const { pods: podInformer, nodes: nodeInformer, services, secrets, configMaps, serviceAccounts, persistentVolumeClaims } = informers;
  // Projected service-account tokens and the programs' kubeconfig (pod-api-access.ts).
  // The directory the pod's volumes are rendered in (pod-reconciler.ts): the kubeconfig names files there.
  const podDir = podsDir ? (uid: string) => path.join(podsDir, uid) : undefined;
  const apiAccess = new PodApiAccess({ key: opts.serviceAccountKey?.(), clusterDomain: config.clusterDomain, serviceAccounts, nodes: nodeInformer, services, podDir, log });

  // NetworkPolicy at the pods' sockets and their shells' connections, counted on /metrics.
  const registry = new Registry();
  const policies = startNodeNetpol(opts.informers, config, name, log, registry);
  const metrics = await serveNodeMetrics(ip, opts.metricsPort ?? NODE_METRICS_PORT, registry, log);

  let closed = false;
  const claims = new PodIPClaims(store, new PodIPAllocator(config, ordinal), name, ip);
  const heartbeat = new NodeHeartbeat({ store, name, nodes: nodeInformer, log, onReadyAgain: () => status.rewriteAll() });
  // containers[].ports[].hostPort forwarded from the node IP to the pods, as CNI portmap does (host-port-forwarder.ts).
  const hostPorts = new HostPortForwarder({
    node: { ip, podCIDR: podSubnet(config, ordinal) },
    pods: () => [...running].filter(([, r]) => !r.released).map(([key, r]) => ({ key, pod: r.pod, podIP: r.ip })),
    log: log.child('host-ports'),
    events: opts.events ?? noopRecorder,
    registry,
    netpol: policies.netpol,
    clock: opts.clock,
    bindRetryMs: opts.hostPortBindRetryMs,
  });
  policies.leaveToHostPorts((addr, port) => hostPorts.forwarded(addr, port));
  const status = new PodStatusWriter({ store, running, hostIP: ip, claims, log, paused: () => heartbeat.faulted || closed, released: () => hostPorts.sync() });
  const pods = new PodReconciler({
    store, config, nodeName: name, nodeIP: ip, log, events: opts.events ?? noopRecorder,
    pods: podInformer, services, secrets, configMaps, persistentVolumeClaims,
    running, status, claims, apiAccess, leftovers, records, nodeResolvConf,
    netpol: policies.netpol,
    egress: opts.egress ?? policies.egress,
    hostPorts,
    dirs: { podLogsRoot: opts.podLogsRoot, podsDir, persistentVolumesDir: opts.persistentVolumesDir },
    runtime: { crashBackoffMs: opts.crashBackoffMs, clock: opts.clock, volumeSyncMs: opts.volumeSyncMs },
    requeue: (key) => queue.add(key),
    closed: () => closed,
  });
  const queue = new WorkQueue('pods', (key) => pods.reconcile(key).then(() => takeBack.handled(key)), { log, concurrency: 8 });

  const unsubscribe = watch(name, informers, { pod: (key) => queue.add(key), node: (n) => heartbeat.onNodeChange(n), waitingMayStart: () => pods.retryWaiting() });
  await opts.informers.waitForSync();
  const execServer = await serveExec(store, name, ip, log, running, podInformer);
  // The pods already here were replayed to the handler above as adds (informer replay).
  removeOrphanedPodDirs(podsDir, new Set(podsOnNode(podInformer, name).map((p) => p.metadata?.uid ?? '')));
  // Also pods deleted while no agent ran: their programs are stopped.
  for (const key of takeBack.keys) queue.add(key);

  await heartbeat.start(opts.heartbeatMs ?? 1000);
  await takeBack.done;

  return {
    name,
    ip,
    pods: () => [...running.keys()],
    async close() {
      closed = true;
      heartbeat.stop();
      await queue.close();
      for (const u of unsubscribe) u();
      await execServer?.close();
      await Promise.all([...running.keys()].map((k) => pods.stop(k, 0).catch(() => {})));
      await leftovers.stopAll();
      await hostPorts.close();
      apiAccess.close();
      policies.close();
      await metrics.close();
    },
  };
}

/** Keys still to be handled once; `done` resolves when the last of them has been (at once when there are none). */
function pendingKeys(initial: Iterable<string>): { keys: ReadonlySet<string>; handled(key: string): void; done: Promise<void> } {
  const keys = new Set(initial);
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  if (keys.size === 0) resolve();
  return {
    keys,
    handled: (key) => {
      if (keys.delete(key) && keys.size === 0) resolve();
    },
    done,
  };
}

/** The informers the agent reads (a pod waits in the runtime for its Secrets, ConfigMaps, service account and bound claims). */
function nodeInformers(f: InformerFactory) {
  return {
    // Pods by node (the index the scheduler and node lifecycle declare too): this node's without a scan of all.
    pods: indexPodsByNode(f.informer<Pod>('Pod')),
    nodes: f.informer<Node>('Node'),
    services: f.informer<Service>('Service'),
    secrets: f.informer<Secret>('Secret'),
    configMaps: f.informer<ConfigMap>('ConfigMap'),
    serviceAccounts: f.informer<ServiceAccount>('ServiceAccount'),
    persistentVolumeClaims: f.informer<PersistentVolumeClaim>('PersistentVolumeClaim'),
  };
}

/**
 * The informer handlers: this node's pods to the queue; a Secret, ConfigMap or ServiceAccount
 * appearing (a claim bound) lets pods waiting for it start; this node's own object may carry the fault annotation.
 */
function watch(name: string, i: ReturnType<typeof nodeInformers>, on: { pod(key: string): void; node(n: Node): void; waitingMayStart(): void }): Array<() => void> {
  const mine = (p: Pod) => boundTo(p, name);
  return [
    i.pods.on({
      add: (p) => mine(p) && on.pod(keyOfPod(p)),
      update: (o, p) => (mine(p) || mine(o)) && on.pod(keyOfPod(p)),
      delete: (p) => mine(p) && on.pod(keyOfPod(p)),
    }),
    // A pod waiting for a Secret or ConfigMap starts once it appears.
    i.secrets.on({ add: () => on.waitingMayStart(), update: () => on.waitingMayStart() }),
    i.configMaps.on({ add: () => on.waitingMayStart(), update: () => on.waitingMayStart() }),
    // A pod waiting for its service account's token starts once it exists.
    i.serviceAccounts.on({ add: () => on.waitingMayStart() }),
    // A pod waiting for its claim starts once it is Bound.
    i.persistentVolumeClaims.on({ add: () => on.waitingMayStart(), update: () => on.waitingMayStart() }),
    i.nodes.on({ update: (_o, n) => n.metadata?.name === name && on.node(n), add: (n) => n.metadata?.name === name && on.node(n) }),
  ];
}

/** The kubelet's :10250 exec endpoint on the node IP (exec/exec-server.ts); exec is off if it cannot listen. */
async function serveExec(store: ObjectStore, name: string, ip: string, log: Logger, running: ReadonlyMap<string, RunningPod>, pods: Informer<Pod>): Promise<ExecServer | undefined> {
  const token = randomBytes(32).toString('hex');
  try {
    const server = await startExecServer({
      address: ip,
      token,
      log,
      pod: (ns, podName) => running.get(`${ns}/${podName}`)?.handle,
      containers: (ns, podName) => (pods.get(ns, podName)?.spec?.containers ?? []).map((c) => c.name),
    });
    await publishExecEndpoint(store, name, { address: ip, port: server.port, token });
    log.info('exec endpoint listening', { address: `${ip}:${server.port}` });
    return server;
  } catch (err) {
    log.warn('exec endpoint not started: exec into pods of this node is unavailable', { error: err as Error });
    return undefined;
  }
}

function readNodeResolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}
