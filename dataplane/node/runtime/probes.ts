/**
 * The kubelet's probe bookkeeping (k/k pkg/kubelet/prober/worker.go doProbe), as a pure state
 * machine the runner feeds with probe outcomes:
 *
 * - Initial results: readiness Failure (not ready until a probe passes), liveness Success,
 *   startup Unknown.
 * - No probing before initialDelaySeconds after the container started; while a startup probe has
 *   not passed only it runs; once it has, it stops and liveness/readiness run.
 * - Consecutive identical outcomes are counted (`resultRun`); the reported result flips only when
 *   the run reaches failureThreshold (for Failure) or successThreshold (for Success).
 * - A liveness or startup result of Failure means "restart the container": the worker goes on
 *   hold (no probing) until a new container instance appears, and the run resets to 0.
 * - A new container instance gets the initial result again and leaves hold; the run counter
 *   carries over, as in the kubelet.
 * - Probe errors that are not outcomes (e.g. a named port that does not exist) are discarded.
 */
import type { Probe } from 'kubernetes-types/core/v1.js';

export type ProbeKind = 'startup' | 'readiness' | 'liveness';
export type ProbeResult = 'Success' | 'Failure' | 'Unknown';

export interface ProbeSettings {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

/** API defaulting: period 10 s, timeout 1 s, success 1, failure 3 (liveness/startup success is always 1). */
export function probeSettings(probe: Probe, kind: ProbeKind): ProbeSettings {
  const pos = (v: number | undefined, d: number) => (v !== undefined && v > 0 ? v : d);
  return {
    initialDelaySeconds: Math.max(0, probe.initialDelaySeconds ?? 0),
    periodSeconds: pos(probe.periodSeconds, 10),
    timeoutSeconds: pos(probe.timeoutSeconds, 1),
    successThreshold: kind === 'readiness' ? pos(probe.successThreshold, 1) : 1,
    failureThreshold: pos(probe.failureThreshold, 3),
  };
}

export interface ProbeState {
  readonly kind: ProbeKind;
  /** The result the kubelet publishes (what ready/started/liveness decisions read). */
  readonly result: ProbeResult;
  readonly lastResult: ProbeResult;
  readonly resultRun: number;
  readonly onHold: boolean;
}

export function initialResult(kind: ProbeKind): ProbeResult {
  return kind === 'readiness' ? 'Failure' : kind === 'liveness' ? 'Success' : 'Unknown';
}

export function initialProbeState(kind: ProbeKind): ProbeState {
  return { kind, result: initialResult(kind), lastResult: 'Unknown', resultRun: 0, onHold: false };
}

/** A new container instance: initial result, probing resumes. */
export function newContainerInstance(state: ProbeState): ProbeState {
  return { ...state, result: initialResult(state.kind), onHold: false };
}

/**
 * A running container taken back by a restarted node agent: what was published before stands
 * until the next probe says otherwise. (The kubelet starts readiness at Failure again here, and
 * a ready pod flaps NotReady and out of its Services until probed — a bug upstream too,
 * kubernetes#100277 and #125397.)
 */
export function resumedProbeState(state: ProbeState, was: { started: boolean; ready: boolean }): ProbeState {
  if ((state.kind === 'readiness' && was.ready) || (state.kind === 'startup' && was.started)) return { ...state, result: 'Success' };
  return state;
}

/** The container stopped running: readiness reports Failure (the kubelet sets it for every worker). */
export function containerNotRunning(state: ProbeState): ProbeState {
  return state.kind === 'readiness' ? { ...state, result: 'Failure' } : state;
}

export interface ProbeGate {
  /** Seconds since the container instance started running. */
  secondsSinceStart: number;
  /** Whether the container counts as started (its startup probe passed, or it has none). */
  started: boolean;
}

/** Whether a probe should run at this tick. */
export function shouldProbe(state: ProbeState, settings: ProbeSettings, gate: ProbeGate): boolean {
  if (state.onHold) return false;
  // The kubelet truncates elapsed time to whole seconds before comparing.
  if (Math.floor(gate.secondsSinceStart) < settings.initialDelaySeconds) return false;
  if (state.kind === 'startup') return !gate.started;
  return gate.started;
}

export interface ProbeStep {
  state: ProbeState;
  /** The published result changed. */
  changed: boolean;
  /** Liveness/startup failed past the threshold: kill and (policy permitting) restart. */
  restart: boolean;
}

/** Feeds one probe outcome; 'Unknown' (a probe error) is thrown away as the kubelet does. */
export function recordOutcome(state: ProbeState, outcome: ProbeResult, settings: ProbeSettings): ProbeStep {
  if (outcome === 'Unknown' || state.onHold) return { state, changed: false, restart: false };
  const resultRun = state.lastResult === outcome ? state.resultRun + 1 : 1;
  let next: ProbeState = { ...state, lastResult: outcome, resultRun };
  const below =
    (outcome === 'Failure' && resultRun < settings.failureThreshold) ||
    (outcome === 'Success' && resultRun < settings.successThreshold);
  if (below) return { state: next, changed: false, restart: false };
  const changed = next.result !== outcome;
  next = { ...next, result: outcome };
  if (outcome === 'Failure' && (state.kind === 'liveness' || state.kind === 'startup')) {
    next = { ...next, onHold: true, resultRun: 0 };
    return { state: next, changed, restart: true };
  }
  return { state: next, changed, restart: false };
}

/** The kubelet's event text prefix: "Readiness probe failed: …". */
export function probeLabel(kind: ProbeKind): string {
  return kind === 'readiness' ? 'Readiness' : kind === 'liveness' ? 'Liveness' : 'Startup';
}
