import { describe, expect, it } from 'vitest';
import {
  containerNotRunning,
  initialProbeState,
  newContainerInstance,
  probeSettings,
  recordOutcome,
  shouldProbe,
  type ProbeKind,
  type ProbeResult,
  type ProbeSettings,
  type ProbeState,
} from '../../../dataplane/node/runtime/probes.js';

function run(kind: ProbeKind, settings: Partial<ProbeSettings>, outcomes: ProbeResult[]) {
  const s = { ...probeSettings({}, kind), ...settings };
  let state: ProbeState = initialProbeState(kind);
  const published: ProbeResult[] = [];
  const restarts: number[] = [];
  outcomes.forEach((o, i) => {
    const step = recordOutcome(state, o, s);
    state = step.state;
    published.push(state.result);
    if (step.restart) restarts.push(i);
  });
  return { state, published, restarts };
}

describe('probeSettings defaults', () => {
  it('period 10, timeout 1, success 1, failure 3, delay 0', () => {
    expect(probeSettings({}, 'readiness')).toEqual({ initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
  });
  it('liveness and startup success threshold is forced to 1', () => {
    expect(probeSettings({ successThreshold: 3 }, 'liveness').successThreshold).toBe(1);
    expect(probeSettings({ successThreshold: 3 }, 'startup').successThreshold).toBe(1);
    expect(probeSettings({ successThreshold: 3 }, 'readiness').successThreshold).toBe(3);
  });
  it('zero values take the defaults', () => {
    expect(probeSettings({ periodSeconds: 0, timeoutSeconds: 0, failureThreshold: 0 }, 'liveness')).toMatchObject({ periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 });
  });
});

describe('initial results', () => {
  it.each([
    ['readiness', 'Failure'],
    ['liveness', 'Success'],
    ['startup', 'Unknown'],
  ] as const)('%s starts as %s', (kind, result) => expect(initialProbeState(kind).result).toBe(result));
});

describe('threshold counting (table)', () => {
  const S = 'Success', F = 'Failure';
  it.each<[string, ProbeKind, Partial<ProbeSettings>, ProbeResult[], ProbeResult[], number[]]>([
    ['readiness becomes ready on first success', 'readiness', {}, [S], [S], []],
    ['readiness needs successThreshold consecutive successes', 'readiness', { successThreshold: 3 }, [S, S, F, S, S, S], [F, F, F, F, F, S], []],
    ['readiness flips to not ready only after failureThreshold failures', 'readiness', { failureThreshold: 3 }, [S, F, F, F], [S, S, S, F], []],
    ['a success in between resets the failure run', 'readiness', { failureThreshold: 2 }, [S, F, S, F, S], [S, S, S, S, S], []],
    ['readiness recovers after one success (threshold 1)', 'readiness', { failureThreshold: 1 }, [S, F, S], [S, F, S], []],
    ['liveness restarts at failureThreshold', 'liveness', { failureThreshold: 3 }, [F, F, F], [S, S, F], [2]],
    ['liveness on hold ignores further outcomes', 'liveness', { failureThreshold: 1 }, [F, F, S], [F, F, F], [0]],
    ['startup failure past threshold restarts', 'startup', { failureThreshold: 2 }, [F, F], ['Unknown', F], [1]],
    ['startup success publishes Success', 'startup', {}, [F, S], ['Unknown', S], []],
    ['Unknown outcomes (probe errors) are thrown away', 'readiness', { failureThreshold: 2 }, [S, F, 'Unknown', F], [S, S, S, F], []],
  ])('%s', (_name, kind, settings, outcomes, published, restarts) => {
    const r = run(kind, settings, outcomes);
    expect(r.published).toEqual(published);
    expect(r.restarts).toEqual(restarts);
  });
});

describe('container instances', () => {
  it('a new instance resets the result and leaves hold; the run counter carries over', () => {
    const s = probeSettings({ failureThreshold: 2 }, 'liveness');
    let st = initialProbeState('liveness');
    st = recordOutcome(st, 'Failure', s).state;
    const step = recordOutcome(st, 'Failure', s);
    expect(step.restart).toBe(true);
    expect(step.state.onHold).toBe(true);
    expect(step.state.resultRun).toBe(0);
    st = newContainerInstance(step.state);
    expect(st).toMatchObject({ result: 'Success', onHold: false });
    // Counting starts again from the reset run: one failure is not enough.
    const again = recordOutcome(st, 'Failure', s);
    expect(again.restart).toBe(false);
    expect(recordOutcome(again.state, 'Failure', s).restart).toBe(true);
  });

  it('readiness goes Failure when the container stops running', () => {
    const s = probeSettings({}, 'readiness');
    const st = recordOutcome(initialProbeState('readiness'), 'Success', s).state;
    expect(containerNotRunning(st).result).toBe('Failure');
    expect(containerNotRunning(initialProbeState('liveness')).result).toBe('Success');
  });
});

describe('shouldProbe gating', () => {
  const s = probeSettings({ initialDelaySeconds: 5 }, 'liveness');
  it.each<[ProbeKind, number, boolean, boolean]>([
    ['liveness', 4.9, true, false],
    ['liveness', 5.0, true, true],
    ['liveness', 10, false, false],
    ['readiness', 10, false, false],
    ['readiness', 10, true, true],
    ['startup', 10, false, true],
    ['startup', 10, true, false],
  ])('%s at %ss, started=%s → %s', (kind, secs, started, want) => {
    expect(shouldProbe(initialProbeState(kind), { ...s }, { secondsSinceStart: secs, started })).toBe(want);
  });
  it('on hold never probes', () => {
    expect(shouldProbe({ ...initialProbeState('liveness'), onHold: true }, s, { secondsSinceStart: 100, started: true })).toBe(false);
  });
});
