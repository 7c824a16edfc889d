/**
 * Container lifecycle hooks (`containers[].lifecycle.postStart` / `preStop`), as the kubelet 1.32
 * runs them (pkg/kubelet/lifecycle/handlers.go; kuberuntime_container.go startContainer and
 * killContainer/executePreStopHook):
 *
 * - exec: the command runs in the container, where `kubectl exec` runs it — the pod's simulated
 *   shell for an emulated image, a real process with the container's environment for a program
 *   (../exec/exec-process.ts). No timeout (the kubelet passes 0); it ends when the container does.
 *   A non-zero exit is a failure.
 * - httpGet: the probes' request (probe-check.ts): the pod IP unless `host`, port by number or
 *   name (an empty one is 80), path, scheme, httpHeaders, User-Agent kube-lifecycle/<version>.
 *   Any answer is success, whatever its status code: the kubelet fails the hook only when the
 *   request itself fails (refused, reset…).
 * - sleep: waits `seconds` on the runtime's clock; ended early (a failure) when the container is.
 * - tcpSocket: deprecated and never run: the kubelet has no case for it, so the hook fails
 *   ("Cannot run handler: invalid handler").
 *
 * preStop (killContainer): after the Killing event and before SIGTERM, when the grace period is
 * above 0. The hook is waited for up to the grace period; the time it took, in whole seconds,
 * comes off the grace period, and what is left is never below 2 s (minimumGracePeriodInSeconds),
 * so SIGKILL comes at the latest 2 s after a hook that used the whole period up. A failure is a
 * Warning `FailedPreStopHook` "PreStopHook failed" (the kubelet keeps the details out of the event,
 * so no secret leaks; they are logged) and stopping goes on.
 *
 * postStart (startContainer): right after the Started event; until it returns the container is
 * not running in the status (waiting ContainerCreating, no probes). A failure is a Warning
 * `FailedPostStartHook` "PostStartHook failed", then the container is killed (Killing
 * "FailedPostStartHook", its preStop included) and restartPolicy decides on its exit.
 */
import type { Container, LifecycleHandler, Pod } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../../base/clock.js';
import { execProcess } from '../exec/exec-process.js';
import type { PodSandbox } from '../shell/pod-sandbox.js';
import { runShellCommand } from '../shell/shell-command.js';
import { stopContainer, type ContainerExit, type ContainerProcess } from './container-process.js';
import { httpGetAction, KUBE_MINOR, MAX_TIMER_MS } from './probe-check.js';

/** kuberuntime's minimumGracePeriodInSeconds: what a container always gets between SIGTERM and SIGKILL after its preStop hook. */
export const MIN_GRACE_AFTER_HOOK_MS = 2000;

/** Runs a command in the container to its end; aborted when the container is gone. */
export type HookExec = (argv: string[], signal: AbortSignal) => Promise<{ exitCode: number; output: string }>;

export interface HookTarget {
  pod: Pod;
  container: Container;
  podIP: string;
  /** The node IP: the hook's HTTP requests come from the node, as probes do. */
  hostIP?: string;
  exec: HookExec;
  clock: Clock;
}

/** The kubelet's format.Pod: `name_namespace(uid)`. */
export function formatPod(pod: Pod): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid ?? ''})`;
}

/**
 * Runs one handler: undefined when it succeeded, else the kubelet's failure message (logged,
 * never put in an event).
 */
export async function runLifecycleHandler(h: LifecycleHandler, t: HookTarget, signal: AbortSignal): Promise<string | undefined> {
  const where = `for Container ${JSON.stringify(t.container.name)} in Pod ${JSON.stringify(formatPod(t.pod))} failed - error:`;
  if (h.exec) {
    const argv = h.exec.command ?? [];
    const r = await t.exec(argv, signal).catch((err: unknown) => ({ exitCode: -1, output: (err as Error).message }));
    if (r.exitCode === 0) return undefined;
    // The CRI's ExecSync error for a non-zero exit; the combined output stands for its stderr.
    return `Exec lifecycle hook ([${argv.join(' ')}]) ${where} command '${argv.join(' ')}' exited with ${r.exitCode}: , message: ${JSON.stringify(r.output)}`;
  }
  if (h.httpGet) {
    let error: string;
    try {
      const action = { ...h.httpGet, port: h.httpGet.port === '' ? 80 : h.httpGet.port };
      const res = await httpGetAction(action, t, MAX_TIMER_MS, `kube-lifecycle/${KUBE_MINOR}`, signal);
      if (!('error' in res)) return undefined;
      error = `Get ${JSON.stringify(res.url)}: ${res.error}`;
    } catch (err) {
      error = (err as Error).message;
    }
    return `HTTP lifecycle hook (${h.httpGet.path ?? ''}) ${where} ${error}`;
  }
  if (h.sleep) {
    const seconds = h.sleep.seconds;
    if (await sleep(t.clock, seconds * 1000, signal)) return undefined;
    return `Sleep lifecycle hook (${seconds}) ${where} container terminated before sleep hook finished`;
  }
  return `Cannot run handler: invalid handler: ${JSON.stringify(h)}`;
}

/** Resolves true after `ms` on the clock, false as soon as `signal` aborts. */
function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = () => {
      clock.clearTimeout(timer);
      resolve(false);
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.min(MAX_TIMER_MS, Math.max(0, ms)));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** An abort signal that fires when the container's process exits. */
function untilExit(proc: ContainerProcess): AbortController {
  const ac = new AbortController();
  void proc.exited.then(() => ac.abort());
  return ac;
}

/**
 * The grace period left for SIGTERM → SIGKILL after a preStop hook that took `hookMs`: the whole
 * seconds it used come off (the kubelet counts in seconds, truncating), never below 2 s.
 */
export function graceAfterPreStop(graceMs: number, hookMs: number): number {
  return Math.max(graceMs - Math.floor(Math.max(0, hookMs) / 1000) * 1000, MIN_GRACE_AFTER_HOOK_MS);
}

export interface KillOptions {
  proc: ContainerProcess;
  graceMs: number;
  /** The container's preStop hook, run before SIGTERM against `target` (none: SIGTERM at once). */
  preStop?: LifecycleHandler;
  target?: HookTarget;
  /** The hook failed (its message) while the container was being stopped. */
  onHookFailed(message: string): void;
  clock: Clock;
}

/** The kubelet's killContainer after its Killing event: preStop within the grace period, then SIGTERM, then SIGKILL. */
export async function killContainer(o: KillOptions): Promise<ContainerExit> {
  if (!o.preStop || !o.target || o.graceMs <= 0) return stopContainer(o.proc, o.graceMs);
  const ac = untilExit(o.proc);
  let over = false;
  const start = o.clock.now();
  const hook = runLifecycleHandler(o.preStop, o.target, ac.signal).then(
    (failure) => {
      if (failure !== undefined && !over) o.onHookFailed(failure);
    },
    (err: unknown) => {
      if (!over) o.onHookFailed((err as Error).message);
    },
  );
  // Waited for up to the grace period; a hook still running then goes on beside SIGTERM until
  // the container is gone, and its end is not reported (knet reports a hook's failure only
  // within the grace period; the kubelet's goroutine may still record one later).
  const graceOver = new AbortController();
  await Promise.race([hook, sleep(o.clock, o.graceMs, graceOver.signal)]);
  graceOver.abort();
  over = true;
  const exit = await stopContainer(o.proc, graceAfterPreStop(o.graceMs, o.clock.now() - start));
  ac.abort();
  return exit;
}

/** The grace period of a kill the pod's deletion did not ask for (a failed postStart): the kubelet's setTerminationGracePeriod. */
export function podGraceMs(pod: Pod): number {
  return (pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
}

/** Runs the postStart hook of a container that just started: its failure message, or undefined. */
export function runPostStart(h: LifecycleHandler, t: HookTarget, proc: ContainerProcess): Promise<string | undefined> {
  return runLifecycleHandler(h, t, untilExit(proc).signal);
}

/** What a hook's exec runs in: the running container as `kubectl exec` finds it (ContainerSlot.execTarget). */
export interface HookExecTarget {
  container: Container;
  env: ReadonlyMap<string, string>;
  kind: 'shell' | 'process';
  baseEnv: Record<string, string>;
}

/** A hook's exec, by the code `kubectl exec` uses: the pod's simulated shell, or a real process for a program. */
export function hookExec(target: HookExecTarget, sandbox: PodSandbox | undefined): HookExec {
  return async (argv, signal) => {
    if (argv.length === 0) return { exitCode: 126, output: 'no command' };
    if (target.kind === 'shell') {
      if (!sandbox) return { exitCode: 126, output: 'no sandbox to exec in' };
      return runShellCommand(sandbox, target.container, target.env, argv, MAX_TIMER_MS, signal);
    }
    const session = execProcess(target, argv, {});
    const chunks: Buffer[] = [];
    session.stdout.on('data', (c: Buffer) => chunks.push(c));
    session.stderr.on('data', (c: Buffer) => chunks.push(c));
    const kill = () => session.kill();
    if (signal.aborted) kill();
    else signal.addEventListener('abort', kill, { once: true });
    const exitCode = await session.exit;
    signal.removeEventListener('abort', kill);
    return { exitCode, output: Buffer.concat(chunks).toString('utf8') };
  };
}
