/**
 * Container logs and volumes on a real cluster, driven by the real kubectl (`kubectl exec` as the
 * seed notes write it, and `knet exec`, which reaches the node directly):
 *   - `kubectl logs -f` streams a run and ends when that run ends; `--previous` then shows it;
 *     `--timestamps`, `--tail`, `--since`, `--since-time`, `--limit-bytes`, `-c`, with kubectl's
 *     and the kubelet's error texts;
 *   - the downward-API examples of "Kubernetes in Action" (`downward`: `ls -1L /etc/downward`;
 *     `downward-env`: `env`), a ConfigMap update that reaches the mounted file and not the env
 *     var (in an emulated image and in a real program, through $KNET_VOLUMES_DIR), and a pod
 *     waiting in ContainerCreating with FailedMount for a missing ConfigMap.
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KnetCluster } from '../../dataplane/index.js';
import { knetExec as runKnetExec } from '../support/knet-cli.js';
import { kubectl, kubectlStream } from '../support/kubectl.js';
import { kubectlCluster } from '../support/kubectl-cluster.js';

/** Ticks until told to stop (`touch /tmp/stop`, which a restart forgets), then exits 3. */
const TICKER = `
apiVersion: v1
kind: Pod
metadata: { name: ticker }
spec:
  containers:
  - name: ticker
    image: busybox:1.36
    command: [sh, -c, 'echo "run begins"; n=0; while [ ! -f /tmp/stop ]; do n=$((n+1)); echo "tick $n"; sleep 0.2; done; echo "run ends" >&2; exit 3']
`;

/** Kubernetes in Action, chapter 8: the Downward API as files (downward-api-volume.yaml). */
const DOWNWARD = `
apiVersion: v1
kind: Pod
metadata:
  name: downward
  labels:
    foo: bar
  annotations:
    key1: value1
    key2: |
      multi
      line
      value
spec:
  containers:
  - name: main
    image: busybox
    command: ["sleep", "9999999"]
    resources:
      requests:
        cpu: 15m
        memory: 100Ki
      limits:
        cpu: 100m
        memory: 4Mi
    volumeMounts:
    - name: downward
      mountPath: /etc/downward
  volumes:
  - name: downward
    downwardAPI:
      items:
      - path: "podName"
        fieldRef:
          fieldPath: metadata.name
      - path: "podNamespace"
        fieldRef:
          fieldPath: metadata.namespace
      - path: "labels"
        fieldRef:
          fieldPath: metadata.labels
      - path: "annotations"
        fieldRef:
          fieldPath: metadata.annotations
      - path: "containerCpuRequestMilliCores"
        resourceFieldRef:
          containerName: main
          resource: requests.cpu
          divisor: 1m
      - path: "containerMemoryLimitBytes"
        resourceFieldRef:
          containerName: main
          resource: limits.memory
          divisor: 1
`;

/** Kubernetes in Action, chapter 8: the Downward API as environment variables (downward-api-env.yaml). */
const DOWNWARD_ENV = `
apiVersion: v1
kind: Pod
metadata:
  name: downward-env
spec:
  containers:
  - name: main
    image: busybox
    command: ["sleep", "9999999"]
    resources:
      requests:
        cpu: 15m
        memory: 100Ki
      limits:
        cpu: 100m
        memory: 4Mi
    env:
    - name: POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
    - name: POD_NAMESPACE
      valueFrom:
        fieldRef:
          fieldPath: metadata.namespace
    - name: POD_IP
      valueFrom:
        fieldRef:
          fieldPath: status.podIP
    - name: NODE_NAME
      valueFrom:
        fieldRef:
          fieldPath: spec.nodeName
    - name: SERVICE_ACCOUNT
      valueFrom:
        fieldRef:
          fieldPath: spec.serviceAccountName
    - name: CONTAINER_CPU_REQUEST_MILLICORES
      valueFrom:
        resourceFieldRef:
          resource: requests.cpu
          divisor: 1m
    - name: CONTAINER_MEMORY_LIMIT_KIBIBYTES
      valueFrom:
        resourceFieldRef:
          resource: limits.memory
          divisor: 1Ki
`;

/** A ConfigMap as a file and as an env var, in an emulated image and in a real program. */
const CONFIG = `
apiVersion: v1
kind: ConfigMap
metadata: { name: app }
data: { mode: a }
---
apiVersion: v1
kind: Pod
metadata: { name: cfg-shell }
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: [sleep, infinity]
    env: [{ name: MODE, valueFrom: { configMapKeyRef: { name: app, key: mode } } }]
    volumeMounts: [{ name: config, mountPath: /etc/config }]
  volumes: [{ name: config, configMap: { name: app } }]
---
apiVersion: v1
kind: Pod
metadata: { name: cfg-program }
spec:
  containers:
  - name: main
    image: debian:12-slim
    command: [sh, -c, 'while true; do echo "file=$(cat "$KNET_VOLUMES_DIR/etc/config/mode") env=$MODE"; sleep 0.2; done']
    env: [{ name: MODE, valueFrom: { configMapKeyRef: { name: app, key: mode } } }]
    volumeMounts: [{ name: config, mountPath: /etc/config }]
  volumes: [{ name: config, configMap: { name: app } }]
`;

const MULTI = `
apiVersion: v1
kind: Pod
metadata: { name: multi }
spec:
  initContainers:
  - { name: prep, image: busybox:1.36, command: [sh, -c, 'echo prepared'] }
  containers:
  - { name: first, image: busybox:1.36, command: [sh, -c, 'echo from first; sleep 3600'] }
  - { name: second, image: busybox:1.36, command: [sh, -c, 'echo from second; sleep 3600'] }
`;

let cluster: KnetCluster;
let env: NodeJS.ProcessEnv;
const { ok } = kubectlCluster({ manifests: [TICKER, DOWNWARD, DOWNWARD_ENV, CONFIG, MULTI].join('\n---\n') }, { started: (k) => ({ cluster, env } = k), timeoutMs: 120_000 });

/** `knet exec …` through the CLI: its exit code, stdout and stderr. */
const knetExec = (...args: string[]) => runKnetExec(cluster, args);

const restarts = async (name: string) => (await cluster.get<Pod>('pod', name))?.status?.containerStatuses?.[0];
const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /;

describe('kubectl logs', () => {
  it('says there is no previous run before the first restart', async () => {
    const r = await kubectl(env, ['logs', 'ticker', '--previous']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error from server (BadRequest): previous terminated container "ticker" in pod "ticker" not found\n');
  });

  it('-f streams a run and ends when the run ends; --previous then shows that run, the plain log the new one', async () => {
    const follow = kubectlStream(env, ['logs', '-f', 'ticker']);
    const ended = new Promise<number | null>((resolve) => follow.child.on('exit', (code) => resolve(code)));
    await follow.waitForLine((l) => l === 'tick 3');
    expect(follow.lines[0]).toBe('run begins');
    const stopped = await knetExec('ticker', '--', 'touch', '/tmp/stop');
    expect(stopped.code).toBe(0);
    // -f ends by itself once the run has ended and everything it wrote has been sent.
    expect(await ended).toBe(0);
    expect(follow.lines.at(-1)).toBe('run ends');
    const firstRun = follow.lines;

    const now = await cluster.waitFor(async () => {
      const s = await restarts('ticker');
      return s?.restartCount === 1 && s.state?.running ? s : undefined;
    }, 'the restart');
    expect(now.lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    const previous = await ok('logs', 'ticker', '--previous');
    expect(previous.split('\n').slice(0, firstRun.length)).toEqual(firstRun);
    expect(previous.trimEnd().split('\n').at(-1)).toBe('run ends');
    const current = await ok('logs', 'ticker');
    expect(current.startsWith('run begins\ntick 1\n')).toBe(true);
    expect(current).not.toContain('run ends');
  });

  it('--timestamps prefixes each line with its time, nine fraction digits; --since-time keeps what came after', async () => {
    const begun = Date.parse((await ok('logs', 'ticker', '--timestamps', '--tail=-1')).slice(0, 23) + 'Z');
    // kubectl sends --since-time in whole seconds: a second boundary after the run began, and ticks past it.
    const boundary = new Date(Math.floor(begun / 1000) * 1000 + 1000);
    await cluster.waitFor(async () => Date.parse((await ok('logs', 'ticker', '--timestamps', '--tail=1')).slice(0, 23) + 'Z') > boundary.getTime() + 500, 'ticks past the next second');
    const stamped = (await ok('logs', 'ticker', '--timestamps')).trimEnd().split('\n');
    expect(stamped.every((l) => STAMP.test(l))).toBe(true);
    expect(stamped[0]!.slice(31)).toBe('run begins');
    const after = (await ok('logs', 'ticker', '--timestamps', `--since-time=${boundary.toISOString().replace('.000Z', 'Z')}`)).trimEnd().split('\n');
    const expected = stamped.filter((l) => l.slice(0, 30) >= boundary.toISOString().replace('.000Z', '.000000000Z'));
    expect(after.length).toBeGreaterThan(0);
    expect(after.slice(0, expected.length)).toEqual(expected);
    expect(after.join('\n')).not.toContain('run begins');
  });

  it('--tail, --limit-bytes and --since cut the log', async () => {
    expect((await ok('logs', 'ticker', '--tail=2')).trimEnd().split('\n')).toHaveLength(2);
    expect(await ok('logs', 'ticker', '--tail=1', '--limit-bytes=3')).toBe('tic');
    const begun = (await ok('logs', 'ticker', '--timestamps', '--tail=-1')).split('\n')[0]!;
    const begunAt = Date.parse(begun.slice(0, 23) + 'Z');
    // A line more than a second younger than the run's first: --since=1s no longer has that one.
    await cluster.waitFor(async () => {
      const last = (await ok('logs', 'ticker', '--timestamps', '--tail=1')).slice(0, 23) + 'Z';
      return Date.parse(last) > begunAt + 2500 && Date.now() > begunAt + 2500;
    }, 'a tick 2.5 s after the run began');
    const recent = (await ok('logs', 'ticker', '--since=1s')).trimEnd().split('\n').filter((l) => l !== '');
    expect(recent.every((l) => /^tick \d+$/.test(l))).toBe(true);
    expect(recent.length).toBeLessThan((await ok('logs', 'ticker')).trimEnd().split('\n').length);
    expect(await ok('logs', 'ticker', '--since=1h')).toContain('run begins\n');
  });

  it('picks the first container and says so, takes -c, and refuses a container the pod has not', async () => {
    await cluster.waitFor(async () => (await restarts('multi'))?.state?.running, 'multi running');
    await cluster.waitFor(async () => (await kubectl(env, ['logs', 'multi'])).stdout === 'from first\n', 'first logged');
    const r = await kubectl(env, ['logs', 'multi']);
    expect(r.stderr).toBe('Defaulted container "first" out of: first, second, prep (init)\n');
    expect(await ok('logs', 'multi', '-c', 'second')).toBe('from second\n');
    expect(await ok('logs', 'multi', '-c', 'prep')).toBe('prepared\n');
    const bad = await kubectl(env, ['logs', 'multi', '-c', 'nope']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('error: container nope is not valid for pod multi\n');
  });
});

describe('volumes', () => {
  it("the downward-API volume of Kubernetes in Action: ls -1L /etc/downward and the files' contents", async () => {
    await cluster.waitFor(async () => (await restarts('downward'))?.state?.running, 'downward running');
    const ls = await knetExec('downward', '--', 'ls', '-1L', '/etc/downward');
    expect(ls).toMatchObject({ code: 0, stdout: 'annotations\ncontainerCpuRequestMilliCores\ncontainerMemoryLimitBytes\nlabels\npodName\npodNamespace\n' });
    const cat = async (f: string) => (await knetExec('downward', '--', 'cat', `/etc/downward/${f}`)).stdout;
    expect(await cat('podName')).toBe('downward');
    expect(await cat('podNamespace')).toBe('default');
    expect(await cat('labels')).toBe('foo="bar"');
    expect(await cat('annotations')).toContain('key1="value1"\nkey2="multi\\nline\\nvalue\\n"');
    expect(await cat('containerCpuRequestMilliCores')).toBe('15');
    expect(await cat('containerMemoryLimitBytes')).toBe('4194304');
  });

  it('the downward-API env of Kubernetes in Action: kubectl exec downward-env env (through knet exec)', async () => {
    await cluster.waitFor(async () => (await restarts('downward-env'))?.state?.running, 'downward-env running');
    const pod = (await cluster.get<Pod>('pod', 'downward-env'))!;
    const out = (await knetExec('downward-env', '--', 'env')).stdout.split('\n');
    expect(out).toEqual(
      expect.arrayContaining([
        'POD_NAME=downward-env',
        'POD_NAMESPACE=default',
        `POD_IP=${pod.status!.podIP}`,
        `NODE_NAME=${pod.spec!.nodeName}`,
        'CONTAINER_CPU_REQUEST_MILLICORES=15',
        'CONTAINER_MEMORY_LIMIT_KIBIBYTES=4096',
      ]),
    );
    // spec.serviceAccountName: "default" once ServiceAccounts are admitted; the variable is there either way.
    expect(out.some((l) => l.startsWith('SERVICE_ACCOUNT='))).toBe(true);
  });

  it('a ConfigMap update reaches the mounted file within the volume sync, not the env var', async () => {
    await cluster.waitFor(async () => (await ok('logs', 'cfg-program', '--tail=1')) === 'file=a env=a\n', 'the program reading its file');
    await cluster.waitFor(async () => (await restarts('cfg-shell'))?.state?.running, 'cfg-shell running');
    expect((await knetExec('cfg-shell', '--', 'cat', '/etc/config/mode')).stdout).toBe('a');
    await ok('patch', 'configmap', 'app', '--type=merge', '-p', '{"data":{"mode":"b"}}');
    // The emulated image: the file follows, the variable does not.
    await cluster.waitFor(async () => (await knetExec('cfg-shell', '--', 'cat', '/etc/config/mode')).stdout === 'b', 'the emulated image to see mode=b');
    expect((await knetExec('cfg-shell', '--', 'printenv', 'MODE')).stdout).toBe('a\n');
    // The program: the same through $KNET_VOLUMES_DIR.
    await cluster.waitFor(async () => (await ok('logs', 'cfg-program', '--tail=1')) === 'file=b env=a\n', 'the program to read mode=b');
  });

  it('a missing ConfigMap keeps the pod in ContainerCreating with a FailedMount event, until it exists', async () => {
    await cluster.apply(
      `
apiVersion: v1
kind: Pod
metadata: { name: needs-config }
spec:
  containers:
  - { name: main, image: busybox:1.36, command: [sleep, infinity], volumeMounts: [{ name: c, mountPath: /etc/c }] }
  volumes: [{ name: c, configMap: { name: later } }]
`,
      { wait: false },
    );
    await cluster.waitFor(async () => (await ok('get', 'pod', 'needs-config')).includes('ContainerCreating'), 'ContainerCreating');
    await cluster.waitFor(async () => (await ok('describe', 'pod', 'needs-config')).match(/Warning\s+FailedMount\s+.*MountVolume\.SetUp failed for volume "c" : configmap "later" not found/), 'the FailedMount event');
    const logs = await kubectl(env, ['logs', 'needs-config']);
    expect(logs.stderr).toBe('Error from server (BadRequest): container "main" in pod "needs-config" is waiting to start: ContainerCreating\n');
    await ok('create', 'configmap', 'later', '--from-literal=k=v');
    await cluster.waitForReady('pod/needs-config');
    expect((await knetExec('needs-config', '--', 'cat', '/etc/c/k')).stdout).toBe('v');
  });
});

// The seed notes' own commands, through the API (pods/exec).
describe('kubectl exec into the same pods', () => {
  it('kubectl exec downward -- ls -1L /etc/downward (the old form without -- is kubectl\'s own error)', async () => {
    const listing = 'annotations\ncontainerCpuRequestMilliCores\ncontainerMemoryLimitBytes\nlabels\npodName\npodNamespace\n';
    expect(await ok('exec', 'downward', '--', 'ls', '-1L', '/etc/downward')).toBe(listing);
    // `kubectl exec downward ls -1L /etc/downward`, as the seed notes write it, is refused by kubectl 1.32 itself
    // (it parses -1L as its own flag; without flags it says the form is gone).
    const old = await kubectl(env, ['exec', 'downward', 'ls', '-1L', '/etc/downward']);
    expect(old).toMatchObject({ code: 1, stderr: expect.stringContaining("unknown shorthand flag: '1' in -1L") });
    const older = await kubectl(env, ['exec', 'downward', 'ls']);
    expect(older).toMatchObject({ code: 1, stderr: expect.stringContaining('exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead') });
  });
  it('kubectl exec downward-env -- env', async () => {
    expect(await ok('exec', 'downward-env', '--', 'env')).toContain('CONTAINER_MEMORY_LIMIT_KIBIBYTES=4096');
  });
  it('kubectl exec cfg-shell -- cat /etc/config/mode after a ConfigMap update; printenv MODE unchanged', async () => {
    await ok('patch', 'configmap', 'app', '--type=merge', '-p', '{"data":{"mode":"c"}}');
    await cluster.waitFor(async () => (await ok('exec', 'cfg-shell', '--', 'cat', '/etc/config/mode')) === 'c', 'mode=c in the file');
    expect(await ok('exec', 'cfg-shell', '--', 'printenv', 'MODE')).toBe('a\n');
  });
});
