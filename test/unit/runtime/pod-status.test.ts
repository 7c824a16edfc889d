import { describe, expect, it } from 'vitest';
import type { ContainerStatus } from 'kubernetes-types/core/v1.js';
import { podConditions, podPhase, type RestartPolicy } from '../../../dataplane/node/runtime/pod-status.js';

const running = (name = 'c', ready = true): ContainerStatus => ({ name, image: 'x', imageID: '', ready, restartCount: 0, state: { running: {} } });
const waiting = (name = 'c', reason = 'ContainerCreating', lastExit?: number): ContainerStatus => ({
  name, image: 'x', imageID: '', ready: false, restartCount: lastExit === undefined ? 0 : 1,
  state: { waiting: { reason } }, lastState: lastExit === undefined ? {} : { terminated: { exitCode: lastExit } },
});
const terminated = (name = 'c', exitCode = 0): ContainerStatus => ({ name, image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode } } });

describe('podPhase (kubelet getPhase)', () => {
  it.each<[string, RestartPolicy, ContainerStatus[], ContainerStatus[], string]>([
    ['creating', 'Always', [], [waiting()], 'Pending'],
    ['running', 'Always', [], [running()], 'Running'],
    ['one running, one creating', 'Always', [], [running('a'), waiting('b')], 'Pending'],
    ['crash-looping counts as stopped: Running under Always', 'Always', [], [waiting('c', 'CrashLoopBackOff', 1)], 'Running'],
    ['all exited 0 under Always is still Running (will restart)', 'Always', [], [terminated('c', 0)], 'Running'],
    ['all exited 0 under OnFailure', 'OnFailure', [], [terminated('c', 0)], 'Succeeded'],
    ['exited 1 under Never', 'Never', [], [terminated('c', 1)], 'Failed'],
    ['exited 1 under OnFailure is restarting', 'OnFailure', [], [terminated('c', 1)], 'Running'],
    ['mixed exit codes under Never', 'Never', [], [terminated('a', 0), terminated('b', 2)], 'Failed'],
    ['init running', 'Always', [running('init')], [waiting('c', 'PodInitializing')], 'Pending'],
    ['init failed under Never', 'Never', [terminated('init', 1)], [waiting('c', 'PodInitializing')], 'Failed'],
    ['init crash-looping under Always', 'Always', [waiting('init', 'CrashLoopBackOff', 1)], [waiting('c', 'PodInitializing')], 'Pending'],
    ['init done, app running', 'Always', [terminated('init', 0)], [running()], 'Running'],
  ])('%s → %s', (_n, policy, init, containers, want) => expect(podPhase(policy, init, containers)).toBe(want));

  it('a terminal (deleted) pod is Succeeded only when everything exited 0', () => {
    expect(podPhase('Always', [], [terminated('a', 0)], true)).toBe('Succeeded');
    expect(podPhase('Always', [], [terminated('a', 137)], true)).toBe('Failed');
  });
});

describe('podConditions', () => {
  const byType = (cs: ReturnType<typeof podConditions>) => Object.fromEntries(cs.map((c) => [c.type, c]));

  it("lists the conditions in the kubelet's order (kubectl describe shows Ready before ContainersReady)", () => {
    const types = podConditions({ phase: 'Running', sandboxReady: true, initStatuses: [], statuses: [running('a')] }).map((c) => c.type);
    expect(types).toEqual(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady']);
    const failed = podConditions({ phase: 'Failed', sandboxReady: false, initStatuses: [], statuses: [terminated('a', 1)] }).map((c) => c.type);
    expect(failed).toEqual(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady']);
  });

  it('ready pod', () => {
    const c = byType(podConditions({ phase: 'Running', sandboxReady: true, initStatuses: [], statuses: [running('a'), running('b')] }));
    expect(c.PodReadyToStartContainers?.status).toBe('True');
    expect(c.Initialized?.status).toBe('True');
    expect(c.ContainersReady?.status).toBe('True');
    expect(c.Ready?.status).toBe('True');
  });

  it('unready containers are named, in order', () => {
    const c = byType(podConditions({ phase: 'Running', sandboxReady: true, initStatuses: [], statuses: [running('a', false), running('b'), waiting('c')] }));
    expect(c.Ready).toEqual({ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [a c]' });
    expect(c.ContainersReady).toEqual({ type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [a c]' });
  });

  it('incomplete init containers', () => {
    const c = byType(podConditions({ phase: 'Pending', sandboxReady: true, initStatuses: [terminated('i1', 0), running('i2'), waiting('i3', 'PodInitializing')], statuses: [waiting('c', 'PodInitializing')] }));
    expect(c.Initialized).toEqual({ type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [i2 i3]' });
  });

  it('terminal phases', () => {
    const s = byType(podConditions({ phase: 'Succeeded', sandboxReady: true, initStatuses: [], statuses: [terminated()] }));
    expect([s.Initialized?.reason, s.Ready?.reason, s.ContainersReady?.reason]).toEqual(['PodCompleted', 'PodCompleted', 'PodCompleted']);
    const f = byType(podConditions({ phase: 'Failed', sandboxReady: true, initStatuses: [], statuses: [terminated('c', 1)] }));
    expect([f.Ready?.status, f.Ready?.reason]).toEqual(['False', 'PodFailed']);
  });

  it('sandbox not ready while volumes are missing', () => {
    expect(byType(podConditions({ phase: 'Pending', sandboxReady: false, initStatuses: [], statuses: [waiting()] })).PodReadyToStartContainers?.status).toBe('False');
  });
});
