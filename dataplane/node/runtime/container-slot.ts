/**
 * One container of a pod through its lifecycle, as the kubelet drives it: resolve its
 * environment (waiting in CreateContainerConfigError while a referenced Secret/ConfigMap is
 * missing), start the right implementation (Pulled/Created/Started), probe it, and when it exits
 * decide by restartPolicy whether to start it again now, after the crash back-off
 * (CrashLoopBackOff), or never. Liveness/startup failures kill it ("will be restarted").
 * The pod runner decides when a slot may begin (volumes present, init containers done).
 *
 * After a node agent restart a slot starts where the previous run left it: `adopt` takes back
 * a program that is still running (container ID, start time and restartCount unchanged), and
 * `resume` carries on from the pod's last reported status (container-resume.ts). A program's
 * main process is recorded (container-records.ts) for as long as it runs, for the next run.
 *
 * The slot is the state machine; the pure parts it applies live beside it: the status it
 * reports (container-status.ts), what an exit means (container-exit.ts), which implementation
 * starts (container-implementation.ts), and what it is given by the pod runner (slot-deps.ts).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Container, ContainerStatus, Probe } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../base/log.js';
import { expandCommand, podHostname, resolveContainerEnv } from './container-env.js';
import { openRunLog, type ContainerLog } from './container-log.js';
import { runLogFile } from '../../base/container-logs/log-layout.js';
import type { ContainerRecord } from './container-records.js';
import { adoptProcess } from './adopted-process.js';
import type { ResumedContainer } from './container-resume.js';
import type { ContainerContext, ContainerExit, ContainerProcess } from './container-process.js';
import { hookExec, killContainer, podGraceMs, runPostStart, type HookTarget } from './lifecycle-hooks.js';
import { attachTarget, OutputFanout, teeLog, type AttachTarget } from './container-attach.js';
import { runShellCommand } from '../shell/shell-command.js';
import type { ProbeTarget } from './probe-check.js';
import { chooseEmulation } from './image-selection.js';
import { VOLUMES_DIR_ENV } from './pod-volumes-dir.js';
import { ContainerProbes } from './probe-runner.js';
import { startImplementation } from './container-implementation.js';
import { crashLoopBackOff, restartsAfterExit, terminatedState } from './container-exit.js';
import { containerStatus, ephemeralStatus, idleSlot, succeeded, type SlotPhase, type SlotState } from './container-status.js';
import type { EventType, SlotDeps } from './slot-deps.js';
import { backoffRemaining, nextBackoff, type BackoffEntry } from './restart-backoff.js';
import type { RestartPolicy } from './pod-status.js';
import { metaTime } from '../../base/model/meta-time.js';

export class ContainerSlot {
  /** Where the container is in its lifecycle: what its status reports (container-status.ts). */
  private readonly state: SlotState;
  private launches = 0;
  private proc: ContainerProcess | undefined;
  private log: ContainerLog | undefined;
  private timer: NodeJS.Timeout | undefined;
  private backoffEntry: BackoffEntry | undefined;
  private killedForRestart = false;
  private launching: Promise<void> | undefined;
  private lastConfigError: string | undefined;
  private readonly probes: ContainerProbes | undefined;
  /** The environment the running container was started with (what `exec` gives a command). */
  private env: ReadonlyMap<string, string> | undefined;
  private readonly fieldPath: string;
  private readonly logger: Logger;
  /** Attached sessions (container-attach.ts): an emulated image's output as it writes it. */
  private readonly output = new OutputFanout();
  /** A program's output is written to the run's log file by its shim: attached sessions read it from there. */
  private outputFile: string | undefined;

  /**
   * `ephemeral`: an ephemeral container (`kubectl debug`): started once, never restarted,
   * whatever the pod's restartPolicy; it has no probes (validation refuses them).
   */
  constructor(
    readonly container: Container,
    readonly isInit: boolean,
    private readonly deps: SlotDeps,
    initialWaitingReason: string,
    readonly ephemeral = false,
  ) {
    this.state = idleSlot(initialWaitingReason);
    this.fieldPath = `spec.${ephemeral ? 'ephemeralContainers' : isInit ? 'initContainers' : 'containers'}{${container.name}}`;
    this.logger = deps.logger.child(container.name);
    if (!isInit && (container.livenessProbe || container.readinessProbe || container.startupProbe)) {
      this.probes = new ContainerProbes(
        container,
        {
          onChange: () => deps.changed(),
          onRestart: (kind, probe) => this.killForProbe(kind, probe),
          onEvent: (type, reason, message) => this.emit(type, reason, message),
        },
        deps.secondMs,
      );
    }
  }

  get name(): string {
    return this.container.name;
  }

  /** Never started yet: the pod runner may begin it. */
  get idle(): boolean {
    return this.state.phase === 'idle';
  }

  /** An init container that ran to completion. */
  get succeeded(): boolean {
    return succeeded(this.state);
  }

  /** Terminated and will not be restarted. */
  get finished(): boolean {
    return this.state.phase === 'terminated';
  }

  /** Before the first start: what the pod is waiting for (ContainerCreating, PodInitializing). */
  setWaitingReason(reason: string): void {
    if (this.state.phase === 'idle') this.state.waitingReason = reason;
  }

  begin(): void {
    if (this.state.phase !== 'idle') return;
    this.state.phase = 'starting';
    this.attempt();
  }

  /**
   * Takes back a program an earlier run of the node agent started, still running: the same
   * container, no restart. `was` is the status last reported for it (readiness stands until probed).
   */
  adopt(record: ContainerRecord, was: ContainerStatus | undefined): void {
    if (this.state.phase !== 'idle') return;
    this.state.phase = 'running';
    this.state.containerID = record.containerID;
    this.state.startedAt = record.startedAt;
    this.state.restartCount = record.restartCount;
    this.launches = record.restartCount + 1;
    this.state.lastTerminated = was?.lastState?.terminated;
    // Its shim still writes the run's log (container-shim.ts); attached sessions read it there.
    this.outputFile = runLogFile(join(this.deps.logDir, this.name), record.restartCount);
    const proc = adoptProcess(record, this.deps.adoptPollMs);
    this.proc = proc;
    void proc.exited.then((exit) => this.onExit(exit, record.startedAt));
    this.logger.info('container adopted', { containerID: record.containerID, pid: record.pid, restartCount: record.restartCount });
    const { pod, podIP, nodeName, hostIP } = this.deps;
    const env = resolveContainerEnv({ pod, container: this.container, podIP, hostIP, nodeName, services: this.deps.services(), lookup: this.deps.lookup });
    const target = { podIP, hostIP, container: this.container, env: env.ok ? env.env : new Map<string, string>(), baseEnv: this.deps.baseEnv };
    this.exportVolumes(target.env, (c) => this.deps.volumes?.adopt(c));
    this.env = target.env;
    this.probes?.containerStarted(target, Date.parse(record.startedAt), { started: was?.started ?? true, ready: was?.ready ?? true });
  }

  /** Carries on from the status an earlier run of the node agent reported, when nothing of it runs any more. */
  resume(from: ResumedContainer): void {
    if (this.state.phase !== 'idle' || from.kind === 'fresh') return;
    this.state.restartCount = from.restartCount;
    this.launches = 1;
    this.state.lastTerminated = from.lastTerminated;
    if (from.kind === 'done') {
      this.state.phase = 'terminated';
      this.state.terminated = from.terminated;
    }
  }

  status(): ContainerStatus {
    if (this.ephemeral) return ephemeralStatus(this.container, this.state);
    return containerStatus(this.container, this.isInit, this.state, this.probes);
  }

  /**
   * What `exec` into this container runs in: the pod's simulated shell for an emulated image,
   * a local process for a program; undefined while the container is not running.
   */
  execTarget(): { container: Container; env: ReadonlyMap<string, string>; kind: 'shell' | 'process'; baseEnv: Record<string, string> } | undefined {
    // A container runs from its start to its exit: during its postStart hook (not yet reported
    // running) and while it is being stopped (its preStop hook) too, so exec reaches it then.
    if (!this.proc || !this.env) return undefined;
    return { container: this.container, env: this.env, kind: this.execKind(this.env), baseEnv: this.deps.baseEnv };
  }

  /** Where exec runs for this container: a local process for a program, else the pod's simulated shell. */
  private execKind(env: ReadonlyMap<string, string>): 'shell' | 'process' {
    const { command, args } = expandCommand(this.container, env);
    return chooseEmulation(this.container.image, command, args).kind === 'process' ? 'process' : 'shell';
  }

  /** What `attach` connects to while the container runs (container-attach.ts). */
  attachTarget(): AttachTarget | undefined {
    if (this.state.phase !== 'running' || !this.proc) return undefined;
    return attachTarget(this.proc, this.container, this.outputFile ? { file: this.outputFile } : { fanout: this.output });
  }

  /** A program's volumes are files on disk: where, in its environment (and so in exec's). */
  private exportVolumes(env: Map<string, string>, place: (c: Container) => string | undefined): void {
    try {
      const dir = place(this.container);
      if (dir) env.set(VOLUMES_DIR_ENV, dir);
    } catch (err) {
      this.logger.warn('could not write the volume files for a program', { error: err as Error });
    }
  }

  /** For an emulated image: exec probes run in the pod's simulated shell (its files, not the host's). */
  private shellExec(env: ReadonlyMap<string, string>): ProbeTarget['exec'] {
    const sandbox = this.deps.sandbox;
    if (!sandbox || this.execKind(env) === 'process') return undefined;
    return (argv, timeoutMs) => runShellCommand(sandbox, this.container, env, argv, timeoutMs);
  }

  /** Pod deletion: SIGTERM, grace period, SIGKILL; nothing restarts afterwards. */
  async stop(graceMs: number): Promise<void> {
    const wasRunning = this.state.phase === 'running' || this.state.phase === 'starting';
    // A running container is reported running until it has exited, as the kubelet does: its
    // readiness stands meanwhile, so its endpoints stay serving (and terminating) through preStop.
    this.state.runningWhileStopped = this.state.phase === 'running';
    this.state.phase = 'stopped';
    clearTimeout(this.timer);
    if (wasRunning && this.proc) {
      this.emit('Normal', 'Killing', `Stopping container ${this.name}`);
      await this.kill(this.proc, graceMs);
      // onExit records the terminated state; wait for it to have run.
      await Promise.resolve();
    }
    // A launch in flight notices the stop and kills what it started.
    await this.launching;
    this.probes?.close();
    await this.log?.close();
  }

  private emit(type: EventType, reason: string, message: string): void {
    this.deps.emit(this.name, this.fieldPath, type, reason, message);
  }

  /** Resolve the environment; a missing reference waits in CreateContainerConfigError and retries. */
  private attempt(): void {
    if (this.state.phase === 'stopped') return;
    const { pod, podIP, nodeName, hostIP } = this.deps;
    const env = resolveContainerEnv({ pod, container: this.container, podIP, hostIP, nodeName, services: this.deps.services(), lookup: this.deps.lookup });
    if (!env.ok) {
      this.state.phase = 'configError';
      this.state.waitingReason = 'CreateContainerConfigError';
      this.state.waitingMessage = env.message;
      if (this.lastConfigError !== env.message) {
        this.emit('Normal', 'Pulled', `Container image "${this.container.image}" already present on machine`);
        this.emit('Warning', 'Failed', `Error: ${env.message}`);
        this.lastConfigError = env.message;
      }
      this.timer = setTimeout(() => this.attempt(), this.deps.retryMs);
      this.deps.changed();
      return;
    }
    this.lastConfigError = undefined;
    for (const w of env.warnings) this.emit('Warning', 'InvalidEnvironmentVariableNames', w);
    this.launching = this.launch(env.env).catch((err: unknown) => {
      this.logger.error('container failed to launch', { error: err as Error });
    });
  }

  private async launch(env: Map<string, string>): Promise<void> {
    this.env = env;
    this.state.phase = 'starting';
    this.state.waitingReason = 'ContainerCreating';
    this.state.waitingMessage = undefined;
    if (this.launches > 0) {
      this.state.restartCount++;
      this.deps.sandbox?.resetFilesystem(this.name);
    }
    this.launches++;
    this.state.containerID = `knet://${randomBytes(32).toString('hex')}`;
    // One log file per run, as the kubelet keeps them: <pod logs>/<container>/<restartCount>.log.
    const previousLog = this.log;
    this.log = openRunLog(join(this.deps.logDir, this.name), this.state.restartCount);
    void previousLog?.close();
    this.emit('Normal', 'Pulled', `Container image "${this.container.image}" already present on machine`);
    this.emit('Normal', 'Created', `Created container: ${this.name}`);
    const { command, args } = expandCommand(this.container, env);
    const isProgram = chooseEmulation(this.container.image, command, args).kind === 'process';
    this.outputFile = isProgram ? this.log.path : undefined;
    if (isProgram) this.exportVolumes(env, (c) => this.deps.volumes?.prepare(c));
    const ctx: ContainerContext = {
      pod: this.deps.pod,
      container: this.container,
      podIP: this.deps.podIP,
      nodeName: this.deps.nodeName,
      hostname: podHostname(this.deps.pod),
      env,
      command,
      args,
      log: teeLog(this.log, this.output),
      logger: this.logger,
      netpol: this.deps.netpol,
    };
    const startedAt = metaTime();
    const proc = await startImplementation(ctx, this.deps.sandbox, this.deps.baseEnv);
    if ((this.state.phase as SlotPhase) === 'stopped') {
      // The pod was deleted while the container was starting.
      proc.signal('SIGKILL');
      await proc.exited;
      return;
    }
    // A process that could not even be started never runs (StartError).
    if (proc.startError) return this.onExit(await proc.exited, startedAt);
    this.proc = proc;
    void proc.exited.then((exit) => this.onExit(exit, startedAt));
    this.record(proc, startedAt);
    this.state.terminated = undefined;
    this.emit('Normal', 'Started', `Started container ${this.name}`);
    // Without a hook nothing is awaited: an exit at once (a bind error) must find the container running.
    if (this.container.lifecycle?.postStart && !(await this.postStart(proc, env))) return;
    this.state.phase = 'running';
    this.state.startedAt = startedAt;
    this.logger.info('container started', { containerID: this.state.containerID, restartCount: this.state.restartCount });
    this.probes?.containerStarted({ podIP: this.deps.podIP, hostIP: this.deps.hostIP, container: this.container, env, baseEnv: this.deps.baseEnv, exec: this.shellExec(env) });
    this.deps.changed();
  }

  /** A program's main process, written down for the node agent's next run (removed in onExit). */
  private record(proc: ContainerProcess, startedAt: string): void {
    const { records, pod } = this.deps;
    if (!records || !proc.identity || !pod.metadata?.uid) return;
    try {
      records.write({ ...proc.identity, pod: `${pod.metadata.namespace}/${pod.metadata.name}`, podUID: pod.metadata.uid, container: this.name, containerID: this.state.containerID!, startedAt, restartCount: this.state.restartCount });
    } catch (err) {
      // Not fatal: the program runs; only a restarted agent could not take it back (the cluster's close still stops it).
      this.logger.warn('could not record the container process', { error: err as Error });
    }
  }

  private onExit(exit: ContainerExit, startedAt: string): void {
    const finishedAt = new Date();
    this.probes?.containerStopped();
    if (this.proc?.identity && this.deps.pod.metadata?.uid) this.deps.records?.remove(this.deps.pod.metadata.uid, this.name);
    this.proc = undefined;
    this.state.terminated = terminatedState(exit, startedAt, finishedAt, this.state.containerID);
    this.logger.info('container exited', { exitCode: exit.exitCode, signal: exit.signal, startError: exit.startError });
    if (exit.startError) this.emit('Warning', 'Failed', `Error: ${exit.startError}`);
    const killed = this.killedForRestart;
    this.killedForRestart = false;
    if (this.state.phase === 'stopped') return this.deps.changed();

    const policy = (this.deps.pod.spec?.restartPolicy ?? 'Always') as RestartPolicy;
    if (this.ephemeral || !restartsAfterExit(policy, { isInit: this.isInit, exitCode: exit.exitCode, killedByProbe: killed })) {
      this.state.phase = 'terminated';
      return this.deps.changed();
    }
    this.state.lastTerminated = this.state.terminated;
    // A liveness/startup kill restarts under the same back-off as a crash (the kubelet's
    // doBackOff looks only at the exited instance): a probe that keeps failing is CrashLoopBackOff.
    this.restartAfterCrash(finishedAt.getTime());
  }

  private restartAfterCrash(finishedAt: number): void {
    if (this.state.phase === 'stopped') return;
    const wait = backoffRemaining(this.backoffEntry, finishedAt, Date.now(), this.deps.backoff);
    if (wait > 0) {
      this.state.phase = 'backoff';
      this.state.waitingReason = 'CrashLoopBackOff';
      const texts = crashLoopBackOff(this.deps.pod, this.name, this.backoffEntry!.backoffMs);
      this.state.waitingMessage = texts.waitingMessage;
      this.emit('Warning', 'BackOff', texts.eventMessage);
      this.timer = setTimeout(() => this.restartAfterCrash(finishedAt), wait);
      this.deps.changed();
      return;
    }
    this.backoffEntry = nextBackoff(this.backoffEntry, finishedAt, Date.now(), this.deps.backoff);
    this.state.phase = 'starting';
    this.state.waitingReason = 'ContainerCreating';
    this.state.waitingMessage = undefined;
    this.attempt();
  }

  private killForProbe(kind: 'liveness' | 'startup', probe: Probe): void {
    if (this.state.phase !== 'running' || !this.proc) return;
    const policy = this.deps.pod.spec?.restartPolicy ?? 'Always';
    const restart = policy !== 'Never';
    this.emit('Normal', 'Killing', `Container ${this.name} failed ${kind} probe${restart ? ', will be restarted' : ''}`);
    this.killedForRestart = true;
    const graceS = probe.terminationGracePeriodSeconds ?? this.deps.pod.spec?.terminationGracePeriodSeconds ?? 30;
    void this.kill(this.proc, graceS * 1000);
  }

  /** After the Killing event: the preStop hook within the grace period, SIGTERM, SIGKILL (lifecycle-hooks.ts). */
  private kill(proc: ContainerProcess, graceMs: number): Promise<ContainerExit> {
    const onHookFailed = (message: string) => {
      this.logger.warn('preStop hook failed', { message });
      this.emit('Warning', 'FailedPreStopHook', 'PreStopHook failed');
    };
    const target = this.env && this.hookTarget(this.env);
    return killContainer({ proc, graceMs, clock: this.deps.clock, preStop: this.container.lifecycle?.preStop, target, onHookFailed });
  }

  /** What the container's hooks run against: its pod, addresses, and exec in it as `kubectl exec` does. */
  private hookTarget(env: ReadonlyMap<string, string>): HookTarget {
    const exec = hookExec({ container: this.container, env, kind: this.execKind(env), baseEnv: this.deps.baseEnv }, this.deps.sandbox);
    return { pod: this.deps.pod, container: this.container, podIP: this.deps.podIP, hostIP: this.deps.hostIP, exec, clock: this.deps.clock };
  }

  /**
   * The postStart hook, run before the container counts as running (the kubelet's startContainer
   * runs it before returning). False when this run is over: stopped or exited meanwhile, or
   * killed because the hook failed (restartPolicy then decides, as for any exit).
   */
  private async postStart(proc: ContainerProcess, env: ReadonlyMap<string, string>): Promise<boolean> {
    const hook = this.container.lifecycle?.postStart;
    if (!hook) return true;
    const failure = await runPostStart(hook, this.hookTarget(env), proc);
    if (this.proc !== proc || this.state.phase !== 'starting') return false;
    if (failure === undefined) return true;
    this.logger.warn('postStart hook failed', { message: failure });
    this.emit('Warning', 'FailedPostStartHook', 'PostStartHook failed');
    this.emit('Normal', 'Killing', 'FailedPostStartHook');
    void this.kill(proc, podGraceMs(this.deps.pod));
    return false;
  }
}
