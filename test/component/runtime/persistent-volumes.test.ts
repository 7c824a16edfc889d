/**
 * A bound claim's volume is its PersistentVolume's directory under the cluster's state dir
 * (`<root>/<pv name>`, 0700): what one pod writes, the next pod mounting the claim reads — an
 * emulated image (busybox) and a real program alike; under `readOnly` the shell's writes never
 * reach the volume; a
 * claim that is not Bound keeps the pod in ContainerCreating with FailedMount until it is.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Container, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { runShellCommand } from '../../../dataplane/node/shell/shell-command.js';
import { container, FAST, logText, podOf, runPod, stopAll, waitFor } from './helpers.js';

// This file's addresses: 127.53.8.0/24.
const scratch = mkdtempSync(join(tmpdir(), 'knet-pv-'));
const root = join(scratch, 'volumes');
afterAll(async () => {
  await stopAll();
  rmSync(scratch, { recursive: true, force: true });
});

const claim = (name: string, volumeName?: string): PersistentVolumeClaim => ({
  metadata: { namespace: 'default', name },
  spec: { accessModes: ['ReadWriteOnce'], ...(volumeName && { volumeName }) },
  status: { phase: volumeName ? 'Bound' : 'Pending' },
});

const shellPod = (name: string, claimName: string, command: string, readOnly?: { volume?: boolean; mount?: boolean }): Pod =>
  podOf(name, {
    containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', command], volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: readOnly?.mount }] }],
    volumes: [{ name: 'data', persistentVolumeClaim: { claimName, readOnly: readOnly?.volume } }],
  });

const shellOf = async (pod: ReturnType<typeof runPod>, podSpec: Pod, command: string) =>
  (await runShellCommand(pod.handle.sandbox!, podSpec.spec!.containers[0] as Container, new Map(), ['sh', '-c', command], 5000)).output;

describe('a claim bound to a PersistentVolume', () => {
  const claims = [claim('data', 'pv-a')];

  it('keeps what a busybox pod wrote for the next pod, in the volume\'s directory', async () => {
    const first = shellPod('pv-writer', 'data', 'echo hi > /data/f && sleep infinity');
    const writer = runPod(first, '127.53.8.2', { claims }, FAST, { persistentVolumesDir: root });
    await waitFor('the writer running', () => container(writer.latest(), 'main').state?.running);
    // Written by the shell in the volume's directory (created, then filled: wait for the content).
    await waitFor('the file on disk', () => existsSync(join(root, 'pv-a', 'f')) && readFileSync(join(root, 'pv-a', 'f'), 'utf8') === 'hi\n');
    expect((statSync(join(root, 'pv-a')).mode & 0o777).toString(8)).toBe('700');
    await writer.handle.stop(0);

    const second = shellPod('pv-reader', 'data', 'cat /data/f; sleep infinity');
    const reader = runPod(second, '127.53.8.3', { claims }, FAST, { persistentVolumesDir: root });
    await waitFor('the reader to print the file', () => logText(reader, 'main') === 'hi\n');
    expect(await shellOf(reader, second, 'echo more >> /data/f && cat /data/f')).toBe('hi\nmore\n');
    expect(readFileSync(join(root, 'pv-a', 'f'), 'utf8')).toBe('hi\nmore\n');
  });

  it('gives a real program the same directory at its mount path under $KNET_VOLUMES_DIR', async () => {
    const pod = podOf('pv-program', {
      containers: [{ name: 'main', image: 'python:3.12', command: ['sh', '-c', 'cat "$KNET_VOLUMES_DIR/data/f"; echo from-program > "$KNET_VOLUMES_DIR/data/g"; exec sleep 600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
    });
    const program = runPod(pod, '127.53.8.4', { claims }, FAST, { persistentVolumesDir: root, volumesDir: join(scratch, 'pods', 'uid-pv-program') });
    await waitFor('the program to write the volume', () => existsSync(join(root, 'pv-a', 'g')) && readFileSync(join(root, 'pv-a', 'g'), 'utf8') === 'from-program\n');
    // Its log reaches the file through the shim, maybe after its write: waited for, not assumed.
    await waitFor('the program to print what the busybox pods wrote', () => logText(program, 'main') === 'hi\nmore\n');
  });

  it('keeps the volume unchanged when the pod\'s volume or the mount is readOnly', async () => {
    for (const [i, readOnly] of [{ volume: true }, { mount: true }].entries()) {
      const spec = shellPod(`pv-ro-${i}`, 'data', 'sleep infinity', readOnly);
      const pod = runPod(spec, `127.53.8.${10 + i}`, { claims }, FAST, { persistentVolumesDir: root });
      await waitFor('the pod running', () => container(pod.latest(), 'main').state?.running);
      expect(await shellOf(pod, spec, 'cat /data/f')).toBe('hi\nmore\n');
      await shellOf(pod, spec, `echo no > /data/ro-${i}`);
      expect(existsSync(join(root, 'pv-a', `ro-${i}`))).toBe(false);
    }
  });
});

describe('a claim that is not Bound', () => {
  it('keeps the pod in ContainerCreating with FailedMount, then mounts the volume once bound', async () => {
    const claims = [claim('later')];
    const pod = runPod(shellPod('pv-wait', 'later', 'echo waited > /data/w && sleep infinity'), '127.53.8.20', { claims }, FAST, { persistentVolumesDir: root });
    await waitFor('FailedMount', () => pod.events().some((e) => e.reason === 'FailedMount'));
    expect(pod.events().find((e) => e.reason === 'FailedMount')?.message).toBe(
      'Unable to attach or mount volumes: unmounted volumes=[data], failed to process volumes=[data]: error processing PVC default/later: PVC is not bound',
    );
    expect(container(pod.latest(), 'main').state?.waiting?.reason).toBe('ContainerCreating');
    claims[0] = claim('later', 'pv-b');
    pod.handle.resync();
    await waitFor('the file in pv-b', () => existsSync(join(root, 'pv-b', 'w')) && readFileSync(join(root, 'pv-b', 'w'), 'utf8') === 'waited\n');
  });

  it('a missing claim is named in the event', async () => {
    const pod = runPod(shellPod('pv-missing', 'nope', 'sleep infinity'), '127.53.8.21', { claims: [] }, FAST, { persistentVolumesDir: root });
    await waitFor('FailedMount', () => pod.events().some((e) => e.reason === 'FailedMount'));
    expect(pod.events().find((e) => e.reason === 'FailedMount')?.message).toContain('persistentvolumeclaims "nope" not found');
  });
});
