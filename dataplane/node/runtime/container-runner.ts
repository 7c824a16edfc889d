/**
 * The node agent's container runtime for one pod — the part of the kubelet that runs containers
 * and probes them. The integrator calls `startPod` for a pod bound to this node and `stop` when it
 * is deleted; everything else (store writes, heartbeats) is theirs.
 *
 * Sync, as the kubelet's syncPod does it:
 *   1. volumes: a missing Secret/ConfigMap volume keeps every container waiting in
 *      ContainerCreating (PodReadyToStartContainers False) with a FailedMount event, rechecked
 *      every `retryMs` (or at once on `resync()`); mounted ConfigMap, Secret, downward-API and
 *      projected volumes are rewritten every `volumeSyncMs` (VOLUME_SYNC_MS, 2 s; the kubelet's
 *      sync period is 1 min), on the injectable clock, in the simulated shell and on disk
 *      (pod-volumes-dir.ts, for programs);
 *   2. init containers one at a time, each to a successful exit;
 *   3. the regular containers, each a ContainerSlot (env, start, probes, restarts, back-off).
 * Status is recomputed from the slots on every change and delivered (coalesced) to onStatus,
 * together with the events that happened since the previous delivery.
 *
 * The parts, one concept each: the containers and the order they begin in (pod-containers.ts),
 * the volume sync (pod-volume-sync.ts), events (pod-events.ts) and the status delivery
 * (pod-status-report.ts); this file wires them to one pod.
 *
 * Stop: every running container gets SIGTERM, then SIGKILL when the grace period is over; what
 * SIGTERM means is the image's (see container-process.ts). Listeners are closed when stop resolves.
 *
 * Resume (a node agent that was killed and restarted): programs still running are adopted —
 * same container ID, start time and restartCount — and every other container carries on from
 * the pod's last reported status (restartCount goes on counting; see container-resume.ts).
 */
import type { ConfigMap, Pod, PodStatus, Secret, Service } from 'kubernetes-types/core/v1.js';
import { silentLogger, type Logger } from '../../base/log.js';
import type { ContainerSlot } from './container-slot.js';
import type { SlotDeps } from './slot-deps.js';
import type { ContainerRecord, ContainerRecords } from './container-records.js';
import type { RestartPolicy } from './pod-status.js';
import { baseProcessEnv } from './process-container.js';
import { KUBELET_BACKOFF, type BackoffPolicy } from './restart-backoff.js';
import type { PodSandbox } from '../shell/pod-sandbox.js';
import type { PodNetpol } from './pod-ingress.js';
import type { AttachTarget } from './container-attach.js';
import { realClock, type Clock } from '../../base/clock.js';
import { PodContainers } from './pod-containers.js';
import { PodEvents, type EventTap, type RuntimeEvent } from './pod-events.js';
import { PodStatusReport, type PodRuntimeStatus } from './pod-status-report.js';
import { PodVolumeSync, VOLUME_SYNC_MS } from './pod-volume-sync.js';

export type { RuntimeEvent } from './pod-events.js';
export type { PodRuntimeStatus } from './pod-status-report.js';

export interface PodHandle {
  stop(gracePeriodSeconds: number): Promise<void>;
  status(): PodRuntimeStatus;
  /** Re-check missing Secrets/ConfigMaps now (e.g. when one was created) instead of at the next retry. */
  resync(): void;
  /** Render mounted volumes now instead of at the next volume sync (a projected token was refreshed). */
  refreshVolumes(): void;
  /** The pod's spec as it is now: ephemeral containers added to it (`kubectl debug`) start, once each. */
  update(pod: Pod): void;
  /** Every event of this pod so far (for tests and `describe`). */
  eventHistory(): RuntimeEvent[];
  /** A running container's exec target (../exec/exec-in-pod.ts), or why there is none. */
  execTarget(container: string): ExecTarget | { error: string };
  /** A running container's main process to attach to (container-attach.ts), or why there is none. */
  attachTarget(container: string): AttachTarget | { error: string };
  readonly sandbox?: PodSandbox;
}

export type ExecTarget = NonNullable<ReturnType<ContainerSlot['execTarget']>>;

export interface RuntimeTuning {
  /** Crash back-off base (kubelet: 10 s) and cap (300 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Milliseconds per probe "second" (1000; tests shrink it). */
  secondMs?: number;
  /** How often a pod waiting for a missing Secret/ConfigMap re-checks (1000). */
  retryMs?: number;
  /** The environment process containers start from (default: this process's, minus KNET_*). */
  baseEnv?: Record<string, string>;
  /** How often an adopted program is checked for having exited (1000, the kubelet's PLEG relist period). */
  adoptPollMs?: number;
  /** How often mounted ConfigMaps, Secrets and downward-API files are brought up to date (VOLUME_SYNC_MS). */
  volumeSyncMs?: number;
}

export interface StartPodOptions {
  pod: Pod;
  podIP: string;
  nodeName: string;
  hostIP: string;
  /** This pod's log directory (`<namespace>_<pod>_<uid>`): run N of container C logs to `<logDir>/C/N.log` (base/container-logs/log-layout.ts). */
  logDir: string;
  services: () => Service[];
  lookup: { secret(ns: string, name: string): Secret | undefined; configMap(ns: string, name: string): ConfigMap | undefined };
  log?: Logger;
  onStatus: (status: PodRuntimeStatus) => void;
  /** Optional immediate tap for events (they are also in the next onStatus). Use one of the two. */
  onEvent?: EventTap;
  /** Shorthand for runtime.backoffBaseMs. */
  crashBackoffMs?: number;
  runtime?: RuntimeTuning;
  /** Where programs' main processes are recorded, so the node agent's next run can take them back. */
  records?: ContainerRecords;
  /**
   * The pod as an earlier run of the node agent left it: its programs still running (to adopt)
   * and the status that run reported (to carry on from).
   */
  resume?: { running: ContainerRecord[]; status?: PodStatus };
  /** The pod's simulated-shell sandbox (its files and network): toolbox images and exec need it. */
  sandbox?: PodSandbox;
  /** NetworkPolicy enforcement (pod-ingress.ts); none: the pod's sockets admit everyone. */
  netpol?: PodNetpol;
  /** Added to what the pod's programs inherit (KUBECONFIG for their service account: program-api-access.ts). */
  programEnv?: Record<string, string>;
  /** This pod's directory on disk (`<node state>/pods/<uid>`): its programs' volumes (pod-volumes-dir.ts). None: programs see no volume files. */
  volumesDir?: string;
  /** The pod as the store has it now (labels and annotations change): what volume syncs read. */
  currentPod?: () => Pod | undefined;
  /** The timers of the volume sync (tests pass a fake clock). */
  clock?: Clock;
}

export function startPod(opts: StartPodOptions): PodHandle {
  const pod = opts.pod;
  const logger = opts.log ?? silentLogger;
  const tuning = opts.runtime ?? {};
  const restartPolicy = (pod.spec?.restartPolicy ?? 'Always') as RestartPolicy;
  const clock = opts.clock ?? realClock;
  const volumes = new PodVolumeSync({ ...opts, clock, syncMs: tuning.volumeSyncMs ?? VOLUME_SYNC_MS, logger });
  // The parts call each other through these closures: each exists before anything runs.
  const events = new PodEvents(logger, () => report.queue(), opts.onEvent);
  const deps = slotDeps(opts, logger, volumes.slotVolumes(), {
    emit: (c, f, t, r, m) => events.emit(c, f, t, r, m),
    changed: () => {
      report.queue();
      // Re-sync after the current call stack: an init container finishing lets the next begin.
      queueMicrotask(() => containers.sync());
    },
  });
  const containers = new PodContainers(pod, deps, {
    failedMount: (m) => events.emit(undefined, undefined, 'Warning', 'FailedMount', m),
    statusChanged: () => report.queue(),
  });
  const report = new PodStatusReport(containers, events, restartPolicy, opts.onStatus, logger);
  if (opts.resume) containers.resume(opts.resume.running, opts.resume.status, restartPolicy);
  queueMicrotask(() => containers.sync());
  let stopping: Promise<void> | undefined;

  return {
    status: () => report.snapshot(),
    // A missing Secret or ConfigMap may be there now; mounted ones follow at the next volume sync.
    resync: () => queueMicrotask(() => containers.sync()),
    refreshVolumes: () => volumes.syncNow(),
    update(current: Pod) {
      if (!containers.addEphemeral(current.spec?.ephemeralContainers ?? [])) return;
      report.queue();
      queueMicrotask(() => containers.sync());
    },
    eventHistory: () => events.all(),
    sandbox: opts.sandbox,
    // The kubelet's words for a container it has no running instance of, named or not.
    execTarget: (name) => containers.find(name)?.execTarget() ?? { error: `container not found (${JSON.stringify(name)})` },
    attachTarget: (name) => containers.find(name)?.attachTarget() ?? { error: `container not found (${JSON.stringify(name)})` },
    stop(gracePeriodSeconds: number) {
      stopping ??= (async () => {
        volumes.stop();
        await containers.stop(Math.max(0, gracePeriodSeconds) * 1000);
        report.deliverFinal();
      })();
      return stopping;
    },
  };
}

/** What every container slot of the pod is given (slot-deps.ts), from the runner's options and tuning. */
function slotDeps(opts: StartPodOptions, logger: Logger, volumes: SlotDeps['volumes'], hooks: Pick<SlotDeps, 'emit' | 'changed'>): SlotDeps {
  const tuning = opts.runtime ?? {};
  return {
    pod: opts.pod,
    podIP: opts.podIP,
    nodeName: opts.nodeName,
    hostIP: opts.hostIP,
    logDir: opts.logDir,
    services: opts.services,
    lookup: opts.lookup,
    logger,
    backoff: crashBackoff(tuning.backoffBaseMs ?? opts.crashBackoffMs ?? KUBELET_BACKOFF.baseMs, tuning.backoffMaxMs),
    secondMs: tuning.secondMs ?? 1000,
    retryMs: tuning.retryMs ?? 1000,
    baseEnv: { ...(tuning.baseEnv ?? baseProcessEnv()), ...opts.programEnv },
    records: opts.records,
    sandbox: opts.sandbox,
    adoptPollMs: tuning.adoptPollMs ?? 1000,
    netpol: opts.netpol,
    volumes,
    clock: opts.clock ?? realClock,
    ...hooks,
  };
}

/** The crash back-off from its base: the cap keeps the kubelet's 30× ratio to the base unless set explicitly. */
function crashBackoff(baseMs: number, maxMs: number | undefined): BackoffPolicy {
  return { baseMs, maxMs: Math.max(baseMs, maxMs ?? baseMs * (KUBELET_BACKOFF.maxMs / KUBELET_BACKOFF.baseMs)) };
}
