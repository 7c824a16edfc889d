/**
 * The pods bound to this node, brought to what their objects say, one pod key at a time (the node
 * agent's work queue calls `reconcile`), as the kubelet's pod workers do:
 *   bound here, not terminal             → allocate a pod IP (store claim), start, report
 *   ran to completion (Succeeded/Failed) → its pod IP goes back to the pool (the status keeps it)
 *   deletionTimestamp set                → stop within the grace period, then delete (grace 0)
 *   gone from the store, or replaced     → stop at once
 * A `hostNetwork: true` pod's IP is the node's (no claim). Programs an earlier run of the agent
 * left running (leftover-containers.ts) are taken back when their pod starts here, stopped
 * otherwise.
 */
import path from 'node:path';
import type { ConfigMap, PersistentVolumeClaim, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import type { ObjectStore } from '../base/store/object-store.js';
import type { Informer } from '../base/informer/informer-types.js';
import type { ClusterConfig } from '../base/cluster-config.js';
import type { Logger } from '../base/log.js';
import type { EventRecorder } from '../base/admission/events.js';
import type { Clock } from '../base/clock.js';
import { StoreError } from '../base/store/errors.js';
import { deleteObject } from '../base/admission/writes.js';
import { podsOnNode } from '../base/informer/indexes.js';
import { metaTime } from '../base/model/meta-time.js';
import { ANNOTATION_DNS_PORT } from '../base/model/well-known.js';
import { podLogRef, podLogsDir } from '../base/container-logs/log-layout.js';
import { startPod } from './runtime/container-runner.js';
import type { ContainerRecords } from './runtime/container-records.js';
import type { ObjectLookup } from './runtime/container-env.js';
import { emptyDirPath, runsPrograms } from './runtime/pod-volumes-dir.js';
import type { PodNetpol } from './runtime/pod-ingress.js';
import { PodSandbox } from './shell/pod-sandbox.js';
import type { ResolvConf } from './shell/resolv-conf.js';
import type { EgressCheck } from './shell/dial-from-pod.js';
import type { PodApiAccess } from './pod-api-access.js';
import type { LeftoverContainers } from './leftover-containers.js';
import type { PodIPClaims } from './pod-ip-claims.js';
import type { PodStatusWriter, RunningPod } from './pod-status-writer.js';
import { removePodFiles, type PodDirs } from './pod-dir-cleanup.js';

export interface PodReconcilerDeps {
  store: ObjectStore;
  config: ClusterConfig;
  nodeName: string;
  nodeIP: string;
  log: Logger;
  events: EventRecorder;
  pods: Informer<Pod>;
  services: Informer<Service>;
  secrets: Informer<Secret>;
  configMaps: Informer<ConfigMap>;
  /** Claims: a pod waits for its claims to be Bound, then mounts their volumes' directories (dirs.persistentVolumesDir). */
  persistentVolumeClaims: Informer<PersistentVolumeClaim>;
  /** The pods running here by "ns/name" (shared with the status writer and the exec endpoint). */
  running: Map<string, RunningPod>;
  status: PodStatusWriter;
  claims: PodIPClaims;
  apiAccess: PodApiAccess;
  leftovers: LeftoverContainers;
  netpol: PodNetpol;
  /** What the pods' simulated shells ask before they connect. */
  egress: EgressCheck;
  /** The node's host ports (host-port-forwarder.ts), planned again when a pod starts or stops. */
  hostPorts: { sync(): void };
  nodeResolvConf: ResolvConf;
  dirs: PodDirs;
  records: ContainerRecords | undefined;
  /** The runtime's tuning (NodeAgentOptions: crash back-off, volume sync, its clock). */
  runtime: { crashBackoffMs?: number; clock?: Clock; volumeSyncMs?: number };
  /** Reconciles the key again (a replaced pod: the new one starts after the old one stopped). */
  requeue(key: string): void;
  /** The agent is closing: nothing more is started. */
  closed(): boolean;
}

export const keyOfPod = (p: Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;

export const boundTo = (p: Pod, nodeName: string) => p.spec?.nodeName === nodeName;

export class PodReconciler {
  constructor(private readonly deps: PodReconcilerDeps) {}

  private mine(p: Pod): boolean {
    return boundTo(p, this.deps.nodeName);
  }

  async reconcile(key: string): Promise<void> {
    const { pods, running, leftovers } = this.deps;
    if (this.deps.closed()) return;
    const [ns, podName] = key.split('/') as [string, string];
    const pod = pods.get(ns, podName);
    const have = running.get(key);
    if (!pod || !this.mine(pod) || (have && pod.metadata?.uid !== have.uid)) {
      // Deleted (or replaced by a new pod of the same name): stop what runs.
      if (have) {
        await this.stop(key, 0);
        removePodFiles(this.deps.dirs, { namespace: ns, name: podName, uid: have.uid }, this.deps.log);
      }
      if (!pod || !this.mine(pod)) await leftovers.stop(key, 0);
      if (pod && this.mine(pod)) this.deps.requeue(key);
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      const graceMs = Math.max(0, Date.parse(pod.metadata.deletionTimestamp) - Date.now());
      if (have) await this.stop(key, graceMs / 1000);
      await leftovers.stop(key, graceMs);
      await this.finishDelete(pod);
      removePodFiles(this.deps.dirs, podLogRef(pod), this.deps.log);
      return;
    }
    const phase = pod.status?.phase;
    if (have) {
      // The same pod, its spec changed: only ephemeral containers can have been added to it.
      if (phase !== 'Succeeded' && phase !== 'Failed') have.handle.update(pod);
      return;
    }
    if (phase === 'Succeeded' || phase === 'Failed') {
      // Finished while no agent ran (or before this one): its address is free again.
      if (pod.status?.podIP) await this.deps.claims.release(pod.status.podIP, key);
      return leftovers.stop(key, 0);
    }
    await this.start(pod);
  }

  /**
   * A Secret, ConfigMap or ServiceAccount appeared or changed: running pods may be waiting inside
   * the runtime for it (their programs' kubeconfig is written again first; the volume files it
   * names are rendered when a program starts), and pods not started yet are tried again.
   */
  retryWaiting(): void {
    const { running, apiAccess, pods, nodeName } = this.deps;
    for (const r of running.values()) {
      apiAccess.refresh(r.uid);
      r.handle.resync();
    }
    for (const p of podsOnNode(pods, nodeName)) if (!running.has(keyOfPod(p)) && !p.metadata?.deletionTimestamp) this.deps.requeue(keyOfPod(p));
  }

  /** Stops what runs for the key, gives its address back and forgets it; a second call waits for the first. */
  async stop(key: string, graceSeconds: number): Promise<void> {
    const { running, status, apiAccess, claims, log } = this.deps;
    const have = running.get(key);
    if (!have) return;
    have.stopping ??= have.handle.stop(graceSeconds);
    await have.stopping;
    running.delete(key);
    this.deps.hostPorts.sync();
    status.forget(key);
    apiAccess.remove(have.uid);
    await claims.release(have.ip, key);
    log.info('pod stopped', { pod: key });
  }

  private async start(pod: Pod): Promise<void> {
    const { nodeIP: ip, leftovers, apiAccess, secrets, configMaps, persistentVolumeClaims, running, log } = this.deps;
    const key = keyOfPod(pod);
    let podIP = pod.spec?.hostNetwork ? ip : pod.status?.podIP;
    if (!podIP) podIP = await this.deps.claims.claim(pod);
    const now = metaTime();
    const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c) => c.name);
    const adopt = await leftovers.take(key, pod.metadata!.uid!, containers);
    const lookup = apiAccess.lookup({
      secret: (n: string, s: string) => secrets.get(n, s),
      configMap: (n: string, c: string) => configMaps.get(n, c),
      persistentVolumeClaim: (n: string, c: string) => persistentVolumeClaims.get(n, c),
    });
    const { programEnv } = apiAccess.start(pod);
    const volumesDir = this.deps.dirs.podsDir && path.join(this.deps.dirs.podsDir, pod.metadata!.uid!);
    const sandbox = this.sandbox(pod, podIP, lookup, volumesDir);
    const handle = startPod({
      pod,
      podIP,
      nodeName: this.deps.nodeName,
      hostIP: ip,
      logDir: podLogsDir(this.deps.dirs.podLogsRoot, podLogRef(pod)),
      services: () => this.deps.services.list(),
      lookup,
      sandbox,
      log: log.child(`${pod.metadata?.namespace}/${pod.metadata?.name}`),
      crashBackoffMs: this.deps.runtime.crashBackoffMs,
      records: this.deps.records,
      // The status an earlier run of this agent reported: restartCount goes on from there.
      resume: { running: adopt, status: pod.status },
      netpol: this.deps.netpol,
      programEnv,
      volumesDir,
      currentPod: () => this.deps.pods.get(pod.metadata?.namespace, pod.metadata?.name ?? ''),
      clock: this.deps.runtime.clock,
      runtime: this.deps.runtime.volumeSyncMs !== undefined ? { volumeSyncMs: this.deps.runtime.volumeSyncMs } : undefined,
      onStatus: () => this.deps.status.request(key),
      onEvent: (type: 'Normal' | 'Warning', reason: string, message: string, _container?: string, fieldPath?: string) => {
        const current = this.deps.pods.get(pod.metadata?.namespace, pod.metadata?.name ?? '') ?? pod;
        this.deps.events.record(current, type, reason, message, { fieldPath });
      },
    });
    running.set(key, { handle, pod, uid: pod.metadata!.uid!, ip: podIP, startTime: now });
    // Its sandbox has its address: portmap's forwards exist from here until it stops.
    this.deps.hostPorts.sync();
    apiAccess.attach(pod.metadata!.uid!, () => handle.refreshVolumes());
    log.info(adopt.length ? 'pod taken back' : 'pod started', { pod: key, podIP, ...(adopt.length ? { adopted: adopt.map((r) => r.container) } : {}) });
    const written = this.deps.status.request(key);
    if (adopt.length) await written;
  }

  /** The pod's simulated-shell sandbox: its files, its DNS, its connections (through the egress check). */
  private sandbox(pod: Pod, podIP: string, lookup: ObjectLookup, volumesDir: string | undefined): PodSandbox {
    const { config, services } = this.deps;
    return new PodSandbox({
      pod,
      podIP,
      hostIP: this.deps.nodeIP,
      lookup,
      // A pod mixing programs and emulated images shares its emptyDirs through the disk.
      emptyDirOnDisk: volumesDir && runsPrograms(pod) ? (v) => emptyDirPath(volumesDir, v) : undefined,
      // A bound claim's volume is its PersistentVolume's directory, whichever node the pod runs on.
      persistentVolumesDir: this.deps.dirs.persistentVolumesDir,
      serviceAccounts: this.deps.apiAccess.issuer,
      egress: this.deps.egress,
      cluster: {
        clusterDomain: config.clusterDomain,
        dnsServiceIP: config.dnsServiceIP,
        nodeResolvConf: this.deps.nodeResolvConf,
        // The DNS may have fallen back from port 53; kube-dns says where it listens.
        dnsPort: () => Number(services.get('kube-system', 'kube-dns')?.metadata?.annotations?.[ANNOTATION_DNS_PORT] ?? config.dnsPort),
      },
    });
  }

  /** Deletes the stopped pod for good (grace 0) and gives its address back. */
  private async finishDelete(pod: Pod): Promise<void> {
    try {
      // Only if it is still the pod we stopped (a new pod of the same name is not ours to finish).
      await deleteObject(this.deps.store, 'Pod', pod.metadata?.namespace, pod.metadata?.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } });
    } catch (err) {
      const gone = err instanceof StoreError && (err.reason === 'NotFound' || (err.reason === 'Conflict' && err.message.includes('Precondition failed: UID')));
      if (!gone) throw err;
    }
    const podIP = pod.status?.podIP;
    if (podIP) await this.deps.claims.release(podIP, keyOfPod(pod));
  }
}
