/**
 * The Kubernetes API benchmark (issue 15), against a cluster whose apiserver runs in its own
 * process (mode: 'processes'), so its CPU can be read from /proc:
 *
 *  1. single-object GET req/s: wrk over HTTPS keep-alive on /api/v1/namespaces/default/pods/NAME
 *     (bearer token in a header), and the same per core of apiserver CPU;
 *  2. LIST of 1,000 pods (JSON, and kubectl's Table), p50/p99 of sequential requests;
 *  3. write → watch delivery with 100 watchers: POST a ConfigMap, time until each watcher has
 *     its ADDED, p50/p99 over every (write, watcher);
 *  4. `kubectl get pods` wall time with 100 pods vs `kubectl version --client` (warm discovery cache).
 *
 * Pods are written straight to the store with a scheduler that does not exist, so they stay
 * Pending and no node agent runs them: the bench measures the API, not pod start-up.
 *   npm run bench:api     (prints a table, writes test/bench/results/api.json)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { startCluster } from '../../../dataplane/index.js';
import { parseWrk, procCpuTimes } from '../measure.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DURATION = process.env.BENCH_DURATION ?? '10s';
const LIST_RUNS = Number(process.env.BENCH_LIST_RUNS ?? 200);
const WATCHERS = 100;
const WRITES = Number(process.env.BENCH_WRITES ?? 100);

const rows: Array<{ name: string; value: number | string; unit: string; target?: string }> = [];
const row = (name: string, value: number | string, unit: string, target = '') => {
  rows.push({ name, value, unit, target });
  process.stderr.write(`  ${name}: ${value} ${unit}${target ? ` (target ${target})` : ''}\n`);
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
};
const median = (xs: number[]) => pct(xs, 50);

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'knet-bench-api-'));
const cluster = await startCluster({ mode: 'processes', nodes: 1, components: { dns: false, ingress: false }, stateDir });
try {
  const token = readFileSync(path.join(cluster.stateDir, 'pki', 'admin.token'), 'utf8').trim();
  const { apiServerAddress: host, apiServerPort: port } = cluster.config;
  const base = `https://${host}:${port}`;
  const apiPid = cluster.pids().apiserver!;
  const agent = new Agent({ connect: { rejectUnauthorized: false }, connections: 256, keepAliveTimeout: 60_000 });
  const headers = { authorization: `Bearer ${token}` };
  const get = async (p: string, extra: Record<string, string> = {}) => {
    const r = await request(`${base}${p}`, { dispatcher: agent, headers: { ...headers, ...extra } });
    return { status: r.statusCode, text: await r.body.text() };
  };

  process.stderr.write('writing 1,000 + 100 pods …\n');
  const pod = (name: string, ns: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: 'bench' } },
    spec: { schedulerName: 'bench-unscheduled', containers: [{ name: 'c', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec'], ports: [{ containerPort: 8080 }] }] },
  });
  await cluster.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'hundred' } }], { wait: false });
  for (let i = 0; i < 1000; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => cluster.store.create(pod(`bench-${String(i + j).padStart(4, '0')}`, 'default'))));
  for (let i = 0; i < 100; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => cluster.store.create(pod(`p-${String(i + j).padStart(3, '0')}`, 'hundred'))));
  for (;;) {
    const list = JSON.parse((await get('/api/v1/namespaces/default/pods?limit=1001')).text) as { items: unknown[] };
    if (list.items.length >= 1000) break;
  }

  // 1. GET req/s with wrk.
  const target = `${base}/api/v1/namespaces/default/pods/bench-0500`;
  const cpu0 = procCpuTimes(apiPid);
  const t0 = performance.now();
  const wrk = execFileSync('wrk', ['-t1', '-c32', `-d${DURATION}`, '--latency', '-H', `Authorization: Bearer ${token}`, target], { encoding: 'utf8' });
  const wallUs = (performance.now() - t0) * 1000;
  const cpu1 = procCpuTimes(apiPid);
  const w = parseWrk(wrk);
  const cpuShare = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / wallUs;
  row('GET one pod, req/s (wrk -t1 -c32, HTTPS keep-alive)', Math.round(w.requestsPerSec), 'req/s');
  row('GET one pod, apiserver CPU', Math.round(cpuShare * 100), '% of a core');
  row('GET one pod, req/s per core of apiserver CPU', Math.round(w.requestsPerSec / Math.max(cpuShare, 0.01)), 'req/s', '≥ 10,000');
  row('GET one pod, wrk p50 / p99', `${w.p50ms} / ${w.p99ms}`, 'ms');
  if (w.non2xx || w.socketErrors) row('GET errors', `${w.non2xx} non-2xx, ${w.socketErrorLine}`, '');

  // 2. LIST of 1,000 pods.
  for (const [what, accept] of [
    ['JSON', 'application/json'],
    ['Table (kubectl get)', 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json'],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < LIST_RUNS; i++) {
      const t = performance.now();
      const r = await get('/api/v1/namespaces/default/pods', { accept });
      times.push(performance.now() - t);
      if (r.status !== 200) throw new Error(`LIST failed: ${r.status} ${r.text.slice(0, 200)}`);
    }
    row(`LIST 1,000 pods, ${what}, p50 / p99`, `${median(times)} / ${pct(times, 99)}`, 'ms', 'p99 < 50');
  }

  // 3. Write → watch delivery with 100 watchers.
  const watchAgent = new Agent({ connect: { rejectUnauthorized: false }, connections: WATCHERS + 10 });
  const arrivals = new Map<string, number[]>();
  const waiting = new Map<string, { left: number; resolve: () => void }>();
  const streams = await Promise.all(
    Array.from({ length: WATCHERS }, async () => {
      const r = await request(`${base}/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=600`, { dispatcher: watchAgent, headers });
      let partial = '';
      r.body.setEncoding('utf8');
      r.body.on('data', (d: string) => {
        const now = performance.now();
        partial += d;
        const lines = partial.split('\n');
        partial = lines.pop()!;
        for (const l of lines) {
          const name = /"name":"(w-\d+)"/.exec(l)?.[1];
          if (!name || !l.startsWith('{"type":"ADDED"')) continue;
          arrivals.get(name)?.push(now);
          const wt = waiting.get(name);
          if (wt && --wt.left === 0) wt.resolve();
        }
      });
      r.body.on('error', () => {});
      return r;
    }),
  );
  const delivery: number[] = [];
  for (let i = 0; i < WRITES; i++) {
    const name = `w-${i}`;
    arrivals.set(name, []);
    const all = new Promise<void>((resolve) => waiting.set(name, { left: WATCHERS, resolve }));
    const t = performance.now();
    const r = await request(`${base}/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      dispatcher: agent,
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { i: String(i) } }),
    });
    await r.body.text();
    await all;
    for (const at of arrivals.get(name)!) delivery.push(at - t);
  }
  for (const s of streams) s.body.destroy();
  await watchAgent.close();
  row(`write → watch delivery, ${WATCHERS} watchers, p50 / p99 (${delivery.length} deliveries)`, `${median(delivery)} / ${pct(delivery, 99)}`, 'ms', 'p99 < 20');

  // 4. kubectl get pods with 100 pods vs kubectl's own start-up.
  const kubeHome = mkdtempSync(path.join(os.tmpdir(), 'knet-bench-kubectl-'));
  const env = { ...process.env, HOME: kubeHome, KUBECONFIG: cluster.kubeconfig.path };
  const timeRun = (args: string[]) => {
    const t = performance.now();
    const r = spawnSync('kubectl', args, { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return performance.now() - t;
  };
  timeRun(['get', 'pods', '-n', 'hundred']); // fills the discovery cache
  const getTimes = Array.from({ length: 10 }, () => timeRun(['get', 'pods', '-n', 'hundred']));
  const versionTimes = Array.from({ length: 10 }, () => timeRun(['version', '--client']));
  row('kubectl get pods (100 pods), median wall', Math.round(median(getTimes)), 'ms');
  row('kubectl version --client, median wall', Math.round(median(versionTimes)), 'ms');
  row('kubectl get pods − kubectl version --client', Math.round(median(getTimes) - median(versionTimes)), 'ms', '< 50');
  rmSync(kubeHome, { recursive: true, force: true });
  await agent.close();

  const out = path.join(root, 'test/bench/results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'api.json'), JSON.stringify({ date: new Date().toISOString(), cpus: os.cpus().length, node: process.version, rows, wrk }, null, 2) + '\n');
  const width = Math.max(...rows.map((r) => r.name.length));
  process.stdout.write(`\n${'benchmark'.padEnd(width)}   value\n`);
  for (const r of rows) process.stdout.write(`${r.name.padEnd(width)}   ${r.value} ${r.unit}${r.target ? `   (target ${r.target})` : ''}\n`);
} finally {
  await cluster.close();
  rmSync(stateDir, { recursive: true, force: true });
}
