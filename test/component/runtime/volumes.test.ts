/**
 * Volumes as a pod's containers see them: a real program finds its mounts under
 * $KNET_VOLUMES_DIR (configMap with items, secret with defaultMode, an optional secret that is
 * missing, downward-API fieldRef and resourceFieldRef, projected, an emptyDir an init container
 * filled, a subPath); an emulated image sees the same at its mount paths (the emptyDir too). ConfigMap and label
 * changes reach the files at the next volume sync (a fake clock moved by hand), not subPath, or
 * at once when the pod's volumes are refreshed (as a token refresh does).
 */
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConfigMap, Container, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { runShellCommand } from '../../../dataplane/node/shell/shell-command.js';
import { VOLUME_SYNC_MS } from '../../../dataplane/node/runtime/pod-volume-sync.js';
import { fakeClock } from '../../support/fake-clock.js';
import { container, FAST, logText, podOf, runPod, stopAll, waitFor } from './helpers.js';

// This file's addresses: 127.53.7.0/24.
const scratch = mkdtempSync(join(tmpdir(), 'knet-volumes-'));
afterAll(async () => {
  await stopAll();
  rmSync(scratch, { recursive: true, force: true });
});

const configMap: ConfigMap = { metadata: { namespace: 'default', name: 'app' }, data: { 'app.conf': 'mode=a\n', other: 'x' } };
const secret: Secret = { metadata: { namespace: 'default', name: 'creds' }, data: { password: Buffer.from('hunter2').toString('base64') } };

const mounts = [
  { name: 'info', mountPath: '/etc/downward' },
  { name: 'conf', mountPath: '/etc/config' },
  { name: 'conf', mountPath: '/etc/app.conf', subPath: 'app.conf' },
  { name: 'creds', mountPath: '/etc/creds' },
  { name: 'maybe', mountPath: '/etc/maybe' },
  { name: 'scratch', mountPath: '/data' },
  { name: 'proj', mountPath: '/etc/proj' },
];
const FILES = 'etc/downward/labels etc/downward/cpu etc/config/app.conf etc/app.conf etc/creds/password data/shared.txt etc/proj/other etc/proj/name';

const spec: Pod['spec'] = {
  initContainers: [{ name: 'fill', image: 'python:3.12', command: ['sh', '-c', 'echo from-init > "$KNET_VOLUMES_DIR/data/shared.txt"'], volumeMounts: [{ name: 'scratch', mountPath: '/data' }] }],
  containers: [
    {
      name: 'main',
      image: 'python:3.12',
      resources: { requests: { cpu: '250m' } },
      command: ['sh', '-c', `cd "$KNET_VOLUMES_DIR" && for f in ${FILES}; do echo "$f=$(cat $f | tr '\\n' ' ')"; done; echo "mode=$(stat -L -c %a etc/creds/password)"; echo "maybe=$(ls etc/maybe | wc -l)"; exec sleep 600`],
      volumeMounts: mounts,
    },
    { name: 'shell', image: 'busybox:1.36', command: ['sleep', 'infinity'], volumeMounts: mounts },
  ],
  volumes: [
    { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'cpu', resourceFieldRef: { containerName: 'main', resource: 'requests.cpu', divisor: '1m' } }] } },
    { name: 'conf', configMap: { name: 'app', items: [{ key: 'app.conf', path: 'app.conf' }] } },
    { name: 'creds', secret: { secretName: 'creds', defaultMode: 0o400 } },
    { name: 'maybe', secret: { secretName: 'absent', optional: true } },
    { name: 'scratch', emptyDir: {} },
    { name: 'proj', projected: { sources: [{ configMap: { name: 'app', items: [{ key: 'other', path: 'other' }] } }, { downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } }] } },
  ],
};

describe('volumes of a pod with a program and an emulated image', () => {
  const clock = fakeClock();
  const volumesDir = join(scratch, 'pods', 'uid-vol-0');
  let current: Pod = podOf('vol-0', spec, { labels: { app: 'demo' } });
  const pod = runPod(current, '127.53.7.2', { configMaps: [configMap], secrets: [secret] }, FAST, { volumesDir, clock, currentPod: () => current });
  const root = join(volumesDir, 'mounts', 'main');
  const shellCat = async (path: string) => {
    const shell = current.spec!.containers[1] as Container;
    return (await runShellCommand(pod.handle.sandbox!, shell, new Map(), ['cat', path], 5000)).output;
  };

  it('gives the program its mounts under $KNET_VOLUMES_DIR', async () => {
    const log = await waitFor('the program to print its files', () => {
      const t = logText(pod, 'main');
      return t.includes('maybe=') ? t : undefined;
    });
    expect(log).toBe(
      [
        'etc/downward/labels=app="demo"',
        'etc/downward/cpu=250',
        'etc/config/app.conf=mode=a ',
        'etc/app.conf=mode=a ',
        'etc/creds/password=hunter2',
        'data/shared.txt=from-init ',
        'etc/proj/other=x',
        'etc/proj/name=vol-0',
        'mode=400',
        'maybe=0',
        '',
      ].join('\n'),
    );
    await waitFor('main running', () => container(pod.latest(), 'main').state?.running);
  });

  it('lays volumes out as the kubelet does: ..data and links for the atomic writer, a copy for subPath', () => {
    const conf = join(volumesDir, 'volumes', 'kubernetes.io~configmap', 'conf');
    expect(readdirSync(conf).filter((n) => !n.startsWith('..2')).sort()).toEqual(['..data', 'app.conf']);
    expect(readlinkSync(join(conf, 'app.conf'))).toBe('..data/app.conf');
    expect(lstatSync(join(root, 'etc', 'config')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(root, 'etc', 'app.conf')).isFile()).toBe(true);
    expect((statSync(join(volumesDir)).mode & 0o777).toString(8)).toBe('700');
  });

  it('the emulated image sees the same files at its mount paths', async () => {
    expect(await shellCat('/etc/config/app.conf')).toBe('mode=a\n');
    expect(await shellCat('/etc/downward/labels')).toBe('app="demo"');
    // A pod with programs keeps its emptyDir on disk: the emulated image shares it.
    expect(await shellCat('/data/shared.txt')).toBe('from-init\n');
  });

  it('follows a ConfigMap change and a label change at the next volume sync, never in a subPath', async () => {
    configMap.data!['app.conf'] = 'mode=b\n';
    current = { ...current, metadata: { ...current.metadata, labels: { app: 'demo', tier: 'fe' } } };
    // Not before the sync period is over.
    clock.advance(VOLUME_SYNC_MS - 1);
    expect(readFileSync(join(root, 'etc', 'config', 'app.conf'), 'utf8')).toBe('mode=a\n');
    clock.advance(1);
    expect(readFileSync(join(root, 'etc', 'config', 'app.conf'), 'utf8')).toBe('mode=b\n');
    expect(readFileSync(join(root, 'etc', 'downward', 'labels'), 'utf8')).toBe('app="demo"\ntier="fe"');
    expect(readFileSync(join(root, 'etc', 'app.conf'), 'utf8')).toBe('mode=a\n');
    await waitFor('the emulated image to see the change', async () => (await shellCat('/etc/config/app.conf')) === 'mode=b\n');
    expect(await shellCat('/etc/app.conf')).toBe('mode=a\n');
    expect(await shellCat('/etc/downward/labels')).toBe('app="demo"\ntier="fe"');
  });

  it('renders at once when asked (a refreshed token), and the period starts over', () => {
    // Half a period in: the timer armed at the last sync has not fired yet.
    clock.advance(VOLUME_SYNC_MS / 2);
    configMap.data!['app.conf'] = 'mode=c\n';
    pod.handle.refreshVolumes();
    expect(readFileSync(join(root, 'etc', 'config', 'app.conf'), 'utf8')).toBe('mode=c\n');
    configMap.data!['app.conf'] = 'mode=d\n';
    clock.advance(VOLUME_SYNC_MS - 1);
    expect(readFileSync(join(root, 'etc', 'config', 'app.conf'), 'utf8')).toBe('mode=c\n');
    clock.advance(1);
    expect(readFileSync(join(root, 'etc', 'config', 'app.conf'), 'utf8')).toBe('mode=d\n');
  });
});

describe('a pod without programs', () => {
  it('writes nothing to disk: its emulated images have their files in the simulated shell', async () => {
    const volumesDir = join(scratch, 'pods', 'uid-vol-1');
    const p = runPod(podOf('vol-1', { containers: [{ name: 'shell', image: 'busybox:1.36', command: ['sleep', 'infinity'], volumeMounts: [{ name: 'conf', mountPath: '/etc/config' }] }], volumes: [{ name: 'conf', configMap: { name: 'app' } }] }), '127.53.7.3', { configMaps: [configMap] }, FAST, { volumesDir, clock: fakeClock() });
    await waitFor('running', () => container(p.latest()).state?.running);
    expect(existsSync(volumesDir)).toBe(false);
  });
});
