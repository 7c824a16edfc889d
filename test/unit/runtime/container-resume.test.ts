import { describe, expect, it } from 'vitest';
import type { ContainerStatus } from 'kubernetes-types/core/v1.js';
import { LOST_CONTAINER_MESSAGE, resumeContainer } from '../../../dataplane/node/runtime/container-resume.js';
import { resumedProbeState, initialProbeState } from '../../../dataplane/node/runtime/probes.js';

const now = '2024-05-01T10:00:00Z';
const t = (exitCode: number) => ({ exitCode, reason: exitCode ? 'Error' : 'Completed', startedAt: '2024-05-01T09:00:00Z', finishedAt: '2024-05-01T09:30:00Z' });
const base = { name: 'c', image: 'x', imageID: '', ready: false };
const running: ContainerStatus = { ...base, restartCount: 4, containerID: 'knet://1', state: { running: { startedAt: '2024-05-01T09:00:00Z' } }, lastState: {} };
const lost = { exitCode: 137, reason: 'ContainerStatusUnknown', message: LOST_CONTAINER_MESSAGE, startedAt: '2024-05-01T09:00:00Z', finishedAt: now, containerID: 'knet://1' };

describe('resumeContainer', () => {
  it.each<[string, ContainerStatus | undefined, boolean, 'Always' | 'OnFailure' | 'Never', unknown]>([
    ['no status: fresh', undefined, false, 'Always', { kind: 'fresh' }],
    ['waiting, never ran: fresh', { ...base, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }, false, 'Always', { kind: 'fresh' }],
    ['running, lost with the agent: restart, counting on', running, false, 'Always', { kind: 'restart', restartCount: 4, lastTerminated: lost }],
    ['running, lost, restartPolicy Never: stays terminated as lost', running, false, 'Never', { kind: 'done', restartCount: 4, terminated: lost }],
    ['in CrashLoopBackOff: the pending restart', { ...base, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: t(1) } }, false, 'Always', { kind: 'restart', restartCount: 3, lastTerminated: t(1) }],
    ['exited 0 under OnFailure: done', { ...base, restartCount: 1, state: { terminated: t(0) }, lastState: { terminated: t(2) } }, false, 'OnFailure', { kind: 'done', restartCount: 1, terminated: t(0), lastTerminated: t(2) }],
    ['exited 1 under OnFailure: restart', { ...base, restartCount: 1, state: { terminated: t(1) } }, false, 'OnFailure', { kind: 'restart', restartCount: 1, lastTerminated: t(1) }],
    ['init container completed: done, not run again', { ...base, restartCount: 0, state: { terminated: t(0) } }, true, 'Always', { kind: 'done', restartCount: 0, terminated: t(0) }],
    ['init container failed: run again', { ...base, restartCount: 0, state: { terminated: t(1) } }, true, 'Always', { kind: 'restart', restartCount: 0, lastTerminated: t(1) }],
    ['init container failed under Never: done', { ...base, restartCount: 0, state: { terminated: t(1) } }, true, 'Never', { kind: 'done', restartCount: 0, terminated: t(1) }],
  ])('%s', (_what, prior, isInit, restartPolicy, want) => {
    expect(resumeContainer(prior, { isInit, restartPolicy, now })).toEqual(want);
  });
});

describe('resumedProbeState', () => {
  it('keeps what was published (ready, started) until the next probe; never invents readiness', () => {
    expect(resumedProbeState(initialProbeState('readiness'), { started: true, ready: true }).result).toBe('Success');
    expect(resumedProbeState(initialProbeState('readiness'), { started: true, ready: false }).result).toBe('Failure');
    expect(resumedProbeState(initialProbeState('startup'), { started: true, ready: false }).result).toBe('Success');
    expect(resumedProbeState(initialProbeState('startup'), { started: false, ready: false }).result).toBe('Unknown');
    expect(resumedProbeState(initialProbeState('liveness'), { started: true, ready: true }).result).toBe('Success');
  });
});
