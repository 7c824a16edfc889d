/**
 * `knet up` / `knet down` on the command line when things go wrong, one process per component:
 *  - manifests that never get ready (a readiness experiment) leave the cluster up: `up --detach`
 *    says what is not ready and why and exits 1; in the foreground it goes on supervising;
 *    `--wait=false` does not wait;
 *  - the nodes are Ready before the manifests go in, so a Deployment spreads from its first pod;
 *  - everything in the cluster's directory is private (0700 / 0600);
 *  - the embedded Redis killed (-9) comes back by itself while the data plane serves, and
 *    commands fail in one line meanwhile; a dead or hung Redis does not hold `knet down`;
 *  - a Redis left running by a killed `knet up` is stopped by the next up or down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { cliEntry } from '../../dataplane/cluster/cluster.js';
import { pidAlive, type ClusterFile } from '../../dataplane/cluster/state-dir.js';
import { parseRedisUrl } from '../../dataplane/base/store/redis-connection.js';
import { killStoreAndHoldPort, storeServes } from '../support/store-outage.js';

const exec = promisify(execFile);
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'knet-reliability-'));
const agnhost = { image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080'], ports: [{ containerPort: 8080 }] };

/** A Deployment of `replicas` and its Service, and (unless left out) a pod whose readiness probe can never pass. */
function manifests(dir: string, replicas: number, neverReady = true): string {
  const docs: object[] = [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'spread' },
      spec: { replicas, selector: { matchLabels: { app: 'spread' } }, template: { metadata: { labels: { app: 'spread' } }, spec: { containers: [{ name: 'web', ...agnhost }] } } },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'spread' }, spec: { selector: { app: 'spread' }, ports: [{ port: 80, targetPort: 8080 }] } },
  ];
  if (neverReady) {
    docs.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'never-ready' },
      spec: { containers: [{ name: 'web', ...agnhost, readinessProbe: { httpGet: { path: '/healthz', port: 9999 }, periodSeconds: 1 } }] },
    });
  }
  writeFileSync(path.join(dir, 'app.yaml'), docs.map((d) => JSON.stringify(d)).join('\n---\n'));
  return dir;
}

function knetIn(cluster: string) {
  return async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await exec(process.execPath, [cliEntry(), ...args, '--state-dir', stateDir, '--cluster', cluster], { timeout: 120_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };
}

const clusterFile = (cluster: string) => JSON.parse(readFileSync(path.join(stateDir, cluster, 'cluster.json'), 'utf8')) as ClusterFile;

/** Every directory and file under `dir` with a mode other than 0700 / 0600. */
function notPrivate(dir: string): string[] {
  const out: string[] = [];
  const mode = (p: string) => statSync(p).mode & 0o777;
  if (mode(dir) !== 0o700) out.push(`${dir} ${mode(dir).toString(8)}`);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...notPrivate(p));
    else if (e.isFile() && mode(p) !== 0o600) out.push(`${p} ${mode(p).toString(8)}`);
  }
  return out;
}

afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

describe('knet up --detach with manifests that never get ready, then the store crashing', () => {
  const cluster = `rel${process.pid}`;
  const knet = knetIn(cluster);
  let up: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    const dir = manifests(mkdtempSync(path.join(stateDir, 'm-')), 4);
    up = await knet('up', '--detach', '-f', dir, '--nodes', '2', '--no-ingress', '--no-dns', '--timeout', '3');
  }, 180_000);
  afterAll(() => knet('down'));

  it('keeps the cluster up, says what is not ready and why, and exits 1', async () => {
    expect(up.code).toBe(1);
    expect(up.stderr).toBe(`error: not ready after 3s: pod/never-ready: Running; the cluster keeps running (details above)\n`);
    expect(up.stdout).toContain('not ready after 3s: pod/never-ready: Running');
    expect(up.stdout).toMatch(/Warning Unhealthy pod\/never-ready: Readiness probe failed: .*:9999.*connection refused/);
    expect(up.stdout).toMatch(new RegExp(`knet cluster "${cluster}" is up: 2 nodes, started in [\\d.]+s; not ready: pod/never-ready: Running`));
    const pods = await knet('get', 'pods');
    expect(pods.stdout).toMatch(/^never-ready\s+0\/1\s+Running/m);
  });

  it('spreads a Deployment applied with up -f over both nodes from its first pod', async () => {
    const wide = await knet('get', 'pods', '-l', 'app=spread', '-o', 'wide');
    const nodes = wide.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[6]);
    expect(nodes.sort()).toEqual(['node-1', 'node-1', 'node-2', 'node-2']);
  });

  it('keeps everything in the cluster directory private: directories 0700, files 0600', () => {
    expect(notPrivate(path.join(stateDir, cluster))).toEqual([]);
  });

  it('restarts the store killed with -9: the data plane serves meanwhile, commands fail in one line, then all works', async () => {
    const url = clusterFile(cluster).redisUrl;
    const port = parseRedisUrl(url).hosts[0]!.port;
    const clusterIP = (await knet('get', 'svc', 'spread')).stdout.split('\n')[1]!.split(/\s+/)[2]!;
    const before = clusterFile(cluster).processes!.redis!;

    const held = await killStoreAndHoldPort(port, () => clusterFile(cluster).processes?.redis);
    try {
      const get = await knet('get', 'pods');
      expect(get.code).toBe(1);
      expect(get.stdout).toBe('');
      expect(get.stderr).toMatch(new RegExp(`^error: the state store of cluster "${cluster}" at 127\\.0\\.0\\.1:${port} is not answering \\(knet up restarts it\\); [^\\n]+\\n$`));
      const { stdout } = await exec('curl', ['-sS', '-m', '5', `http://${clusterIP}/hostname`]);
      expect(stdout).toMatch(/^spread-/);
    } finally {
      await held.release();
    }
    await storeServes(url);

    expect((await knet('get', 'pods')).stdout).toMatch(/^never-ready\s+0\/1\s+Running/m);
    expect(clusterFile(cluster).processes!.redis).not.toBe(before);
    // The components act on new writes: scaled down, the Deployment is ready with 3 pods.
    const scaled = await knet('apply', '-f', manifests(mkdtempSync(path.join(stateDir, 'm-')), 3, false), '--wait', '--timeout', '60');
    expect(scaled.stderr).toBe('');
    expect((await knet('get', 'pods', '-l', 'app=spread')).stdout.trim().split('\n').slice(1)).toHaveLength(3);
    // No ioredis stack traces in any component's log, and no watch had to list everything again.
    for (const log of readdirSync(path.join(stateDir, cluster, 'logs')).filter((f) => f.endsWith('.log'))) {
      const text = readFileSync(path.join(stateDir, cluster, 'logs', log), 'utf8');
      expect(text, log).not.toContain('Unhandled error event');
      expect(text, log).not.toContain('relisting');
    }
  }, 120_000);

  it('stops with knet down while the store is dead (killed, its port taken), leaving no process behind', async () => {
    const file = clusterFile(cluster);
    const pids = [file.supervisorPid!, ...Object.values(file.processes!)];
    const held = await killStoreAndHoldPort(parseRedisUrl(file.redisUrl).hosts[0]!.port, () => clusterFile(cluster).processes?.redis);
    try {
      const t = performance.now();
      const down = await knet('down');
      const ms = performance.now() - t;
      expect(down.stdout).toBe(`cluster "${cluster}" stopped\n`);
      expect(pids.filter(pidAlive)).toEqual([]);
      console.log(`knet down with a dead store took ${Math.round(ms)} ms (the goal: under 2 s)`);
    } finally {
      await held.release();
    }
  }, 60_000);
});

describe('knet up in the foreground with a pod that never gets ready', () => {
  const cluster = `fg${process.pid}`;
  const knet = knetIn(cluster);

  it('goes on supervising after saying what is not ready, until knet down', async () => {
    const dir = manifests(mkdtempSync(path.join(stateDir, 'm-')), 1);
    const child = spawn(process.execPath, [cliEntry(), 'up', '-f', dir, '--nodes', '1', '--no-ingress', '--no-dns', '--timeout', '2', '--state-dir', stateDir, '--cluster', cluster], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // The summary is the last thing it prints before it settles down to supervise.
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (/\n {2}knet down --cluster \S+ +# stop everything/.test(stdout)) resolve();
        });
        void exited.then((code) => reject(new Error(`knet up exited (${code}):\n${stdout}`)));
      });
      expect(stdout).toContain('not ready after 2s: pod/never-ready: Running');
      expect(child.exitCode).toBeNull();
      expect((await knet('get', 'pods', 'never-ready')).stdout).toMatch(/^never-ready\s+0\/1\s+Running/m);
    } finally {
      // And stops while its store hangs: a stopped (SIGSTOP) redis-server answers nothing.
      const redis = clusterFile(cluster).processes?.redis;
      if (redis) process.kill(redis, 'SIGSTOP');
      const get = await knet('get', 'pods');
      expect(get.stderr).toMatch(/is not answering \(knet up restarts it\); no answer within 2 s\n$/);
      const t = performance.now();
      await knet('down');
      console.log(`knet down with a hung store took ${Math.round(performance.now() - t)} ms (the goal: under 2 s)`);
      expect(pidAlive(redis)).toBe(false);
    }
    expect(await exited).toBe(0);
    expect(stdout).toContain(`cluster "${cluster}" stopped`);
  }, 120_000);

  it('with --wait=false returns once the manifests are applied', async () => {
    const dir = manifests(mkdtempSync(path.join(stateDir, 'm-')), 1);
    const r = await knetIn(`nw${process.pid}`)('up', '--detach', '-f', dir, '--nodes', '1', '--no-ingress', '--no-dns', '--no-proxy', '--wait=false');
    try {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('pod/never-ready created');
      expect(r.stdout).not.toContain('waiting:');
      expect(r.stdout).toMatch(/knet cluster "nw\d+" is up: 1 node, started in [\d.]+s; what was applied was not waited for \(--wait=false\)/);
    } finally {
      await knetIn(`nw${process.pid}`)('down');
    }
  }, 120_000);
});

describe('knet up killed with -9', () => {
  const cluster = `k9${process.pid}`;
  const knet = knetIn(cluster);
  const upAgain = () => knet('up', '--detach', '--nodes', '1', '--no-ingress', '--no-dns', '--no-proxy');

  /** kill -9 of `knet up`; resolves once its components noticed and exited (its Redis stays: that is the point). */
  async function killSupervisor(): Promise<number> {
    const file = clusterFile(cluster);
    const components = Object.entries(file.processes!).filter(([name]) => name !== 'redis').map(([, pid]) => pid);
    process.kill(file.supervisorPid!, 'SIGKILL');
    await new Promise<void>((resolve) => {
      const check = () => (components.some(pidAlive) || pidAlive(file.supervisorPid) ? setTimeout(check, 20) : resolve());
      check();
    });
    expect(pidAlive(file.processes!.redis)).toBe(true);
    return file.processes!.redis!;
  }

  it('leaves no second Redis on the same files: the next up and knet down stop the one it left', async () => {
    expect((await upAgain()).code).toBe(0);
    const cm = path.join(mkdtempSync(path.join(stateDir, 'm-')), 'cm.yaml');
    writeFileSync(cm, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept' }, data: { a: 'b' } }));
    expect((await knet('apply', '-f', cm)).code).toBe(0);

    const left = await killSupervisor();
    const again = await upAgain();
    expect(again.stderr).toBe('');
    expect(pidAlive(left)).toBe(false);
    expect((await knet('get', 'cm', 'kept')).stdout).toMatch(/^kept\s+1\s/m);

    const leftAgain = await killSupervisor();
    const down = await knet('down');
    expect(down.stdout).toBe(`cluster "${cluster}" was not running; stopped the redis-server it left running (pid ${leftAgain}) and removed its stale state file\n`);
    expect(pidAlive(leftAgain)).toBe(false);
  }, 120_000);
});
