/**
 * The node agent's container runtime for one pod — the part of the kubelet that runs containers
 * and probes them. The integrator calls `startPod` for a pod bound to this node and `stop` when it
 * is deleted; everything else (store writes, heartbeats) is theirs.
 *
 * Sync, as the kubelet's syncPod does it:
 *   1. volumes: a missing Secret/ConfigMap volume keeps every container waiting in
 *      ContainerCreating (PodReadyToStartContainers False) with a FailedMount event, rechecked
 *      every `retryMs` (or at once on `resync()`);
 *   2. init containers one at a time, each to a successful exit;
 *   3. the regular containers, each a ContainerSlot (env, start, probes, restarts, back-off).
 * Status is recomputed from the slots on every change and delivered (coalesced) to onStatus,
 * together with the events that happened since the previous delivery.
 *
 * Stop: every running container gets SIGTERM, then SIGKILL when the grace period is over; what
 * SIGTERM means is the image's (see container-process.ts). Listeners are closed when stop resolves.
 */
import type { ConfigMap, ContainerStatus, Pod, PodCondition, Secret, Service } from 'kubernetes-types/core/v1.js';
import { silentLogger, type Logger } from '../../log.js';
import { ContainerSlot, type EventType } from './container-slot.js';
import { podConditions, podPhase, type PodPhase, type RestartPolicy } from './pod-status.js';
import { baseProcessEnv } from './process-container.js';
import { KUBELET_BACKOFF } from './restart-backoff.js';
import { missingVolumeSources } from './volume-sources.js';

export interface RuntimeEvent {
  type: EventType;
  /** Pulled, Created, Started, Killing, Unhealthy, BackOff, Failed, FailedMount, InvalidEnvironmentVariableNames. */
  reason: string;
  message: string;
  /** The container the event is about, if any. */
  container?: string;
  /** involvedObject.fieldPath, e.g. "spec.containers{web}". */
  fieldPath?: string;
  time: string;
}

export interface PodRuntimeStatus {
  phase: PodPhase;
  /** PodReadyToStartContainers, Initialized, ContainersReady, Ready (PodScheduled is the integrator's). */
  conditions: PodCondition[];
  containerStatuses: ContainerStatus[];
  initContainerStatuses: ContainerStatus[];
  /** Events since the previous onStatus call (each delivered once); empty from status(). */
  events: RuntimeEvent[];
}

export interface PodHandle {
  stop(gracePeriodSeconds: number): Promise<void>;
  status(): PodRuntimeStatus;
  /** Re-check missing Secrets/ConfigMaps now (e.g. when one was created) instead of at the next retry. */
  resync(): void;
  /** Every event of this pod so far (for tests and `describe`). */
  eventHistory(): RuntimeEvent[];
}

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
}

export interface StartPodOptions {
  pod: Pod;
  podIP: string;
  nodeName: string;
  hostIP: string;
  /** This pod's log directory; container NAME logs to `<logDir>/<NAME>.log`. */
  logDir: string;
  services: () => Service[];
  lookup: { secret(ns: string, name: string): Secret | undefined; configMap(ns: string, name: string): ConfigMap | undefined };
  log?: Logger;
  onStatus: (status: PodRuntimeStatus) => void;
  /** Optional immediate tap for events (they are also in the next onStatus). Use one of the two. */
  onEvent?: (type: EventType, reason: string, message: string, container?: string) => void;
  /** Shorthand for runtime.backoffBaseMs. */
  crashBackoffMs?: number;
  runtime?: RuntimeTuning;
}

export function startPod(opts: StartPodOptions): PodHandle {
  const pod = opts.pod;
  const logger = opts.log ?? silentLogger;
  const tuning = opts.runtime ?? {};
  const baseMs = tuning.backoffBaseMs ?? opts.crashBackoffMs ?? KUBELET_BACKOFF.baseMs;
  const restartPolicy = (pod.spec?.restartPolicy ?? 'Always') as RestartPolicy;
  const retryMs = tuning.retryMs ?? 1000;
  const history: RuntimeEvent[] = [];
  let pending: RuntimeEvent[] = [];
  let sandboxReady = false;
  let stopping: Promise<void> | undefined;
  let done = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let statusQueued: NodeJS.Immediate | undefined;
  let mountMessages = new Set<string>();

  const emit = (container: string | undefined, fieldPath: string | undefined, type: EventType, reason: string, message: string) => {
    const ev: RuntimeEvent = { type, reason, message, ...(container ? { container, fieldPath } : {}), time: new Date().toISOString() };
    history.push(ev);
    if (history.length > 1000) history.shift();
    pending.push(ev);
    logger.info('event', { type, reason, message, container });
    opts.onEvent?.(type, reason, message, container);
    queueStatus();
  };

  const deps = {
    pod,
    podIP: opts.podIP,
    nodeName: opts.nodeName,
    hostIP: opts.hostIP,
    logDir: opts.logDir,
    services: opts.services,
    lookup: opts.lookup,
    logger,
    // The cap keeps the kubelet's 30× ratio to the base unless set explicitly.
    backoff: { baseMs, maxMs: Math.max(baseMs, tuning.backoffMaxMs ?? baseMs * (KUBELET_BACKOFF.maxMs / KUBELET_BACKOFF.baseMs)) },
    secondMs: tuning.secondMs ?? 1000,
    retryMs,
    baseEnv: tuning.baseEnv ?? baseProcessEnv(),
    emit: (c: string, f: string, t: EventType, r: string, m: string) => emit(c, f, t, r, m),
    changed: () => {
      queueStatus();
      // Re-sync after the current call stack: an init container finishing lets the next begin.
      queueMicrotask(sync);
    },
  };
  const hasInit = (pod.spec?.initContainers ?? []).length > 0;
  const initSlots = (pod.spec?.initContainers ?? []).map((c) => new ContainerSlot(c, true, deps, 'PodInitializing'));
  const slots = (pod.spec?.containers ?? []).map((c) => new ContainerSlot(c, false, deps, hasInit ? 'PodInitializing' : 'ContainerCreating'));

  function sync(): void {
    if (stopping || done) return;
    clearTimeout(retryTimer);
    const problems = missingVolumeSources(pod, opts.lookup);
    if (problems.length > 0) {
      sandboxReady = false;
      const now = new Set(problems.map((p) => p.message));
      for (const m of now) if (!mountMessages.has(m)) emit(undefined, undefined, 'Warning', 'FailedMount', m);
      mountMessages = now;
      for (const s of [...initSlots, ...slots]) s.setWaitingReason(s.isInit || hasInit ? 'PodInitializing' : 'ContainerCreating');
      retryTimer = setTimeout(sync, retryMs);
      queueStatus();
      return;
    }
    mountMessages.clear();
    if (!sandboxReady) {
      sandboxReady = true;
      queueStatus();
    }
    for (const init of initSlots) {
      if (init.succeeded) continue;
      // A failed init container under restartPolicy Never fails the pod; otherwise its slot restarts it.
      if (init.idle) init.begin();
      return;
    }
    for (const s of slots) if (s.idle) s.begin();
  }

  function snapshot(terminal = false): PodRuntimeStatus {
    const initStatuses = initSlots.map((s) => s.status());
    const statuses = slots.map((s) => s.status());
    const phase = podPhase(restartPolicy, initStatuses, statuses, terminal);
    const now = new Date().toISOString();
    const conditions = podConditions({ phase, sandboxReady, initStatuses, statuses }).map((c) => ({ ...c, lastTransitionTime: transition(c, now) }));
    return { phase, conditions, containerStatuses: statuses, initContainerStatuses: initStatuses, events: [] };
  }

  const lastConditions = new Map<string, { status: string; time: string }>();
  function transition(c: PodCondition, now: string): string {
    const was = lastConditions.get(c.type);
    if (was && was.status === c.status) return was.time;
    lastConditions.set(c.type, { status: c.status, time: now });
    return now;
  }

  function deliver(terminal = false): void {
    const status = snapshot(terminal);
    status.events = pending;
    pending = [];
    try {
      opts.onStatus(status);
    } catch (err) {
      logger.error('onStatus threw', { error: err as Error });
    }
  }

  function queueStatus(): void {
    if (done || statusQueued) return;
    statusQueued = setImmediate(() => {
      statusQueued = undefined;
      if (!done) deliver();
    });
  }

  queueMicrotask(sync);

  return {
    status: () => snapshot(done),
    resync: () => queueMicrotask(sync),
    eventHistory: () => [...history],
    stop(gracePeriodSeconds: number) {
      stopping ??= (async () => {
        clearTimeout(retryTimer);
        const graceMs = Math.max(0, gracePeriodSeconds) * 1000;
        await Promise.all([...initSlots, ...slots].map((s) => s.stop(graceMs)));
        clearImmediate(statusQueued);
        statusQueued = undefined;
        deliver(true);
        done = true;
      })();
      return stopping;
    },
  };
}
