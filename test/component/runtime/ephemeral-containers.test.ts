/**
 * Ephemeral containers in the runtime (`kubectl debug`): added to a running pod's spec, each
 * starts once in the pod's sandbox, is never restarted whatever the pod's restartPolicy, is
 * reported apart from the pod's containers (no part of its phase or readiness), and stops with
 * the pod; after a node agent restart one that had run is not run again.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EphemeralContainer, Pod } from 'kubernetes-types/core/v1.js';
import type { PodRuntimeStatus } from '../../../dataplane/node/runtime/container-runner.js';
import { ContainerRecords, type ContainerRecord } from '../../../dataplane/node/runtime/container-records.js';
import { identify } from '../../../dataplane/node/runtime/process-identity.js';
import { container, FAST, logText, podOf, runPod, stopAll, waitFor } from './helpers.js';

// This file's addresses: 127.53.9.0/24.
const scratch = mkdtempSync(join(tmpdir(), 'knet-ephemeral-'));
const spawned: number[] = [];
afterAll(async () => {
  await stopAll();
  for (const pid of spawned) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  }
  rmSync(scratch, { recursive: true, force: true });
});

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

  it('after a node agent restart, an ephemeral program still running is taken back, and not restarted when it ends', async () => {
    const records = new ContainerRecords(join(scratch, 'containers'));
    const child = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
    child.unref();
    spawned.push(child.pid!);
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    const record: ContainerRecord = { ...identify(child.pid!)!, pod: 'default/adopted', podUID: 'uid-adopted', container: 'dbg', containerID: 'knet://earlier', startedAt, restartCount: 0 };
    records.write(record);
    const base = withDebuggers(sleeper('adopted'), { name: 'dbg', image: 'debian:12-slim', command: ['sleep', '600'] });
    const was = { name: 'dbg', image: 'debian:12-slim', imageID: '', containerID: 'knet://earlier', ready: false, restartCount: 0, state: { running: { startedAt } } };
    const pod = runPod(base, '127.53.9.4', {}, { ...FAST, adoptPollMs: 50 }, { records, resume: { running: [record], status: { ephemeralContainerStatuses: [was] } } });
    expect(ephemeral(pod.latest(), 'dbg')).toMatchObject({ containerID: 'knet://earlier', state: { running: { startedAt } } });
    process.kill(child.pid!, 'SIGKILL');
    const ended = await waitFor('dbg terminated', () => ephemeral(pod.latest(), 'dbg')?.state?.terminated);
    expect(ended).toMatchObject({ exitCode: 137, reason: 'ContainerStatusUnknown' });
    expect(ephemeral(pod.latest(), 'dbg')?.restartCount).toBe(0);
    expect(pod.events().filter((e) => e.reason === 'Started').map((e) => e.fieldPath)).toEqual(['spec.containers{main}']);
  });
});
