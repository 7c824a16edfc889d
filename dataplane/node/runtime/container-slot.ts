/**
 * One container of a pod through its lifecycle, as the kubelet drives it: resolve its
 * environment (waiting in CreateContainerConfigError while a referenced Secret/ConfigMap is
 * missing), start the right implementation (Pulled/Created/Started), probe it, and when it exits
 * decide by restartPolicy whether to start it again now, after the crash back-off
 * (CrashLoopBackOff), or never. Liveness/startup failures kill it ("will be restarted").
 * The pod runner decides when a slot may begin (volumes present, init containers done).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Container, ContainerState, ContainerStateTerminated, ContainerStatus, Pod, Probe, Service } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../log.js';
import { startLiveness, startPause, startServeHostname } from './agnhost-commands.js';
import { startNetexec } from './agnhost-netexec.js';
import { expandCommand, podHostname, resolveContainerEnv, type ObjectLookup } from './container-env.js';
import { openContainerLog, type ContainerLog } from './container-log.js';
import { stopContainer, type ContainerContext, type ContainerExit, type ContainerProcess } from './container-process.js';
import { startEchoserverContainer } from './echoserver-container.js';
import { startIdentityResponder } from './identity-responder.js';
import { chooseEmulation } from './image-selection.js';
import { ContainerProbes } from './probe-runner.js';
import { startProcessContainer } from './process-container.js';
import { backoffRemaining, goDuration, nextBackoff, type BackoffEntry, type BackoffPolicy } from './restart-backoff.js';
import type { RestartPolicy } from './pod-status.js';

export type EventType = 'Normal' | 'Warning';

export interface SlotDeps {
  pod: Pod;
  podIP: string;
  nodeName: string;
  hostIP: string;
  logDir: string;
  services: () => Service[];
  lookup: ObjectLookup;
  logger: Logger;
  backoff: BackoffPolicy;
  secondMs: number;
  retryMs: number;
  baseEnv: Record<string, string>;
  emit(container: string, fieldPath: string, type: EventType, reason: string, message: string): void;
  /** Something about this slot changed: re-sync the pod and publish status. */
  changed(): void;
}

type Phase = 'idle' | 'configError' | 'starting' | 'running' | 'backoff' | 'terminated' | 'stopped';

export class ContainerSlot {
  private phase: Phase = 'idle';
  private waitingReason: string;
  private waitingMessage: string | undefined;
  private restartCount = 0;
  private launches = 0;
  private containerID: string | undefined;
  private startedAt: string | undefined;
  private terminated: ContainerStateTerminated | undefined;
  private lastTerminated: ContainerStateTerminated | undefined;
  private proc: ContainerProcess | undefined;
  private log: ContainerLog | undefined;
  private timer: NodeJS.Timeout | undefined;
  private backoffEntry: BackoffEntry | undefined;
  private killedForRestart = false;
  private launching: Promise<void> | undefined;
  private lastConfigError: string | undefined;
  private readonly probes: ContainerProbes | undefined;
  private readonly fieldPath: string;
  private readonly logger: Logger;

  constructor(
    readonly container: Container,
    readonly isInit: boolean,
    private readonly deps: SlotDeps,
    initialWaitingReason: string,
  ) {
    this.waitingReason = initialWaitingReason;
    this.fieldPath = `spec.${isInit ? 'initContainers' : 'containers'}{${container.name}}`;
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
    return this.phase === 'idle';
  }

  /** An init container that ran to completion. */
  get succeeded(): boolean {
    return this.phase === 'terminated' && this.terminated?.exitCode === 0;
  }

  /** Terminated and will not be restarted. */
  get finished(): boolean {
    return this.phase === 'terminated';
  }

  /** Before the first start: what the pod is waiting for (ContainerCreating, PodInitializing). */
  setWaitingReason(reason: string): void {
    if (this.phase === 'idle') this.waitingReason = reason;
  }

  begin(): void {
    if (this.phase !== 'idle') return;
    this.phase = 'starting';
    this.attempt();
  }

  status(): ContainerStatus {
    const running = this.phase === 'running';
    let state: ContainerState;
    if (running) state = { running: { startedAt: this.startedAt } };
    else if ((this.phase === 'terminated' || this.phase === 'stopped') && this.terminated) state = { terminated: this.terminated };
    else state = { waiting: { reason: this.waitingReason, ...(this.waitingMessage ? { message: this.waitingMessage } : {}) } };
    const ready = this.isInit ? this.succeeded : running && (this.probes ? this.probes.ready() : true);
    const started = running && (this.probes ? this.probes.started() : true);
    return {
      name: this.container.name,
      image: this.container.image ?? '',
      imageID: normalizeImage(this.container.image ?? ''),
      ...(this.containerID ? { containerID: this.containerID } : {}),
      ready,
      started,
      restartCount: this.restartCount,
      state,
      lastState: this.lastTerminated ? { terminated: this.lastTerminated } : {},
    };
  }

  /** Pod deletion: SIGTERM, grace period, SIGKILL; nothing restarts afterwards. */
  async stop(graceMs: number): Promise<void> {
    const wasRunning = this.phase === 'running' || this.phase === 'starting';
    this.phase = 'stopped';
    clearTimeout(this.timer);
    if (wasRunning && this.proc) {
      this.emit('Normal', 'Killing', `Stopping container ${this.name}`);
      await stopContainer(this.proc, graceMs);
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
    if (this.phase === 'stopped') return;
    const { pod, podIP, nodeName, hostIP } = this.deps;
    const env = resolveContainerEnv({ pod, container: this.container, podIP, hostIP, nodeName, services: this.deps.services(), lookup: this.deps.lookup });
    if (!env.ok) {
      this.phase = 'configError';
      this.waitingReason = 'CreateContainerConfigError';
      this.waitingMessage = env.message;
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
    this.phase = 'starting';
    this.waitingReason = 'ContainerCreating';
    this.waitingMessage = undefined;
    if (this.launches > 0) this.restartCount++;
    this.launches++;
    this.containerID = `knet://${randomBytes(32).toString('hex')}`;
    this.log ??= openContainerLog(join(this.deps.logDir, `${this.name}.log`));
    this.emit('Normal', 'Pulled', `Container image "${this.container.image}" already present on machine`);
    this.emit('Normal', 'Created', `Created container: ${this.name}`);
    const { command, args } = expandCommand(this.container, env);
    const ctx: ContainerContext = {
      pod: this.deps.pod,
      container: this.container,
      podIP: this.deps.podIP,
      nodeName: this.deps.nodeName,
      hostname: podHostname(this.deps.pod),
      env,
      command,
      args,
      log: this.log,
      logger: this.logger,
    };
    const startedAt = new Date().toISOString();
    const proc = await this.startImplementation(ctx);
    if ((this.phase as Phase) === 'stopped') {
      // The pod was deleted while the container was starting.
      proc.signal('SIGKILL');
      await proc.exited;
      return;
    }
    // A process that could not even be started never runs (StartError).
    if (proc.startError) return this.onExit(await proc.exited, startedAt);
    this.proc = proc;
    void proc.exited.then((exit) => this.onExit(exit, startedAt));
    this.phase = 'running';
    this.startedAt = startedAt;
    this.terminated = undefined;
    this.emit('Normal', 'Started', `Started container ${this.name}`);
    this.logger.info('container started', { containerID: this.containerID, restartCount: this.restartCount });
    this.probes?.containerStarted({ podIP: this.deps.podIP, hostIP: this.deps.hostIP, container: this.container, env, baseEnv: this.deps.baseEnv });
    this.deps.changed();
  }

  private startImplementation(ctx: ContainerContext): Promise<ContainerProcess> {
    const choice = chooseEmulation(this.container.image, ctx.command, ctx.args);
    switch (choice.kind) {
      case 'agnhost': {
        const start = { netexec: startNetexec, 'serve-hostname': startServeHostname, pause: startPause, liveness: startLiveness }[choice.command];
        return start(ctx, choice.flags);
      }
      case 'echoserver':
        return startEchoserverContainer(ctx);
      case 'process':
        return startProcessContainer(ctx, this.deps.baseEnv);
      case 'identity':
        if (choice.note) ctx.log.write(choice.note + '\n');
        return startIdentityResponder(ctx);
    }
  }

  private onExit(exit: ContainerExit, startedAt: string): void {
    const finishedAt = new Date();
    this.probes?.containerStopped();
    this.proc = undefined;
    this.terminated = {
      exitCode: exit.exitCode,
      reason: exit.startError ? 'StartError' : exit.exitCode === 0 ? 'Completed' : 'Error',
      ...(exit.signal ? { signal: exit.signal } : {}),
      ...(exit.startError ? { message: exit.startError } : {}),
      startedAt: exit.startError ? '1970-01-01T00:00:00Z' : startedAt,
      finishedAt: finishedAt.toISOString(),
      containerID: this.containerID,
    };
    this.logger.info('container exited', { exitCode: exit.exitCode, signal: exit.signal, startError: exit.startError });
    if (exit.startError) this.emit('Warning', 'Failed', `Error: ${exit.startError}`);
    const killed = this.killedForRestart;
    this.killedForRestart = false;
    if (this.phase === 'stopped') return this.deps.changed();

    const policy = (this.deps.pod.spec?.restartPolicy ?? 'Always') as RestartPolicy;
    let restart: boolean;
    if (killed) restart = policy !== 'Never';
    else if (this.isInit) restart = exit.exitCode !== 0 && policy !== 'Never';
    else restart = policy === 'Always' || (policy === 'OnFailure' && exit.exitCode !== 0);
    if (!restart) {
      this.phase = 'terminated';
      return this.deps.changed();
    }
    this.lastTerminated = this.terminated;
    if (killed) {
      // A liveness/startup kill restarts in the same sync, without back-off.
      this.phase = 'starting';
      this.waitingReason = 'ContainerCreating';
      this.deps.changed();
      return this.attempt();
    }
    this.restartAfterCrash(finishedAt.getTime());
  }

  private restartAfterCrash(finishedAt: number): void {
    if (this.phase === 'stopped') return;
    const wait = backoffRemaining(this.backoffEntry, finishedAt, Date.now(), this.deps.backoff);
    if (wait > 0) {
      this.phase = 'backoff';
      this.waitingReason = 'CrashLoopBackOff';
      const p = this.deps.pod.metadata;
      this.waitingMessage = `back-off ${goDuration(this.backoffEntry!.backoffMs)} restarting failed container=${this.name} pod=${p?.name}_${p?.namespace}(${p?.uid ?? ''})`;
      this.emit('Warning', 'BackOff', `Back-off restarting failed container ${this.name} in pod ${p?.name}_${p?.namespace}(${p?.uid ?? ''})`);
      this.timer = setTimeout(() => this.restartAfterCrash(finishedAt), wait);
      this.deps.changed();
      return;
    }
    this.backoffEntry = nextBackoff(this.backoffEntry, finishedAt, Date.now(), this.deps.backoff);
    this.phase = 'starting';
    this.waitingReason = 'ContainerCreating';
    this.waitingMessage = undefined;
    this.attempt();
  }

  private killForProbe(kind: 'liveness' | 'startup', probe: Probe): void {
    if (this.phase !== 'running' || !this.proc) return;
    const policy = this.deps.pod.spec?.restartPolicy ?? 'Always';
    const restart = policy !== 'Never';
    this.emit('Normal', 'Killing', `Container ${this.name} failed ${kind} probe${restart ? ', will be restarted' : ''}`);
    this.killedForRestart = true;
    const graceS = probe.terminationGracePeriodSeconds ?? this.deps.pod.spec?.terminationGracePeriodSeconds ?? 30;
    void stopContainer(this.proc, graceS * 1000);
  }
}

/** What containerd reports as the image reference: "nginx" → "docker.io/library/nginx:latest". */
export function normalizeImage(image: string): string {
  if (!image) return '';
  let ref = image;
  const firstSlash = ref.indexOf('/');
  const first = firstSlash >= 0 ? ref.slice(0, firstSlash) : '';
  const hasRegistry = firstSlash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) ref = `docker.io/${firstSlash >= 0 ? ref : `library/${ref}`}`;
  const lastPart = ref.slice(ref.lastIndexOf('/') + 1);
  if (!lastPart.includes(':') && !lastPart.includes('@')) ref += ':latest';
  return ref;
}
