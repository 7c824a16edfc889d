import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { condition, container, curl, FAST, openSocketHandles, podOf, runPod, logText, stopAll, waitFor } from './helpers.js';
import { execInPod } from '../../../dataplane/node/exec/exec-in-pod.js';

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
    // An emulated image's exec probe runs in the pod's simulated shell, with the container's own
    // files; every passing probe leaves a line in /tmp/passes, so periods are counted, not waited out.
    const pod = runPod(
      podOf('live-0', {
        containers: [{
          name: 'c', image: AGNHOST, args: ['netexec', '--udp-port=-1'],
          livenessProbe: { exec: { command: ['sh', '-c', '! test -f /tmp/dead && echo pass >> /tmp/passes'] }, periodSeconds: 1, failureThreshold: 2 },
        }],
        terminationGracePeriodSeconds: 1,
      }),
      '127.53.3.4',
    );
    await waitFor('running', () => container(pod.latest()).state?.running);
    expect(await execInPod(pod.handle, 'c', ['touch', '/tmp/dead']).exit).toBe(0);
    await waitFor('restarted', () => container(pod.latest()).restartCount >= 1);
    expect(pod.events().find((e) => e.reason === 'Killing')?.message).toBe('Container c failed liveness probe, will be restarted');
    expect(pod.events().filter((e) => e.reason === 'Unhealthy').length).toBeGreaterThanOrEqual(2);
    // The restarted container has a fresh writable layer: /tmp/dead is gone.
    await waitFor('running again', () => container(pod.latest()).state?.running);
    expect(container(pod.latest()).lastState?.terminated).toBeTruthy();
    await waitFor('serving again', async () => (await curl('http://127.53.3.4:8080/hostname')).body === 'live-0');
    const count = container(pod.latest()).restartCount;
    const kills = pod.events().filter((e) => e.reason === 'Killing').length;
    // Alive again: no further restarts over five periods, each seen as a passing probe.
    expect(await execInPod(pod.handle, 'c', ['rm', '-f', '/tmp/passes']).exit).toBe(0);
    await waitFor('five more passing liveness probes', async () => (await execInPod(pod.handle, 'c', ['sh', '-c', 'test "$(wc -l < /tmp/passes)" -ge 5']).exit) === 0);
    expect(container(pod.latest()).restartCount).toBe(count);
    expect(pod.events().filter((e) => e.reason === 'Killing')).toHaveLength(kills);
  });
});

describe('liveness that keeps failing', () => {
  it('restarts at once the first time, then under the crash back-off: CrashLoopBackOff with a BackOff event', async () => {
    // A back-off long enough that the second restart is seen waiting (FAST's 100 ms would race).
    const pod = runPod(
      podOf('live-loop', {
        containers: [{ name: 'c', image: AGNHOST, args: ['netexec', '--udp-port=-1'], livenessProbe: { tcpSocket: { port: 9998 }, periodSeconds: 1, failureThreshold: 1 } }],
        terminationGracePeriodSeconds: 1,
      }),
      '127.53.3.9',
      {},
      { ...FAST, backoffBaseMs: 60_000 },
    );
    await waitFor('restarted once', () => container(pod.latest()).restartCount >= 1);
    await waitFor('crash-looping', () => container(pod.latest()).state?.waiting?.reason === 'CrashLoopBackOff');
    expect(container(pod.latest()).restartCount).toBe(1);
    expect(container(pod.latest()).state?.waiting?.message).toMatch(/^back-off 1m0s restarting failed container=c pod=live-loop_default\(uid-live-loop\)$/);
    expect(pod.events().filter((e) => e.reason === 'Killing')).toHaveLength(2);
    expect(pod.events().some((e) => e.reason === 'BackOff')).toBe(true);
  });
});

describe('startup', () => {
  it('gates readiness until the startup probe passes', async () => {
    const flag = '/tmp/started';
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
    expect(await execInPod(pod.handle, 'c', ['touch', flag]).exit).toBe(0);
    await waitFor('ready', () => condition(pod.latest(), 'Ready') === 'True');
    expect(container(pod.latest())).toMatchObject({ started: true, ready: true, restartCount: 0 });
  });
});

describe('restartPolicy and crash back-off', () => {
  it('Always: a crashing container restarts, then waits in CrashLoopBackOff with a BackOff event', async () => {
    const pod = runPod(podOf('crash-0', { containers: [{ name: 'c', image: 'debian:12-slim', command: ['sh', '-c', 'echo dying; exit 3'] }] }), '127.53.3.6');
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
    const pod = runPod(podOf('job-0', { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'debian:12-slim', command: ['true'] }] }), '127.53.3.7');
    await waitFor('succeeded', () => pod.latest().phase === 'Succeeded');
    expect(container(pod.latest())).toMatchObject({ restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } });
    expect(condition(pod.latest(), 'Ready')).toBe('False');
  });
});

describe('graceful stop', () => {
  it('SIGTERM first: a process that exits on it stops before the grace period', async () => {
    const pod = runPod(
      podOf('term-0', { containers: [{ name: 'c', image: 'debian:12-slim', command: ['sh', '-c', 'trap "echo got TERM; exit 0" TERM; while true; do sleep 0.05; done'] }] }),
      '127.53.3.8',
    );
    await waitFor('running', () => container(pod.latest()).state?.running);
    await pod.handle.stop(30);
    expect(container(pod.latest()).state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(logText(pod, 'c', 'all')).toContain('got TERM');
  });

  it('SIGKILL after the grace period for a process that ignores SIGTERM', async () => {
    const pod = runPod(podOf('term-1', { containers: [{ name: 'c', image: 'debian:12-slim', command: ['sh', '-c', 'trap "" TERM; while true; do sleep 0.05; done'] }] }), '127.53.3.9');
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
