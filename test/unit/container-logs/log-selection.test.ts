/**
 * Which container and which run a log request reads: kubectl's defaulting, the apiserver's
 * check, the kubelet's choice from the container's status, with their error texts.
 */
import { describe, expect, it } from 'vitest';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { defaultLogContainer, runIsRunning, selectLogRun, validateLogContainer } from '../../../dataplane/base/container-logs/log-selection.js';

const pod = (containers: string[], init: string[] = [], statuses: ContainerStatus[] = [], annotations?: Record<string, string>, phase = 'Running'): Pod => ({
  metadata: { name: 'web-1', namespace: 'default', uid: 'u1', ...(annotations ? { annotations } : {}) },
  spec: { containers: containers.map((name) => ({ name, image: 'x' })), initContainers: init.map((name) => ({ name, image: 'x' })) },
  status: { phase, containerStatuses: statuses },
});
const status = (over: Partial<ContainerStatus>): ContainerStatus => ({ name: 'web', image: 'x', imageID: 'x', ready: true, restartCount: 0, ...over });
const term = (id: string) => ({ exitCode: 1, reason: 'Error', containerID: id });

describe('the container: kubectl and the apiserver', () => {
  it('kubectl takes the only container silently, the first of several with a notice, the annotated one first', () => {
    expect(defaultLogContainer(pod(['web']), undefined)).toEqual({ ok: true, value: { container: 'web' } });
    expect(defaultLogContainer(pod(['web', 'side'], ['init']), undefined)).toEqual({ ok: true, value: { container: 'web', notice: 'Defaulted container "web" out of: web, side, init (init)' } });
    expect(defaultLogContainer(pod(['web', 'side'], [], [], { 'kubectl.kubernetes.io/default-container': 'side' }), undefined)).toEqual({ ok: true, value: { container: 'side' } });
    expect(defaultLogContainer(pod(['web'], ['init']), 'init')).toEqual({ ok: true, value: { container: 'init' } });
    expect(defaultLogContainer(pod(['web']), 'nope')).toEqual({ ok: false, message: 'container nope is not valid for pod web-1' });
  });

  it('the apiserver defaults only a single container, and lists them all (init first) otherwise', () => {
    expect(validateLogContainer(pod(['web']), undefined)).toEqual({ ok: true, value: 'web' });
    expect(validateLogContainer(pod(['web', 'side'], ['init']), undefined)).toEqual({ ok: false, message: 'a container name must be specified for pod web-1, choose one of: [init web side]' });
    expect(validateLogContainer(pod(['web']), 'side')).toEqual({ ok: false, message: 'container side is not valid for pod web-1' });
  });
});

describe('the run: the kubelet', () => {
  const runs = [0, 1, 2];
  it('reads the running run, and with previous the last terminated one', () => {
    const p = pod(['web'], [], [status({ restartCount: 2, containerID: 'c2', state: { running: {} }, lastState: { terminated: term('c1') } })]);
    expect(selectLogRun(p, 'web', false, runs)).toEqual({ ok: true, value: { run: 2, containerID: 'c2' } });
    expect(selectLogRun(p, 'web', true, runs)).toEqual({ ok: true, value: { run: 1, containerID: 'c1' } });
  });

  it('in CrashLoopBackOff both read the run that crashed', () => {
    const p = pod(['web'], [], [status({ restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: term('c1') } })]);
    expect(selectLogRun(p, 'web', false, [0, 1])).toEqual({ ok: true, value: { run: 1, containerID: 'c1' } });
    expect(selectLogRun(p, 'web', true, [0, 1])).toEqual({ ok: true, value: { run: 1, containerID: 'c1' } });
  });

  it('a container that ended for good is read; previous without an earlier run is the kubelet\'s error', () => {
    const p = pod(['web'], [], [status({ containerID: 'c0', state: { terminated: { ...term('c0'), exitCode: 0 } } })], undefined, 'Succeeded');
    expect(selectLogRun(p, 'web', false, [0])).toEqual({ ok: true, value: { run: 0, containerID: 'c0' } });
    expect(selectLogRun(p, 'web', true, [0])).toEqual({ ok: false, message: 'previous terminated container "web" in pod "web-1" not found' });
  });

  it('says why there is nothing to read yet', () => {
    expect(selectLogRun(pod(['web'], [], [], undefined, 'Pending'), 'web', false, [])).toEqual({ ok: false, message: 'container "web" in pod "web-1" is waiting to start: ContainerCreating' });
    expect(selectLogRun(pod(['web'], [], [status({ state: { waiting: { reason: 'CreateContainerConfigError' } } })]), 'web', false, [])).toEqual({
      ok: false,
      message: 'container "web" in pod "web-1" is waiting to start: CreateContainerConfigError',
    });
    expect(selectLogRun(pod(['web'], [], [status({ state: { waiting: { reason: 'ImagePullBackOff' } } })]), 'web', false, [])).toEqual({
      ok: false,
      message: 'container "web" in pod "web-1" is waiting to start: trying and failing to pull image',
    });
    expect(selectLogRun(pod(['web'], [], [], undefined, 'Running'), 'web', false, [])).toEqual({ ok: false, message: 'container "web" in pod "web-1" is not available' });
  });

  it('a run whose file is gone falls back to the newest one kept before it', () => {
    const p = pod(['web'], [], [status({ restartCount: 5, containerID: 'c5', state: { running: {} }, lastState: { terminated: term('c4') } })]);
    expect(selectLogRun(p, 'web', true, [2, 5])).toEqual({ ok: true, value: { run: 2, containerID: 'c4' } });
  });

  it('following goes on while that very run runs', () => {
    const p = pod(['web'], [], [status({ containerID: 'c2', state: { running: {} } })]);
    expect(runIsRunning(p, 'web', 'c2')).toBe(true);
    expect(runIsRunning(p, 'web', 'c1')).toBe(false);
    expect(runIsRunning(undefined, 'web', 'c2')).toBe(false);
  });
});
