/**
 * Which log a request for a pod's log reads, decided in three places upstream and here:
 *   - kubectl picks the container when none is named (`defaultLogContainer`: the
 *     `kubectl.kubernetes.io/default-container` annotation, else the first container, saying so
 *     on stderr when there were others; kubectl `polymorphichelpers/logsforobject.go`);
 *   - the apiserver checks the container (`validateLogContainer`: pod strategy's validateContainer);
 *   - the kubelet picks the run from the container's status (`selectLogRun`:
 *     validateContainerLogStatus) — the running one, else the last terminated one, or with
 *     `previous` the last terminated one — with its error texts, which kubectl shows as
 *     `Error from server (BadRequest): …`.
 * Pure: the runs that have files come in as `runs`.
 */
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { DEFAULT_CONTAINER_ANNOTATION, defaultContainer } from '../remotecommand/default-container.js';

export type Choice<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * kubectl's choice when `-c` is not given (the exec rule, base/remotecommand/default-container.ts,
 * plus logs' own words); `notice` is what kubectl prints on stderr.
 */
export function defaultLogContainer(pod: Pod, requested: string | undefined): Choice<{ container: string; notice?: string }> {
  const name = pod.metadata?.name ?? '';
  if (requested) {
    if (!allContainers(pod).includes(requested)) return { ok: false, message: `container ${requested} is not valid for pod ${name}` };
    return { ok: true, value: { container: requested } };
  }
  const annotated = pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  const missing = annotated && !allContainers(pod).includes(annotated) ? `Default container name "${annotated}" not found in pod ${name}` : undefined;
  const chosen = defaultContainer(pod);
  if ('error' in chosen) return { ok: false, message: chosen.error };
  const notice = [missing, chosen.note].filter(Boolean).join('\n');
  return { ok: true, value: notice ? { container: chosen.container, notice } : { container: chosen.container } };
}

/** The apiserver's check of PodLogOptions.container (defaulted when the pod has one container). */
export function validateLogContainer(pod: Pod, requested: string | undefined): Choice<string> {
  const name = pod.metadata?.name ?? '';
  const containers = pod.spec?.containers ?? [];
  if (!requested) {
    if (containers.length === 1) return { ok: true, value: containers[0]!.name };
    if (containers.length === 0) return { ok: false, message: `a container name must be specified for pod ${name}` };
    // Go's %s of a []string: "[a b c]", init containers first (podutil.VisitContainers' order).
    return { ok: false, message: `a container name must be specified for pod ${name}, choose one of: [${allContainers(pod).join(' ')}]` };
  }
  if (!allContainers(pod).includes(requested)) return { ok: false, message: `container ${requested} is not valid for pod ${name}` };
  return { ok: true, value: requested };
}

export interface LogRun {
  /** The run (restartCount at its start) whose file to read. */
  run: number;
  /** The container ID of that run: following stops once it no longer runs. */
  containerID: string;
}

/** The kubelet's choice of the run to read for `container`, with its error texts. */
export function selectLogRun(pod: Pod, container: string, previous: boolean, runs: readonly number[]): Choice<LogRun> {
  const podName = pod.metadata?.name ?? '';
  const status = findStatus(pod, container);
  const q = `container "${container}" in pod "${podName}"`;
  if (!status) {
    // Before the node agent's first report the kubelet would have said its containers wait to be created.
    const phase = pod.status?.phase;
    if (!phase || phase === 'Pending') return { ok: false, message: `${q} is waiting to start: ${isInit(pod, container) ? 'PodInitializing' : 'ContainerCreating'}` };
    return { ok: false, message: `${q} is not available` };
  }
  const restartCount = status.restartCount ?? 0;
  const { waiting, running, terminated } = status.state ?? {};
  const last = status.lastState?.terminated;
  // The current run has a container (running, or terminated with an ID): the last terminated one is older.
  const currentExists = !!running || !!terminated?.containerID;
  const lastRun = (): number => newest(runs, currentExists ? restartCount - 1 : restartCount) ?? Math.max(0, restartCount - (currentExists ? 1 : 0));
  const current = (): number => (runs.includes(restartCount) ? restartCount : (newest(runs, restartCount) ?? restartCount));
  if (previous) {
    if (!last?.containerID) return { ok: false, message: `previous terminated container "${container}" in pod "${podName}" not found` };
    return { ok: true, value: { run: lastRun(), containerID: last.containerID } };
  }
  if (running) return { ok: true, value: { run: current(), containerID: status.containerID ?? '' } };
  if (terminated) {
    if (terminated.containerID) return { ok: true, value: { run: current(), containerID: terminated.containerID } };
    if (last?.containerID) return { ok: true, value: { run: lastRun(), containerID: last.containerID } };
    return { ok: false, message: `${q} is terminated` };
  }
  if (last?.containerID) return { ok: true, value: { run: lastRun(), containerID: last.containerID } };
  if (waiting) {
    const reason = waiting.reason ?? '';
    if (reason === 'ErrImagePull') return { ok: false, message: `${q} is waiting to start: image can't be pulled` };
    if (reason === 'ImagePullBackOff') return { ok: false, message: `${q} is waiting to start: trying and failing to pull image` };
    return { ok: false, message: `${q} is waiting to start: ${reason}` };
  }
  return { ok: false, message: `${q} is waiting to start - no logs yet` };
}

/** Whether the run with this container ID still runs, by the pod's status (following stops when not). */
export function runIsRunning(pod: Pod | undefined, container: string, containerID: string): boolean {
  const status = pod ? findStatus(pod, container) : undefined;
  return !!status?.state?.running && status.containerID === containerID;
}

function findStatus(pod: Pod, container: string): ContainerStatus | undefined {
  const s = pod.status;
  return [...(s?.containerStatuses ?? []), ...(s?.initContainerStatuses ?? []), ...(s?.ephemeralContainerStatuses ?? [])].find((c) => c.name === container);
}

function isInit(pod: Pod, container: string): boolean {
  return (pod.spec?.initContainers ?? []).some((c) => c.name === container);
}

function newest(runs: readonly number[], atMost: number): number | undefined {
  let best: number | undefined;
  for (const r of runs) if (r <= atMost && (best === undefined || r > best)) best = r;
  return best;
}

function allContainers(pod: Pod): string[] {
  const s = pod.spec;
  return [...(s?.initContainers ?? []), ...(s?.containers ?? []), ...(s?.ephemeralContainers ?? [])].map((c) => c.name);
}
