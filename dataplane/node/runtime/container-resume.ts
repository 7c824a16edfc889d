/**
 * What a restarted node agent makes of a container it has no running program of to take back,
 * from the pod's last reported status. The kubelet never starts counting from zero again after
 * its own restart (it reads the dead containers from the runtime); knet reads the status its
 * previous run wrote:
 *   - never ran (waiting, no last state)              → start it as new;
 *   - exited for good (an init container that succeeded, a container restartPolicy does not
 *     restart)                                         → keep it terminated, do not run it again;
 *   - was running (it died with the agent: an emulated image runs inside the agent; a program
 *     that exited while no agent watched)             → its next start is a restart, and its last
 *     state says it was lost, as the kubelet says of a container it cannot find;
 *   - was waiting to be restarted (CrashLoopBackOff)   → its next start is that restart.
 */
import type { ContainerStateTerminated, ContainerStatus } from 'kubernetes-types/core/v1.js';
import type { RestartPolicy } from './pod-status.js';

export type ResumedContainer =
  | { kind: 'fresh' }
  | { kind: 'done'; terminated: ContainerStateTerminated; restartCount: number; lastTerminated?: ContainerStateTerminated }
  | { kind: 'restart'; restartCount: number; lastTerminated: ContainerStateTerminated };

export const LOST_CONTAINER_MESSAGE = 'The container could not be located when the node agent restarted. The container used to be Running';

export function resumeContainer(prior: ContainerStatus | undefined, opts: { isInit: boolean; restartPolicy: RestartPolicy; now: string }): ResumedContainer {
  if (!prior) return { kind: 'fresh' };
  const restartCount = prior.restartCount ?? 0;
  const running = prior.state?.running;
  const ended: ContainerStateTerminated | undefined =
    prior.state?.terminated ??
    (running
      ? { exitCode: 137, reason: 'ContainerStatusUnknown', message: LOST_CONTAINER_MESSAGE, startedAt: running.startedAt, finishedAt: opts.now, ...(prior.containerID ? { containerID: prior.containerID } : {}) }
      : undefined);
  if (!ended) {
    const last = prior.lastState?.terminated;
    return last ? { kind: 'restart', restartCount, lastTerminated: last } : { kind: 'fresh' };
  }
  const failed = ended.exitCode !== 0;
  const again = opts.isInit ? failed && opts.restartPolicy !== 'Never' : opts.restartPolicy === 'Always' || (opts.restartPolicy === 'OnFailure' && failed);
  if (again) return { kind: 'restart', restartCount, lastTerminated: ended };
  return { kind: 'done', terminated: ended, restartCount, ...(prior.lastState?.terminated ? { lastTerminated: prior.lastState.terminated } : {}) };
}
