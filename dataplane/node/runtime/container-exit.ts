/**
 * What a container's exit means, as the kubelet reads it: the terminated state it reports, whether
 * restartPolicy starts the container again, and what it says while the crash back-off holds it.
 * Pure; the slot (container-slot.ts) applies them.
 */
import type { ContainerStateTerminated, Pod } from 'kubernetes-types/core/v1.js';
import type { ContainerExit } from './container-process.js';
import type { RestartPolicy } from './pod-status.js';
import { goDuration } from './restart-backoff.js';
import { metaTime } from '../../base/model/meta-time.js';

/**
 * The `state.terminated` of an exit: StartError (never ran: the kubelet's zero start time),
 * ContainerStatusUnknown (an adopted program whose exit code is lost), Completed or Error.
 */
export function terminatedState(exit: ContainerExit, startedAt: string, finishedAt: Date, containerID: string | undefined): ContainerStateTerminated {
  return {
    exitCode: exit.exitCode,
    reason: exit.startError ? 'StartError' : exit.statusUnknown ? 'ContainerStatusUnknown' : exit.exitCode === 0 ? 'Completed' : 'Error',
    ...(exit.signal ? { signal: exit.signal } : {}),
    ...(exit.startError ? { message: exit.startError } : exit.statusUnknown ? { message: exit.statusUnknown } : {}),
    startedAt: exit.startError ? '1970-01-01T00:00:00Z' : startedAt,
    finishedAt: metaTime(finishedAt),
    containerID,
  };
}

/**
 * Whether the container starts again: a liveness/startup kill restarts unless `Never`; an init
 * container restarts only after a failure; an app container per Always / OnFailure.
 */
export function restartsAfterExit(policy: RestartPolicy, exit: { isInit: boolean; exitCode: number; killedByProbe: boolean }): boolean {
  if (exit.killedByProbe) return policy !== 'Never';
  if (exit.isInit) return exit.exitCode !== 0 && policy !== 'Never';
  return policy === 'Always' || (policy === 'OnFailure' && exit.exitCode !== 0);
}

/** The kubelet's CrashLoopBackOff texts: the waiting message (with the back-off) and the BackOff event's. */
export function crashLoopBackOff(pod: Pod, container: string, backoffMs: number): { waitingMessage: string; eventMessage: string } {
  const p = pod.metadata;
  const podRef = `${p?.name}_${p?.namespace}(${p?.uid ?? ''})`;
  return {
    waitingMessage: `back-off ${goDuration(backoffMs)} restarting failed container=${container} pod=${podRef}`,
    eventMessage: `Back-off restarting failed container ${container} in pod ${podRef}`,
  };
}
