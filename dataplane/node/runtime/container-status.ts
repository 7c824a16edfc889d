/**
 * A container's status as the kubelet reports it (ContainerStatus: state, lastState, ready,
 * started, restartCount), from where its slot is in the lifecycle. Pure: the slot
 * (container-slot.ts) keeps a SlotState and asks for its status whenever the pod's is written.
 */
import type { Container, ContainerState, ContainerStateTerminated, ContainerStatus, Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { normalizeImage } from './image-reference.js';

/**
 * idle: not begun (waiting for volumes or init containers); configError: waiting for a Secret or
 * ConfigMap its environment names; backoff: CrashLoopBackOff; terminated: exited, not restarted;
 * stopped: its pod is being deleted.
 */
export type SlotPhase = 'idle' | 'configError' | 'starting' | 'running' | 'backoff' | 'terminated' | 'stopped';

/** What the slot knows of its container that the status reports. */
export interface SlotState {
  phase: SlotPhase;
  /** `state.waiting` while not running: ContainerCreating, CreateContainerConfigError, CrashLoopBackOff… */
  waitingReason: string;
  waitingMessage: string | undefined;
  restartCount: number;
  containerID: string | undefined;
  startedAt: string | undefined;
  /** The last run's end (kept while it restarts, for lastState). */
  terminated: ContainerStateTerminated | undefined;
  lastTerminated: ContainerStateTerminated | undefined;
  /** Stopped while running: it still runs (its preStop hook, its SIGTERM grace) until `terminated` is set. */
  runningWhileStopped?: boolean;
}

/** A slot before its container's first start, waiting for `waitingReason` (ContainerCreating, PodInitializing). */
export function idleSlot(waitingReason: string): SlotState {
  return { phase: 'idle', waitingReason, waitingMessage: undefined, restartCount: 0, containerID: undefined, startedAt: undefined, terminated: undefined, lastTerminated: undefined };
}

/** An init container that ran to completion. */
export function succeeded(s: SlotState): boolean {
  return s.phase === 'terminated' && s.terminated?.exitCode === 0;
}

/** `probes`: the container's readiness and startup as probed (none: ready and started once running). */
export function containerStatus(container: Container, isInit: boolean, s: SlotState, probes: { ready(): boolean; started(): boolean } | undefined): ContainerStatus {
  const running = s.phase === 'running' || (s.phase === 'stopped' && !!s.runningWhileStopped && !s.terminated);
  let state: ContainerState;
  if (running) state = { running: { startedAt: s.startedAt } };
  else if ((s.phase === 'terminated' || s.phase === 'stopped') && s.terminated) state = { terminated: s.terminated };
  else state = { waiting: { reason: s.waitingReason, ...(s.waitingMessage ? { message: s.waitingMessage } : {}) } };
  const ready = isInit ? succeeded(s) : running && (probes ? probes.ready() : true);
  const started = running && (probes ? probes.started() : true);
  return {
    name: container.name,
    image: container.image ?? '',
    imageID: normalizeImage(container.image ?? ''),
    ...(s.containerID ? { containerID: s.containerID } : {}),
    ready,
    started,
    restartCount: s.restartCount,
    state,
    lastState: s.lastTerminated ? { terminated: s.lastTerminated } : {},
  };
}

/**
 * An ephemeral container's status: as a container's, but never ready and without `started`
 * (the kubelet's probe manager, which sets both, looks only at regular and init containers).
 */
export function ephemeralStatus(container: Container, s: SlotState): ContainerStatus {
  const { started: _started, ...status } = containerStatus(container, false, s, undefined);
  return { ...status, ready: false };
}

/**
 * The container statuses of a pod none of whose containers has begun, as its slots will first
 * report them (waiting PodInitializing behind init containers, else ContainerCreating): written
 * with the pod's IP, so the pod never shows a bare Pending once the node has it (the kubelet's
 * first status already carries them).
 */
export function waitingStatuses(pod: Pod): Pick<PodStatus, 'initContainerStatuses' | 'containerStatuses'> {
  const inits = pod.spec?.initContainers ?? [];
  const main = idleSlot(inits.length ? 'PodInitializing' : 'ContainerCreating');
  return {
    ...(inits.length ? { initContainerStatuses: inits.map((c) => containerStatus(c, true, idleSlot('PodInitializing'), undefined)) } : {}),
    containerStatuses: (pod.spec?.containers ?? []).map((c) => containerStatus(c, false, main, undefined)),
  };
}
