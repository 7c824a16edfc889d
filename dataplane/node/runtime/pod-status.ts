/**
 * Pod phase and conditions from container states, as the kubelet computes them
 * (k/k pkg/kubelet/kubelet_pods.go getPhase, pkg/kubelet/status/generate.go). Pure.
 */
import type { ContainerStatus, PodCondition } from 'kubernetes-types/core/v1.js';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export function podPhase(
  restartPolicy: RestartPolicy,
  initStatuses: readonly ContainerStatus[],
  statuses: readonly ContainerStatus[],
  podIsTerminal = false,
): PodPhase {
  let pendingInit = 0;
  let failedInit = 0;
  for (const s of initStatuses) {
    if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.state?.waiting && s.lastState?.terminated) {
      if (s.lastState.terminated.exitCode !== 0) failedInit++;
    } else pendingInit++;
  }
  let running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const s of statuses) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    }
  }
  if (failedInit > 0 && restartPolicy === 'Never') return 'Failed';
  if (pendingInit > 0 || waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/**
 * PodReadyToStartContainers, Initialized, Ready and ContainersReady, in the kubelet's order
 * (generateAPIPodStatus; it appends PodScheduled last). Readiness gates are not evaluated here:
 * their conditions live in the API object.
 */
export function podConditions(opts: {
  phase: PodPhase;
  sandboxReady: boolean;
  initStatuses: readonly ContainerStatus[];
  statuses: readonly ContainerStatus[];
}): PodCondition[] {
  const { phase, initStatuses, statuses } = opts;
  const out: PodCondition[] = [];
  out.push({ type: 'PodReadyToStartContainers', status: opts.sandboxReady ? 'True' : 'False' });

  const incomplete = initStatuses.filter((s) => !(s.state?.terminated && s.state.terminated.exitCode === 0)).map((s) => s.name);
  // A regular container that has run means the pod was initialized (init statuses may lag a restart).
  const regularStarted = statuses.some((s) => s.state?.running || s.state?.terminated || s.lastState?.terminated);
  if (phase === 'Succeeded') out.push({ type: 'Initialized', status: 'True', reason: 'PodCompleted' });
  else if (incomplete.length === 0 || regularStarted) out.push({ type: 'Initialized', status: 'True' });
  else out.push({ type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${incomplete.join(' ')}]` });

  if (phase === 'Succeeded' || phase === 'Failed') {
    const reason = phase === 'Failed' ? 'PodFailed' : 'PodCompleted';
    out.push({ type: 'Ready', status: 'False', reason });
    out.push({ type: 'ContainersReady', status: 'False', reason });
    return out;
  }
  const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
  if (unready.length > 0) {
    const message = `containers with unready status: [${unready.join(' ')}]`;
    out.push({ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message });
    out.push({ type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message });
  } else {
    out.push({ type: 'Ready', status: 'True' });
    out.push({ type: 'ContainersReady', status: 'True' });
  }
  return out;
}
