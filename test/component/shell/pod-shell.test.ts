/**
 * The simulated shell of an emulated container, without a cluster: the pod's files, its
 * environment, busybox's messages and exit codes, stdin, state kept between lines, loops that
 * stream their output as they go.
 */
import { describe, expect, it } from 'vitest';
import type { ConfigMap, Container, Pod } from 'kubernetes-types/core/v1.js';
import { PodSandbox } from '../../../dataplane/node/shell/pod-sandbox.js';
import { runInSandbox } from './run-in-sandbox.js';
import { openShell } from '../../../dataplane/node/shell/pod-shell.js';
import { admitServiceAccount } from '../../../dataplane/base/admission/service-account.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const configMaps: ConfigMap[] = [
  { metadata: { namespace: 'shop', name: 'app' }, data: { 'app.conf': 'mode=a\n', other: 'x' } },
  { metadata: { namespace: 'shop', name: 'kube-root-ca.crt' }, data: { 'ca.crt': CA } },
];
const declared: Container = {
  name: 'client',
  image: 'busybox:1.36',
  env: [{ name: 'GREETING', value: 'hello' }],
  volumeMounts: [
    { name: 'conf', mountPath: '/etc/app' },
    { name: 'info', mountPath: '/etc/downward' },
    { name: 'scratch', mountPath: '/scratch' },
  ],
};
// As the apiserver stores it: the ServiceAccount admission plugin added the kube-api-access volume.
const pod: Pod = admitServiceAccount({
  metadata: { name: 'client', namespace: 'shop', uid: 'u1', labels: { app: 'client', tier: 'fe' } },
  spec: {
    containers: [declared],
    hostAliases: [{ ip: '127.60.0.9', hostnames: ['legacy.example', 'legacy'] }],
    volumes: [
      { name: 'conf', configMap: { name: 'app', items: [{ key: 'app.conf', path: 'app.conf', mode: 0o600 }] } },
      { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
      { name: 'scratch', emptyDir: {} },
    ],
  },
}, undefined, 'kube-api-access-test');
const container = pod.spec!.containers[0]!;

function sandbox(): PodSandbox {
  return new PodSandbox({
    pod,
    podIP: '127.244.1.7',
    hostIP: '127.18.0.2',
    cluster: { clusterDomain: 'cluster.local', dnsServiceIP: '127.96.0.10', dnsPort: () => 53, nodeResolvConf: { nameservers: ['10.0.0.2'], searches: ['corp.example'], options: [] } },
    lookup: { secret: () => undefined, configMap: (ns, name) => configMaps.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name) },
    serviceAccounts: { token: (p, aud, exp) => `token-for-${p.metadata?.name}-${aud ?? 'api'}-${exp}` },
  });
}

async function run(box: PodSandbox, argv: string[], stdin?: string | Buffer): Promise<{ stdout: string; stderr: string; status: number }> {
  const r = await runBytes(box, argv, stdin);
  return { stdout: r.stdout.toString(), stderr: r.stderr, status: r.status };
}

async function runBytes(box: PodSandbox, argv: string[], stdin?: string | Buffer): Promise<{ stdout: Buffer; stderr: string; status: number }> {
  return runInSandbox(box, container, new Map([['GREETING', 'hello'], ['HOSTNAME', 'client']]), argv, stdin);
}

describe('the shell of an emulated container', () => {
  it('holds the resolv.conf, hosts and hostname the kubelet writes', async () => {
    const box = sandbox();
    expect((await run(box, ['cat', '/etc/resolv.conf'])).stdout).toBe('search shop.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 127.96.0.10\noptions ndots:5\n');
    const hosts = (await run(box, ['cat', '/etc/hosts'])).stdout;
    expect(hosts).toContain('127.244.1.7\tclient\n');
    expect(hosts).toContain('# Entries added by HostAliases.\n127.60.0.9\tlegacy.example\tlegacy\n');
    expect(await run(box, ['hostname'])).toEqual({ stdout: 'client\n', stderr: '', status: 0 });
    expect((await run(box, ['cat', '/etc/hostname'])).stdout).toBe('client\n');
  });

  it('shows exactly the container environment in env and printenv', async () => {
    const box = sandbox();
    expect(await run(box, ['printenv', 'GREETING'])).toEqual({ stdout: 'hello\n', stderr: '', status: 0 });
    expect((await run(box, ['printenv', 'NOPE'])).status).toBe(1);
    const env = (await run(box, ['env'])).stdout.trim().split('\n').map((l) => l.split('=')[0]);
    expect(env.sort()).toEqual(['GREETING', 'HOME', 'HOSTNAME', 'PATH']);
  });

  it('fails an unknown command as busybox sh does, and passes exit codes through', async () => {
    const box = sandbox();
    expect(await run(box, ['sh', '-c', 'foo'])).toEqual({ stdout: '', stderr: 'sh: foo: not found\n', status: 127 });
    expect((await run(box, ['sh', '-c', 'exit 3'])).status).toBe(3);
    expect((await run(box, ['sh', '-c', 'echo a; exit 4; echo b'])).stdout).toBe('a\n');
  });

  it('gives stdin to the command', async () => {
    const box = sandbox();
    expect((await run(box, ['cat'], 'one\ntwo\n')).stdout).toBe('one\ntwo\n');
    expect((await run(box, ['sh', '-c', 'wc -l'], 'one\ntwo\n')).stdout.trim()).toBe('2');
  });

  it('mounts volumes: configMap items with their mode, downward API files, a shared emptyDir', async () => {
    const box = sandbox();
    expect((await run(box, ['ls', '-1L', '/etc/app'])).stdout).toBe('app.conf\n');
    expect((await run(box, ['cat', '/etc/app/app.conf'])).stdout).toBe('mode=a\n');
    expect((await run(box, ['cat', '/etc/downward/labels'])).stdout).toBe('app="client"\ntier="fe"');
    await run(box, ['sh', '-c', 'echo kept > /scratch/note']);
    expect((await run(box, ['cat', '/scratch/note'])).stdout).toBe('kept\n');
    configMaps[0]!.data!['app.conf'] = 'mode=b\n';
    await box.refreshVolumes();
    expect((await run(box, ['cat', '/etc/app/app.conf'])).stdout).toBe('mode=b\n');
    configMaps[0]!.data!['app.conf'] = 'mode=a\n';
  });

  it('has the service-account files of the kube-api-access volume: token, ca.crt, namespace', async () => {
    const box = sandbox();
    const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
    expect((await run(box, ['ls', dir])).stdout).toBe('ca.crt\nnamespace\ntoken\n');
    expect((await run(box, ['cat', `${dir}/namespace`])).stdout).toBe('shop');
    expect((await run(box, ['cat', `${dir}/ca.crt`])).stdout).toBe(CA);
    expect((await run(box, ['cat', `${dir}/token`])).stdout).toBe('token-for-client-api-3607');
  });

  it('has no service-account files when the pod does not mount them (automountServiceAccountToken: false)', async () => {
    const off = admitServiceAccount({ ...pod, spec: { ...pod.spec!, containers: [declared], volumes: pod.spec!.volumes!.filter((v) => !v.name.startsWith('kube-api-access')), automountServiceAccountToken: false } }, undefined);
    const box = new PodSandbox({ pod: off, podIP: '127.244.1.8', hostIP: '127.18.0.2', cluster: { clusterDomain: 'cluster.local', dnsServiceIP: '127.96.0.10', dnsPort: () => 53, nodeResolvConf: { nameservers: [], searches: [], options: [] } }, lookup: { secret: () => undefined, configMap: () => undefined } });
    const ctx = await box.shellContext(declared, new Map());
    expect(await ctx.fs.exists('/var/run/secrets/kubernetes.io/serviceaccount/token')).toBe(false);
  });

  it("passes a file tool's bytes through unchanged, as kubectl cp's tar needs, with busybox tar's member names", async () => {
    const box = sandbox();
    const ctx = await box.shellContext(container, new Map());
    const data = Buffer.from([0, 0xff, 0x80, 0x0a, 0xc3, 0xa9, 0x0a]);
    await ctx.fs.mkdir('/tmp/src', { recursive: true });
    await ctx.fs.writeFile('/tmp/src/bin', data);
    expect((await runBytes(box, ['cat', '/tmp/src/bin'])).stdout).toEqual(data);
    const packed = await runBytes(box, ['tar', 'cf', '-', '/tmp/src']);
    expect(packed).toMatchObject({ status: 0, stderr: "tar: removing leading '/' from member names\n" });
    const names: string[] = [];
    for (let at = 0; at + 512 <= packed.stdout.length && packed.stdout[at] !== 0; ) {
      const header = packed.stdout.subarray(at, at + 512);
      names.push(header.subarray(0, 100).toString('latin1').replace(/\0.*$/s, ''));
      const size = parseInt(header.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
      at += 512 + Math.ceil(size / 512) * 512;
    }
    expect(names).toEqual(['tmp/src/', 'tmp/src/bin']);
    expect(await runBytes(box, ['tar', '-xmf', '-', '-C', '/scratch'], packed.stdout)).toMatchObject({ status: 0, stderr: '' });
    expect(Buffer.from(await ctx.fs.readFileBuffer('/scratch/tmp/src/bin'))).toEqual(data);
    // Text through stdin stays text for a text tool.
    expect(await run(box, ['tr', 'a-z', 'A-Z'], 'héllo\n')).toEqual({ stdout: 'HéLLO\n', stderr: '', status: 0 });
    expect((await run(box, ['tar', 'cf', '-', '/nowhere'])).status).not.toBe(0);
  });

  it('keeps cwd, variables, functions and $? between lines read from stdin', async () => {
    const script = 'cd /tmp\nexport A=1\nB=2\nf() { echo "f:$1"; }\nfalse\necho "rc=$?"\npwd\necho $A$B\nf x\nsh -c "echo \\$A"\nexit 5\necho never\n';
    expect(await run(sandbox(), ['sh'], script)).toEqual({ stdout: 'rc=1\n/tmp\n12\nf:x\n1\n', stderr: '', status: 5 });
  });

  it('runs a loop one iteration at a time, writing each iteration out as it ends', async () => {
    const box = sandbox();
    const ctx = await box.shellContext(container, new Map());
    const chunks: string[] = [];
    const session = await openShell(ctx, { stdout: (s) => chunks.push(String(s)), stderr: (s) => chunks.push(s) }, new AbortController().signal);
    const r = await session.run('i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo "n=$i"; if [ $i = 2 ]; then continue; fi; echo after; done; for w in a "b c"; do echo "$w"; [ "$w" = a ] && break; done; echo end $i');
    expect(r).toEqual({ exited: false, status: 0 });
    expect(chunks).toEqual(['n=1\n', 'after\n', 'n=2\n', 'n=3\n', 'after\n', 'a\n', 'end 3\n']);
  });

  it('stops a sleeping shell when it is killed', async () => {
    const box = sandbox();
    const ctx = await box.shellContext(container, new Map());
    const kill = new AbortController();
    const session = await openShell(ctx, { stdout: () => {}, stderr: () => {} }, kill.signal);
    const running = session.run('while true; do sleep infinity; done');
    setImmediate(() => kill.abort());
    expect(await running).toEqual({ exited: true, status: 137 });
  });
});
