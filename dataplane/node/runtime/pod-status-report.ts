/**
 * A pod's runtime status as its runner reports it: computed from its containers on every change
 * (phase and conditions: pod-status.ts), each condition's lastTransitionTime kept until its
 * status flips, and delivered coalesced — many changes in one turn of the event loop make one
 * onStatus call, which carries the events since the previous one.
 */
import type { ContainerStatus, PodCondition } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../base/log.js';
import { metaTime } from '../../base/model/meta-time.js';
import type { PodContainers } from './pod-containers.js';
import type { PodEvents, RuntimeEvent } from './pod-events.js';
import { podConditions, podPhase, type PodPhase, type RestartPolicy } from './pod-status.js';

export interface PodRuntimeStatus {
  phase: PodPhase;
  /** PodReadyToStartContainers, Initialized, ContainersReady, Ready (PodScheduled is the integrator's). */
  conditions: PodCondition[];
  containerStatuses: ContainerStatus[];
  initContainerStatuses: ContainerStatus[];
  /** Ephemeral containers (`kubectl debug`): reported, but no part of the phase or readiness. */
  ephemeralContainerStatuses: ContainerStatus[];
  /** Events since the previous onStatus call (each delivered once); empty from status(). */
  events: RuntimeEvent[];
}

export class PodStatusReport {
  private readonly lastConditions = new Map<string, { status: string; time: string }>();
  private queued: NodeJS.Immediate | undefined;
  /** The final status was delivered: nothing more is. */
  private done = false;

  constructor(
    private readonly containers: PodContainers,
    private readonly events: PodEvents,
    private readonly restartPolicy: RestartPolicy,
    private readonly onStatus: (status: PodRuntimeStatus) => void,
    private readonly logger: Logger,
  ) {}

  /** The status now (terminal once the pod has stopped), without events. */
  snapshot(terminal = this.done): PodRuntimeStatus {
    const initStatuses = this.containers.init.map((s) => s.status());
    const statuses = this.containers.main.map((s) => s.status());
    const phase = podPhase(this.restartPolicy, initStatuses, statuses, terminal);
    const now = metaTime();
    const conditions = podConditions({ phase, sandboxReady: this.containers.sandboxReady, initStatuses, statuses }).map((c) => ({ ...c, lastTransitionTime: this.transition(c, now) }));
    const ephemeralStatuses = this.containers.ephemeral.map((s) => s.status());
    return { phase, conditions, containerStatuses: statuses, initContainerStatuses: initStatuses, ephemeralContainerStatuses: ephemeralStatuses, events: [] };
  }

  /** Something changed: deliver once the current turn of the event loop is over. */
  queue(): void {
    if (this.done || this.queued) return;
    this.queued = setImmediate(() => {
      this.queued = undefined;
      if (!this.done) this.deliver();
    });
  }

  /** The pod has stopped: its terminal status goes out now, and nothing after it. */
  deliverFinal(): void {
    clearImmediate(this.queued);
    this.queued = undefined;
    this.deliver(true);
    this.done = true;
  }

  private deliver(terminal = false): void {
    const status = this.snapshot(terminal);
    status.events = this.events.takePending();
    try {
      this.onStatus(status);
    } catch (err) {
      this.logger.error('onStatus threw', { error: err as Error });
    }
  }

  private transition(c: PodCondition, now: string): string {
    const was = this.lastConditions.get(c.type);
    if (was && was.status === c.status) return was.time;
    this.lastConditions.set(c.type, { status: c.status, time: now });
    return now;
  }
}
