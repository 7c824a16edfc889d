/**
 * Ephemeral containers in the runtime (`kubectl debug`): added to a running pod's spec, each
 * starts once in the pod's sandbox, is never restarted whatever the pod's restartPolicy, is
 * reported apart from the pod's containers (no part of its phase or readiness), and stops with
 * the pod; after a node agent restart one that had run is not run again.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { EphemeralContainer, Pod } from 'kubernetes-types/core/v1.js';
import type { PodRuntimeStatus } from '../../../dataplane/node/runtime/container-runner.js';
import { container, logText, podOf, runPod, stopAll, waitFor } from './helpers.js';

afterAll(stopAll);

const sleeper = (name: string) => podOf(name, { containers: [{ name: 'main', image: 'busybox', command: ['sleep', 'infinity'] }], terminationGracePeriodSeconds: 1 });
const withDebuggers = (pod: Pod, ...ecs: EphemeralContainer[]): Pod => ({ ...pod, spec: { ...pod.spec!, ephemeralContainers: ecs } });
const ephemeral = (s: PodRuntimeStatus, name: string) => s.ephemeralContainerStatuses.find((c) => c.name === name);

describe('ephemeral containers', () => {
  it('start once in the running pod and are not restarted, apart from its phase and readiness', async () => {
    const base = sleeper('debugged');
    const pod = runPod(base, '127.53.9.2');
    await waitFor('main running', () => container(pod.latest(), 'main').state?.running);
    expect(pod.latest().ephemeralContainerStatuses).toEqual([]);
    const once: EphemeralContainer = { name: 'dbg', image: 'busybox', command: ['sh', '-c', 'echo from $(hostname) at $(hostname -i); exit 3'] };
    pod.handle.update(withDebuggers(base, once));
    const done = await waitFor('dbg terminated', () => ephemeral(pod.latest(), 'dbg')?.state?.terminated);
    expect(done).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(logText(pod, 'dbg')).toBe('from debugged at 127.53.9.2\n');
    // A second debugger: the first one is neither started again nor duplicated.
    pod.handle.update(withDebuggers(base, once, { name: 'dbg2', image: 'busybox', command: ['sleep', 'infinity'] }));
    await waitFor('dbg2 running', () => ephemeral(pod.latest(), 'dbg2')?.state?.running);
    const s = pod.latest();
    expect(s.ephemeralContainerStatuses.map((c) => [c.name, c.restartCount, c.ready, Object.keys(c.state ?? {})[0]])).toEqual([['dbg', 0, false, 'terminated'], ['dbg2', 0, false, 'running']]);
    expect(s.phase).toBe('Running');
    expect(s.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(pod.events().filter((e) => e.reason === 'Started').map((e) => e.fieldPath)).toEqual(['spec.containers{main}', 'spec.ephemeralContainers{dbg}', 'spec.ephemeralContainers{dbg2}']);
    expect(pod.handle.execTarget('dbg2')).not.toHaveProperty('error');
    expect(pod.handle.execTarget('dbg')).toEqual({ error: 'container not found ("dbg")' });
    // They stop with the pod: sleep ignores SIGTERM, so SIGKILL at the end of the grace period.
    await pod.handle.stop(0.3);
    expect(ephemeral(pod.handle.status(), 'dbg2')?.state?.terminated).toMatchObject({ exitCode: 137 });
  });

  it('after a node agent restart, one that had run is not run again', async () => {
    const base = withDebuggers(sleeper('resumed'), { name: 'ran', image: 'busybox', command: ['sleep', 'infinity'] }, { name: 'new', image: 'busybox', command: ['sleep', 'infinity'] });
    const startedAt = '2026-01-01T00:00:00Z';
    const pod = runPod(base, '127.53.9.3', {}, undefined, {
      resume: { running: [], status: { ephemeralContainerStatuses: [{ name: 'ran', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { running: { startedAt } } }] } },
    });
    await waitFor('new running', () => ephemeral(pod.latest(), 'new')?.state?.running);
    expect(ephemeral(pod.latest(), 'ran')?.state?.terminated).toMatchObject({ exitCode: 137, reason: 'ContainerStatusUnknown', startedAt });
    expect(pod.events().filter((e) => e.reason === 'Started').map((e) => e.fieldPath)).not.toContain('spec.ephemeralContainers{ran}');
  });
});
