/**
 * Toolbox images in the runtime: their command runs in the pod's simulated shell, their exec
 * probes see the container's own files, a restart gives a fresh writable layer, and SIGTERM is
 * ignored as by a PID 1 shell (SIGKILL at the end of the grace period).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { container, podOf, runPod, logText, stopAll, waitFor } from './helpers.js';

afterAll(stopAll);

describe('toolbox images', () => {
  it("the docs' exec liveness example: cat /tmp/healthy fails once the command removes it, and the container restarts", async () => {
    const pod = runPod(
      podOf('liveness-exec', {
        containers: [{
          name: 'liveness', image: 'registry.k8s.io/busybox:1.27.2',
          args: ['/bin/sh', '-c', 'touch /tmp/healthy; echo made; sleep 1; rm -f /tmp/healthy; sleep 600'],
          // A probe "second" is 200 ms here: a generous timeout, since a shell starts in tens of ms.
          livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 2, timeoutSeconds: 10 },
        }],
        terminationGracePeriodSeconds: 1,
      }),
      '127.53.6.2',
    );
    await waitFor('restarted', () => container(pod.latest()).restartCount >= 1);
    expect(pod.events().filter((e) => e.reason === 'Unhealthy').map((e) => e.message)).toContain('Liveness probe failed: cat: /tmp/healthy: No such file or directory\n');
    expect(container(pod.latest()).lastState?.terminated).toMatchObject({ exitCode: 137 });
    // The restarted command runs again from the start, in a fresh layer.
    await waitFor('made twice', () => /^(made\n){2,}$/.test(logText(pod, 'liveness', 'all'))).catch((e: Error) => { throw new Error(`${e.message}: log ${JSON.stringify(logText(pod, 'liveness', 'all'))}`); });
  });

  it('ignores SIGTERM and is killed at the end of the grace period, even in sleep infinity', async () => {
    const pod = runPod(podOf('sleeper', { containers: [{ name: 'c', image: 'busybox', command: ['sleep', 'infinity'] }] }), '127.53.6.3');
    await waitFor('running', () => container(pod.latest()).state?.running);
    await pod.handle.stop(0.3);
    // Killed (137, signal 9), not ended by SIGTERM: it outlived the grace period.
    expect(container(pod.handle.status()).state?.terminated).toMatchObject({ exitCode: 137, signal: 9 });
  });
});
