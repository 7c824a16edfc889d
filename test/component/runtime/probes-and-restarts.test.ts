import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { condition, container, curl, openSocketHandles, podOf, runPod, stopAll, waitFor } from './helpers.js';

// This file's addresses: 127.53.3.0/24. Probe "seconds" are 200 ms here (FAST tuning).
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.47';
const scratch = mkdtempSync(join(tmpdir(), 'knet-probes-'));

afterAll(async () => {
  await stopAll();
  rmSync(scratch, { recursive: true, force: true });
});

describe('readiness', () => {
  it('an httpGet readiness probe failing flips ready to false and back when it passes again', async () => {
    const dir = join(scratch, 'ready');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'ready.txt'), 'ok');
    const pod = runPod(
      podOf('ready-0', {
        containers: [{
          name: 'web', image: 'python:3.12', ports: [{ name: 'http', containerPort: 8000 }],
          command: ['python3', '-m', 'http.server', '$(PORT)', '--bind', '$(POD_IP)', '--directory', dir],
          readinessProbe: { httpGet: { path: '/ready.txt', port: 'http' }, periodSeconds: 1, failureThreshold: 2, timeoutSeconds: 5 },
        }],
      }),
      '127.53.3.2',
    );
    await waitFor('ready', () => condition(pod.latest(), 'Ready') === 'True');
    expect(container(pod.latest())).toMatchObject({ ready: true, started: true });

    unlinkSync(join(dir, 'ready.txt'));
    await waitFor('not ready', () => condition(pod.latest(), 'Ready') === 'False');
    const s = pod.latest();
    expect(container(s).ready).toBe(false);
    expect(container(s).state?.running).toBeTruthy();
    expect(s.conditions.find((c) => c.type === 'ContainersReady')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [web]' });
    expect(pod.events().filter((e) => e.reason === 'Unhealthy').at(-1)).toMatchObject({ type: 'Warning', message: 'Readiness probe failed: HTTP probe failed with statuscode: 404' });
    // Readiness failures never restart.
    expect(container(s).restartCount).toBe(0);

    writeFileSync(join(dir, 'ready.txt'), 'ok');
    await waitFor('ready again', () => condition(pod.latest(), 'Ready') === 'True');
    expect(container(pod.latest()).restartCount).toBe(0);
  });

  it('a tcpSocket readiness probe to a closed port keeps the pod unready with the dial error', async () => {
    const pod = runPod(
      podOf('tcp-0', {
        containers: [{ name: 'c', image: AGNHOST, args: ['netexec'], readinessProbe: { tcpSocket: { port: 9999 }, periodSeconds: 1, failureThreshold: 1 } }],
      }),
      '127.53.3.3',
    );
    await waitFor('probe failed', () => pod.events().some((e) => e.reason === 'Unhealthy'));
    expect(condition(pod.latest(), 'Ready')).toBe('False');
    expect(pod.events().find((e) => e.reason === 'Unhealthy')?.message).toBe('Readiness probe failed: dial tcp 127.53.3.3:9999: connect: connection refused');
  });
});

describe('liveness', () => {
  it('an exec liveness probe failing restarts the container and counts it', async () => {
    const flag = join(scratch, 'alive');
    writeFileSync(flag, '');
    const pod = runPod(
      podOf('live-0', {
        containers: [{
          name: 'c', image: AGNHOST, args: ['netexec', '--udp-port=-1'],
          livenessProbe: { exec: { command: ['test', '-f', flag] }, periodSeconds: 1, failureThreshold: 2 },
        }],
        terminationGracePeriodSeconds: 1,
      }),
      '127.53.3.4',
    );
    await waitFor('running', () => container(pod.latest()).state?.running);
    unlinkSync(flag);
    await waitFor('restarted', () => container(pod.latest()).restartCount >= 1);
    expect(pod.events().find((e) => e.reason === 'Killing')?.message).toBe('Container c failed liveness probe, will be restarted');
    expect(pod.events().filter((e) => e.reason === 'Unhealthy').length).toBeGreaterThanOrEqual(2);
    writeFileSync(flag, '');
    await waitFor('running again', () => container(pod.latest()).state?.running);
    expect(container(pod.latest()).lastState?.terminated).toBeTruthy();
    await waitFor('serving again', async () => (await curl('http://127.53.3.4:8080/hostname')).body === 'live-0');
    const count = container(pod.latest()).restartCount;
    // Alive again: no further restarts over a few periods.
    await new Promise((r) => setTimeout(r, 1000));
    expect(container(pod.latest()).restartCount).toBe(count);
  });
});

describe('startup', () => {
  it('gates readiness until the startup probe passes', async () => {
    const flag = join(scratch, 'started');
    const pod = runPod(
      podOf('start-0', {
        containers: [{
          name: 'c', image: 'nginx', ports: [{ containerPort: 8080 }],
          startupProbe: { exec: { command: ['test', '-f', flag] }, periodSeconds: 1, failureThreshold: 1000 },
          readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
        }],
      }),
      '127.53.3.5',
    );
    await waitFor('startup failing', () => pod.events().some((e) => e.message.startsWith('Startup probe failed')));
    expect(container(pod.latest())).toMatchObject({ started: false, ready: false });
    expect(pod.events().some((e) => e.message.startsWith('Readiness probe'))).toBe(false);
    writeFileSync(flag, '');
    await waitFor('ready', () => condition(pod.latest(), 'Ready') === 'True');
    expect(container(pod.latest())).toMatchObject({ started: true, ready: true, restartCount: 0 });
  });
});

describe('restartPolicy and crash back-off', () => {
  it('Always: a crashing container restarts, then waits in CrashLoopBackOff with a BackOff event', async () => {
    const pod = runPod(podOf('crash-0', { containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo dying; exit 3'] }] }), '127.53.3.6');
    await waitFor('backoff', () => container(pod.latest()).state?.waiting?.reason === 'CrashLoopBackOff');
    const s = container(pod.latest());
    expect(s.restartCount).toBeGreaterThanOrEqual(1);
    expect(s.lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(s.state?.waiting?.message).toMatch(/^back-off \d+ms restarting failed container=c pod=crash-0_default\(uid-crash-0\)$/);
    expect(pod.latest().phase).toBe('Running');
    expect(pod.events().find((e) => e.reason === 'BackOff')?.message).toBe('Back-off restarting failed container c in pod crash-0_default(uid-crash-0)');
    await waitFor('several restarts', () => container(pod.latest()).restartCount >= 3);
  });

  it('OnFailure: exit 0 completes without restart and the pod Succeeds', async () => {
    const pod = runPod(podOf('job-0', { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox', command: ['true'] }] }), '127.53.3.7');
    await waitFor('succeeded', () => pod.latest().phase === 'Succeeded');
    expect(container(pod.latest())).toMatchObject({ restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } });
    expect(condition(pod.latest(), 'Ready')).toBe('False');
  });
});

describe('graceful stop', () => {
  it('SIGTERM first: a process that exits on it stops before the grace period', async () => {
    const pod = runPod(
      podOf('term-0', { containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'trap "echo got TERM; exit 0" TERM; while true; do sleep 0.05; done'] }] }),
      '127.53.3.8',
    );
    await waitFor('running', () => container(pod.latest()).state?.running);
    await pod.handle.stop(30);
    expect(container(pod.latest()).state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(`${pod.logDir}/c.log`, 'utf8')).toContain('got TERM');
  });

  it('SIGKILL after the grace period for a process that ignores SIGTERM', async () => {
    const pod = runPod(podOf('term-1', { containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'trap "" TERM; while true; do sleep 0.05; done'] }] }), '127.53.3.9');
    await waitFor('running', () => container(pod.latest()).state?.running);
    await pod.handle.stop(0.3);
    expect(container(pod.latest()).state?.terminated).toMatchObject({ exitCode: 137, signal: 9, reason: 'Error' });
    expect(pod.latest().phase).toBe('Failed');
  });
});

describe('cleanup', () => {
  it('leaves no listener or socket behind', async () => {
    await stopAll();
    await waitFor('sockets closed', () => openSocketHandles().length === 0, 5000);
  });
});
