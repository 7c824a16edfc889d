/**
 * The timer shell around the probe state machine (probes.ts) for one container: one worker per
 * probe kind, ticking every periodSeconds from each container instance's start (first tick at
 * initialDelaySeconds), performing the probe (probe-check.ts) and feeding the outcome in.
 * Outcomes that arrive after the instance changed are dropped. Readiness is also probed at once
 * when the startup probe passes, as the kubelet's status sync triggers it.
 *
 * Simplification, documented: ticks are aligned to each container start, where the kubelet's
 * workers tick from when the pod was added to the prober (with jitter).
 */
import type { Container } from 'kubernetes-types/core/v1.js';
import { runProbe, type ProbeTarget } from './probe-check.js';
import {
  containerNotRunning,
  initialProbeState,
  newContainerInstance,
  probeLabel,
  probeSettings,
  recordOutcome,
  resumedProbeState,
  shouldProbe,
  type ProbeKind,
  type ProbeSettings,
  type ProbeState,
} from './probes.js';
import type { Probe } from 'kubernetes-types/core/v1.js';

export interface ProbeRunnerHooks {
  /** A published result changed (ready/started may have changed). */
  onChange(kind: ProbeKind): void;
  /** Liveness or startup failed past its threshold: the container must be killed. */
  onRestart(kind: 'liveness' | 'startup', probe: Probe): void;
  onEvent(type: 'Normal' | 'Warning', reason: string, message: string): void;
}

interface Worker {
  kind: ProbeKind;
  probe: Probe;
  settings: ProbeSettings;
  state: ProbeState;
  timer?: NodeJS.Timeout;
  busy: boolean;
}

export class ContainerProbes {
  private readonly workers: Worker[] = [];
  private instance = 0;
  private startedAt = 0;
  private running = false;
  private target: ProbeTarget | undefined;

  constructor(
    container: Container,
    private readonly hooks: ProbeRunnerHooks,
    /** Milliseconds per probe "second" (1000 in production; tests shrink it). */
    private readonly secondMs = 1000,
  ) {
    const add = (kind: ProbeKind, probe: Probe | undefined) => {
      if (probe) this.workers.push({ kind, probe, settings: probeSettings(probe, kind), state: initialProbeState(kind), busy: false });
    };
    add('startup', container.startupProbe);
    add('liveness', container.livenessProbe);
    add('readiness', container.readinessProbe);
  }

  /** Whether the container counts as started: no startup probe, or it has passed. */
  started(): boolean {
    if (!this.running) return false;
    const s = this.worker('startup');
    return !s || s.state.result === 'Success';
  }

  /** Container readiness: started, and the readiness probe (if any) passing. */
  ready(): boolean {
    if (!this.started()) return false;
    const r = this.worker('readiness');
    return !r || r.state.result === 'Success';
  }

  /**
   * A new container instance began running (at `startedAtMs`: earlier for one a restarted node
   * agent took back, whose published results are `resumed`).
   */
  containerStarted(target: ProbeTarget, startedAtMs = Date.now(), resumed?: { started: boolean; ready: boolean }): void {
    this.clearTimers();
    this.instance++;
    this.running = true;
    this.startedAt = startedAtMs;
    this.target = target;
    for (const w of this.workers) {
      w.state = newContainerInstance(w.state);
      if (resumed) w.state = resumedProbeState(w.state, resumed);
      this.schedule(w, startedAtMs + w.settings.initialDelaySeconds * this.secondMs - Date.now());
    }
  }

  /** The container instance is gone (exited or killed). */
  containerStopped(): void {
    this.clearTimers();
    this.instance++;
    this.running = false;
    for (const w of this.workers) w.state = containerNotRunning(w.state);
  }

  close(): void {
    this.containerStopped();
  }

  private worker(kind: ProbeKind): Worker | undefined {
    return this.workers.find((w) => w.kind === kind);
  }

  private clearTimers(): void {
    for (const w of this.workers) {
      clearTimeout(w.timer);
      w.timer = undefined;
    }
  }

  private schedule(w: Worker, delayMs: number): void {
    clearTimeout(w.timer);
    const instance = this.instance;
    w.timer = setTimeout(() => void this.tick(w, instance), Math.max(0, delayMs));
  }

  private async tick(w: Worker, instance: number): Promise<void> {
    if (instance !== this.instance || !this.running) return;
    const periodMs = w.settings.periodSeconds * this.secondMs;
    const tickStart = Date.now();
    if (w.busy) return this.schedule(w, periodMs);
    const gate = { secondsSinceStart: (Date.now() - this.startedAt) / this.secondMs, started: this.started() };
    if (shouldProbe(w.state, w.settings, gate) && this.target) {
      w.busy = true;
      const outcome = await runProbe(w.probe, this.target, w.settings.timeoutSeconds * this.secondMs);
      w.busy = false;
      if (instance !== this.instance || !this.running) return;
      this.apply(w, outcome.result, outcome.output);
      if (instance !== this.instance || !this.running) return;
    }
    this.schedule(w, Math.max(0, tickStart + periodMs - Date.now()));
  }

  private apply(w: Worker, result: 'Success' | 'Failure' | 'Unknown', output: string): void {
    const label = probeLabel(w.kind);
    if (result === 'Failure') this.hooks.onEvent('Warning', 'Unhealthy', `${label} probe failed: ${output}`);
    if (result === 'Unknown') this.hooks.onEvent('Warning', 'Unhealthy', `${label} probe errored and resulted in unknown state: ${output}`);
    const step = recordOutcome(w.state, result, w.settings);
    w.state = step.state;
    if (step.restart) {
      this.hooks.onRestart(w.kind as 'liveness' | 'startup', w.probe);
      return;
    }
    if (!step.changed) return;
    this.hooks.onChange(w.kind);
    // Startup just passed: liveness and readiness take over; probe readiness right away.
    if (w.kind === 'startup' && step.state.result === 'Success') {
      const r = this.worker('readiness');
      if (r) this.schedule(r, 0);
    }
  }
}
