/**
 * Container lifecycle hooks in the runtime (lifecycle-hooks.ts): preStop runs before SIGTERM and
 * keeps the container serving until it ends, postStart holds the container out of Running, and
 * failing hooks give the kubelet's events. Sleep hooks run on a fake clock the test moves on;
 * exec hooks that wait are ended by the test through exec, so nothing here waits out a timer.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LifecycleHandler } from 'kubernetes-types/core/v1.js';
import { execInPod } from '../../../dataplane/node/exec/exec-in-pod.js';
import { fakeClock } from '../../support/fake-clock.js';
import { container, curl, FAST, logText, podOf, runPod, stopAll, waitFor } from './helpers.js';

// This file's addresses: 127.53.10.0/24.
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.47';
const scratch = mkdtempSync(join(tmpdir(), 'knet-hooks-'));

afterAll(async () => {
  await stopAll();
  rmSync(scratch, { recursive: true, force: true });
});

const reasons = (p: { events(): { reason: string }[] }) => p.events().map((e) => e.reason);

describe('preStop', () => {
  it('a sleep hook keeps the container serving after the stop began, SIGTERM only when it ends', async () => {
    const clock = fakeClock();
    // The identity responder closes at once on SIGTERM: whatever answers after the stop began is the hook's doing.
    const pod = runPod(
      podOf('sleep-0', { containers: [{ name: 'web', image: 'example.com/web:1', ports: [{ containerPort: 8080 }], lifecycle: { preStop: { sleep: { seconds: 5 } } } }] }),
      '127.53.10.2', {}, FAST, { clock },
    );
    await waitFor('running', () => container(pod.latest()).state?.running);
    const stopped = pod.handle.stop(30);
    await waitFor('Killing', () => reasons(pod).includes('Killing'));
    // Still running and ready while the hook runs, as the kubelet reports it: its endpoints stay serving.
    expect(container(pod.latest())).toMatchObject({ ready: true, state: { running: {} } });
    expect((await curl('http://127.53.10.2:8080/')).status).toBe(200);
    clock.advance(4_999);
    expect((await curl('http://127.53.10.2:8080/')).status).toBe(200);
    clock.advance(1);
    await stopped;
    expect((await curl('http://127.53.10.2:8080/')).code).toBe(7);
    expect(container(pod.latest()).state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(reasons(pod)).not.toContain('FailedPreStopHook');
  });

  it('an exec hook runs in the container (its files) before SIGTERM; the container is reachable by exec meanwhile', async () => {
    const pod = runPod(
      podOf('exec-0', {
        containers: [{
          name: 'c', image: AGNHOST, args: ['netexec', '--http-port=8080', '--udp-port=-1'],
          lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo draining > /tmp/state; while [ ! -f /tmp/go ]; do sleep 0.05; done'] } } },
        }],
      }),
      '127.53.10.3',
    );
    await waitFor('running', () => container(pod.latest()).state?.running);
    const stopped = pod.handle.stop(30);
    await waitFor('hook wrote its file', async () => (await execInPod(pod.handle, 'c', ['cat', '/tmp/state']).exit) === 0);
    expect((await curl('http://127.53.10.3:8080/hostname')).body).toBe('exec-0');
    expect(await execInPod(pod.handle, 'c', ['touch', '/tmp/go']).exit).toBe(0);
    await stopped;
    expect(container(pod.latest()).state?.terminated).toBeTruthy();
    expect(reasons(pod)).not.toContain('FailedPreStopHook');
  });

  it("an exec hook of a program runs as a process with the container's environment", async () => {
    const out = join(scratch, 'prestop.txt');
    const pod = runPod(
      podOf('proc-0', {
        containers: [{
          name: 'c', image: 'debian:12', command: ['sleep', '300'], env: [{ name: 'GREETING', value: 'bye' }],
          lifecycle: { preStop: { exec: { command: ['sh', '-c', `echo "$GREETING from preStop" >> ${out}`] } } },
        }],
      }),
      '127.53.10.4',
    );
    await waitFor('running', () => container(pod.latest()).state?.running);
    await pod.handle.stop(30);
    expect(readFileSync(out, 'utf8')).toBe('bye from preStop\n');
    // sleep dies of the SIGTERM that followed the hook.
    expect(container(pod.latest()).state?.terminated).toMatchObject({ exitCode: 143 });
  });

  it('an httpGet hook reaches the pod on its IP (netexec logs the request)', async () => {
    const pod = runPod(
      podOf('http-0', {
        containers: [{
          name: 'c', image: AGNHOST, args: ['netexec', '--http-port=8080', '--udp-port=-1'], ports: [{ name: 'http', containerPort: 8080 }],
          lifecycle: { preStop: { httpGet: { path: '/echo?msg=prestop', port: 'http' } } },
        }],
      }),
      '127.53.10.5',
    );
    await waitFor('running', () => container(pod.latest()).state?.running);
    await pod.handle.stop(30);
    expect(logText(pod, 'c')).toContain('GET /echo?msg=prestop');
    expect(reasons(pod)).not.toContain('FailedPreStopHook');
  });

  it('a failing hook is a FailedPreStopHook warning and the stop goes on; tcpSocket hooks always fail', async () => {
    const cases: Array<[string, string, LifecycleHandler]> = [
      ['fail-0', '127.53.10.6', { exec: { command: ['sh', '-c', 'exit 3'] } }],
      ['tcp-0', '127.53.10.7', { tcpSocket: { port: 8080 } }],
    ];
    for (const [name, ip, preStop] of cases) {
      const pod = runPod(podOf(name, { containers: [{ name: 'c', image: AGNHOST, args: ['netexec', '--http-port=8080', '--udp-port=-1'], lifecycle: { preStop } }] }), ip);
      await waitFor('running', () => container(pod.latest()).state?.running);
      await pod.handle.stop(30);
      expect(pod.events().filter((e) => e.reason === 'Killing' || e.reason === 'FailedPreStopHook').map((e) => [e.type, e.reason, e.message])).toEqual([
        ['Normal', 'Killing', 'Stopping container c'],
        ['Warning', 'FailedPreStopHook', 'PreStopHook failed'],
      ]);
      expect(container(pod.latest()).state?.terminated).toBeTruthy();
    }
  });
});

describe('postStart', () => {
  it('holds the container in ContainerCreating until the hook ends, then Running', async () => {
    const clock = fakeClock();
    const pod = runPod(
      podOf('post-0', { containers: [{ name: 'web', image: 'example.com/web:1', ports: [{ containerPort: 8080 }], lifecycle: { postStart: { sleep: { seconds: 3 } } } }] }),
      '127.53.10.8', {}, FAST, { clock },
    );
    await waitFor('Started', () => reasons(pod).includes('Started'));
    expect(container(pod.latest())).toMatchObject({ ready: false, started: false, state: { waiting: { reason: 'ContainerCreating' } } });
    // The container runs meanwhile (the kubelet's runtime started it): it already serves.
    expect((await curl('http://127.53.10.8:8080/')).status).toBe(200);
    clock.advance(3_000);
    await waitFor('running', () => container(pod.latest()).state?.running);
    expect(container(pod.latest())).toMatchObject({ ready: true, started: true });
  });

  it('an exec hook runs in the container before it is reported running', async () => {
    const pod = runPod(
      podOf('post-1', { containers: [{ name: 'c', image: AGNHOST, args: ['netexec', '--http-port=8080', '--udp-port=-1'], lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo warmed > /tmp/warm'] } } } }] }),
      '127.53.10.9',
    );
    await waitFor('running', () => container(pod.latest()).state?.running);
    const cat = execInPod(pod.handle, 'c', ['cat', '/tmp/warm']);
    const chunks: Buffer[] = [];
    cat.stdout.on('data', (c: Buffer) => chunks.push(c));
    expect(await cat.exit).toBe(0);
    expect(Buffer.concat(chunks).toString()).toBe('warmed\n');
  });

  it('a failing hook kills the container (FailedPostStartHook, Killing) and restartPolicy restarts it', async () => {
    const pod = runPod(
      podOf('post-2', {
        containers: [{ name: 'c', image: AGNHOST, args: ['netexec', '--http-port=8080', '--udp-port=-1'], lifecycle: { postStart: { exec: { command: ['sh', '-c', 'exit 1'] } } } }],
        terminationGracePeriodSeconds: 1,
      }),
      '127.53.10.10',
    );
    await waitFor('restarted', () => container(pod.latest()).restartCount >= 1);
    const first = pod.events().filter((e) => ['Started', 'FailedPostStartHook', 'Killing'].includes(e.reason)).slice(0, 3);
    expect(first.map((e) => [e.type, e.reason, e.message])).toEqual([
      ['Normal', 'Started', 'Started container c'],
      ['Warning', 'FailedPostStartHook', 'PostStartHook failed'],
      ['Normal', 'Killing', 'FailedPostStartHook'],
    ]);
    expect(container(pod.latest()).state?.running).toBeUndefined();
  });
});
