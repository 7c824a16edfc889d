/**
 * The DNS on the command line, with the built CLI:
 * - `knet dns --no-forward --log-queries` as its own process against a running cluster. Run
 *   as `nobody` where root may switch users: port 53 is refused (EACCES), so it says so once
 *   with the fixes and serves on 5353, and `knet get`/`describe` show the port in use on the
 *   kube-dns Service (knet.dev/dns-port).
 * - `knet up --upstream … --log-queries` (one process per component): the flags become the
 *   cluster's settings, so the `knet dns` child forwards to that resolver and logs queries to
 *   its log file.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEntry } from '../../dataplane/cluster/cluster.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { dig } from '../component/dns/support.js';
import { startUpstreamResolver, type UpstreamResolver } from '../component/dns/upstream-resolver.js';

const exec = promisify(execFile);
const NOBODY = 65534;
const UPSTREAM = '127.50.0.32';

async function knet(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [cliEntry(), ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Why `knet dns` cannot be run as nobody here (then it runs as us, and port 53 may just work). */
function nobodySkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: cannot start a process as nobody';
  try {
    if (Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')) <= 53) return 'unprivileged users may bind port 53 here';
  } catch {
    return 'not Linux';
  }
  const probe = spawnSync(process.execPath, ['-e', `require('fs').readFileSync(${JSON.stringify(cliEntry())})`], { uid: NOBODY, gid: NOBODY });
  return probe.status === 0 ? undefined : 'the build is not readable by nobody';
}

describe('knet dns in its own process', () => {
  const asNobody = nobodySkipReason() === undefined;
  let cluster: KnetCluster;
  let child: ChildProcess;
  let emptyStateDir: string;
  let stdout = '';
  let stderr = '';
  let port = 0;
  const globals = () => ['--cluster', cluster.name, '--state-dir', path.dirname(cluster.stateDir)];

  beforeAll(async () => {
    cluster = await startCluster({ components: { dns: false, ingress: false, proxy: false } });
    const { redisUrl } = JSON.parse(readFileSync(path.join(cluster.stateDir, 'cluster.json'), 'utf8')) as { redisUrl: string };
    // The cluster's state dir is private to us: the process finds the store through --redis.
    emptyStateDir = mkdtempSync(path.join(os.tmpdir(), 'knet-dns-cli-'));
    chmodSync(emptyStateDir, 0o755);
    child = spawn(
      process.execPath,
      [cliEntry(), 'dns', '--redis', redisUrl, '--cluster', cluster.name, '--state-dir', emptyStateDir, '--no-forward', '--log-queries'],
      { stdio: ['ignore', 'pipe', 'pipe'], ...(asNobody ? { uid: NOBODY, gid: NOBODY } : {}) },
    );
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`knet dns exited with ${code}: ${stderr}`))));
    await Promise.race([
      cluster.waitFor(() => /"msg":"component started"/.test(stderr), 'knet dns to start', 30_000, async () => stderr),
      exited,
    ]);
    const started = stderr.split('\n').find((l) => l.includes('"component started"'))!;
    port = (JSON.parse(started) as { port: number }).port;
  }, 90_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    await cluster?.close();
    if (emptyStateDir) rmSync(emptyStateDir, { recursive: true, force: true });
  });

  it.runIf(asNobody)('without privilege for port 53: one warning with the fixes, then the fallback port 5353', () => {
    expect(port).toBe(5353);
    const warnings = stderr.split('\n').filter((l) => l.includes('"level":"warn"'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/:53 \(permission denied\): serving DNS on 127\.[\d.]+:5353 instead \(dig -p 5353\).*sudo.*ip_unprivileged_port_start=0.*setcap cap_net_bind_service/);
  });

  it('answers on the port it reports, and the kube-dns Service says which port that is', async () => {
    const r = await dig({ address: cluster.config.dnsServiceIP, port }, ['kubernetes.default.svc.cluster.local']);
    expect(r.answer).toEqual([`kubernetes.default.svc.cluster.local. 30 IN A ${cluster.config.kubernetesServiceIP}`]);
    const yaml = await knet(['get', 'svc', '-n', 'kube-system', 'kube-dns', '-o', 'yaml', ...globals()]);
    expect(yaml.stdout).toContain(`knet.dev/dns-port: "${port}"`);
    const described = await knet(['describe', 'svc', 'kube-dns', '-n', 'kube-system', ...globals()]);
    expect(described.stdout).toMatch(new RegExp(`knet\\.dev/dns-port: ${port}$`, 'm'));
  });

  it('--no-forward: a name outside the zone is REFUSED at once', async () => {
    const r = await dig({ address: cluster.config.dnsServiceIP, port }, ['example.com']);
    expect(r.status).toBe('REFUSED');
  });

  it('--log-queries: one CoreDNS-style line per query on stdout', async () => {
    await dig({ address: cluster.config.dnsServiceIP, port }, ['+tcp', 'nope.default.svc.cluster.local', 'AAAA']);
    await cluster.waitFor(() => stdout.includes('nope.default.svc.cluster.local'), 'the query log line', 5000, async () => stdout);
    expect(stdout).toMatch(/^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN kubernetes\.default\.svc\.cluster\.local\. udp \d+ false 1232" NOERROR qr,aa,rd \d+ [\d.]+s$/m);
    expect(stdout).toMatch(/^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "AAAA IN nope\.default\.svc\.cluster\.local\. tcp \d+ false 65535" NXDOMAIN qr,aa,rd \d+ [\d.]+s$/m);
  });

  it('rejects contradicting flags before connecting anywhere', async () => {
    const r = await knet(['dns', '--upstream', '127.0.0.1', '--no-forward', '--state-dir', emptyStateDir, '--cluster', 'none']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: --upstream 127.0.0.1 and --no-forward contradict each other: give one\n');
  });
});

describe('knet up --upstream --log-queries', () => {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'knet-dns-up-'));
  const name = `dnsup${process.pid}`;
  const globals = ['--state-dir', stateDir, '--cluster', name];
  let upstream: UpstreamResolver;
  let up: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    upstream = await startUpstreamResolver(UPSTREAM);
    up = await knet(['up', '--detach', '--nodes', '1', '--no-ingress', '--no-proxy', '--upstream', UPSTREAM, '--log-queries', ...globals]);
  }, 180_000);

  afterAll(async () => {
    await knet(['down', ...globals]);
    await upstream?.close();
    rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  it('stores the flags as cluster settings; the dns process forwards there and logs each query to its log', async () => {
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const dnsLog = path.join(stateDir, name, 'logs', 'dns.log');
    expect(up.stdout).toContain(`DNS queries are logged to ${dnsLog}`);
    const { config } = JSON.parse(readFileSync(path.join(stateDir, name, 'cluster.json'), 'utf8')) as { config: { dnsServiceIP: string; dnsUpstream: string; dnsLogQueries: boolean } };
    expect(config).toMatchObject({ dnsUpstream: UPSTREAM, dnsLogQueries: true });
    const r = await dig({ address: config.dnsServiceIP, port: 53 }, ['example.test']);
    expect(r.answer).toEqual(['example.test. 300 IN A 192.0.2.1']);
    expect(upstream.asked).toContainEqual({ name: 'example.test', type: 1, transport: 'udp' });
    const logged = () => (existsSync(dnsLog) ? readFileSync(dnsLog, 'utf8') : '');
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 5000;
      const check = () => (/"A IN example\.test\. udp/.test(logged()) ? resolve() : Date.now() > deadline ? reject(new Error(`no query line in ${dnsLog}:\n${logged()}`)) : setTimeout(check, 50));
      check();
    });
    expect(logged()).toMatch(/^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN example\.test\. udp \d+ false 1232" NOERROR qr,rd,ra \d+ [\d.]+s$/m);
  });
});
