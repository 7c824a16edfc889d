// The test API's lifecycle, measured: start → ready → close of a 2-node cluster with the
// quickstart Deployment, 20 clusters in a row and 4 at once (a few rounds), in single-process
// mode. Prints a table (p50/p95/max per phase, RSS) and writes test/bench/results/testing.json.
//
//   npm run build && node test/bench/testing/run.mjs [--sequential N] [--rounds N] [--parallel N]
//
// Phases: start = startCluster() with no manifests (redis, bootstrap, components inside it);
// ready = apply(quickstart) until the Deployment is ready, the Service lists its endpoints and
// its ClusterIP accepts connections; first-request = one HTTP GET through the ClusterIP after
// that; close = close(). The first cluster of the process pays for loading and compiling the
// code: it is reported as "cold" and left out of the percentiles.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const { startCluster } = await import(path.join(root, 'dist/dataplane/index.js'));
const { values: args } = parseArgs({
  options: { sequential: { type: 'string', default: '20' }, parallel: { type: 'string', default: '4' }, rounds: { type: 'string', default: '3' } },
});
const manifests = path.join(root, 'examples/quickstart');

/** RSS of a process in MB from /proc (0 where there is no /proc). */
function rssMb(pid) {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

/** One cluster's lifecycle, timed. */
async function lifecycle(components) {
  const t0 = performance.now();
  const cluster = await startCluster({ components });
  const t1 = performance.now();
  await cluster.apply(manifests);
  const t2 = performance.now();
  const { host, port } = await cluster.serviceAddress('web');
  const res = await fetch(`http://${host}:${port}/hostname`, { headers: { connection: 'close' } });
  if (res.status !== 200 || !(await res.text()).startsWith('web-')) throw new Error(`the quickstart did not answer through ${host}:${port}`);
  const t3 = performance.now();
  const redisPid = cluster.pids().redis;
  const memory = { nodeRssMb: process.memoryUsage().rss / 2 ** 20, redisRssMb: redisPid ? rssMb(redisPid) : 0 };
  const inner = { ...cluster.timings };
  const t4 = performance.now();
  await cluster.close();
  const t5 = performance.now();
  return {
    start: t1 - t0,
    redis: inner.redis,
    bootstrap: inner.bootstrap,
    components: inner.components,
    ingress: inner.ingress,
    ready: t2 - t1,
    firstRequest: t3 - t2,
    startToRoutable: t3 - t0,
    close: t5 - t4,
    ...memory,
  };
}

const PHASES = ['start', 'redis', 'bootstrap', 'components', 'ingress', 'ready', 'firstRequest', 'startToRoutable', 'close', 'nodeRssMb', 'redisRssMb'];

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function summarize(samples) {
  const out = {};
  for (const phase of PHASES) {
    const values = samples.map((s) => s[phase]).filter((v) => typeof v === 'number').sort((a, b) => a - b);
    if (!values.length) continue;
    out[phase] = { p50: percentile(values, 50), p95: percentile(values, 95), max: values[values.length - 1], n: values.length };
  }
  return out;
}

async function sequential(n, components) {
  const samples = [];
  for (let i = 0; i < n; i++) samples.push(await lifecycle(components));
  return samples;
}

async function parallel(width, rounds, components) {
  const samples = [];
  for (let r = 0; r < rounds; r++) samples.push(...(await Promise.all(Array.from({ length: width }, () => lifecycle(components)))));
  return samples;
}

const full = { proxy: true, dns: true, ingress: true };
const noIngress = { ingress: false };
const cold = await lifecycle(full);
const scenarios = [
  { name: `${args.sequential} in a row`, samples: await sequential(Number(args.sequential), full) },
  { name: `${args.sequential} in a row, no ingress`, samples: await sequential(Number(args.sequential), noIngress) },
  { name: `${args.parallel} at once ×${args.rounds}`, samples: await parallel(Number(args.parallel), Number(args.rounds), full) },
];

const fmt = (v, unit) => (Number.isFinite(v) ? `${v.toFixed(unit === 'MB' ? 0 : 0)}` : '-');
const lines = [];
lines.push(`knet test API: 2-node cluster + quickstart (3 pods), single-process mode — node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
lines.push(`cold first cluster: start ${cold.start.toFixed(0)} ms, ready ${cold.ready.toFixed(0)} ms, close ${cold.close.toFixed(0)} ms`);
const results = { when: new Date().toISOString(), node: process.version, cpus: os.cpus().length, loadavg: os.loadavg(), redis: redisVersion(), cold, scenarios: [] };
for (const s of scenarios) {
  const summary = summarize(s.samples);
  results.scenarios.push({ name: s.name, summary, samples: s.samples });
  lines.push('', s.name, `${'phase'.padEnd(18)}${'p50'.padStart(8)}${'p95'.padStart(8)}${'max'.padStart(8)}  unit`);
  for (const [phase, v] of Object.entries(summary)) {
    const unit = phase.endsWith('Mb') ? 'MB' : 'ms';
    lines.push(`${phase.padEnd(18)}${fmt(v.p50, unit).padStart(8)}${fmt(v.p95, unit).padStart(8)}${fmt(v.max, unit).padStart(8)}  ${unit}`);
  }
}
console.log(lines.join('\n'));
const out = path.join(root, 'test/bench/results/testing.json');
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
console.log(`\nwrote ${path.relative(root, out)}`);

function redisVersion() {
  try {
    return execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
