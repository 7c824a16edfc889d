// Pods benchmark (issue 3):
//  1. `knet up -f examples/quickstart` until it prints that the cluster is up (all quickstart
//     endpoints ready), in both modes, a few runs each;
//  2. one Deployment of N pods (default 1,000, over 5 nodes) to all Ready, with the RSS of every
//     process. Bounded: fixed counts, loopback only, its own clusters in temp state dirs.
//   npm run bench:pods          (prints a table, writes test/bench/results/pods.json)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = path.join(root, 'dist/knet/main.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PODS = Number(process.env.BENCH_PODS ?? 1000);
const NODES = Math.max(2, Math.ceil(PODS / 240));

const rssMb = (pid) => {
  try {
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024);
  } catch {
    return NaN;
  }
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
const row = (name, value, unit, note = '') => {
  rows.push({ name, value, unit, note });
  process.stderr.write(`  ${name}: ${value} ${unit} ${note}\n`);
};

function upUntilReady(args, stateDir, match = /is up: .* ready in ([\d.]+)s/) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [cli, 'up', ...args, '--state-dir', stateDir, '--cluster', `bench${process.pid}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`knet up did not get ready in 120 s:\n${out}`));
    }, 120_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = match.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ wallMs: performance.now() - t0, reported: Number(m[1]), child, out });
      }
    });
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`knet up exited with ${code}:\n${out}`));
    });
  });
}

const stop = (child) =>
  new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', resolve);
    child.kill('SIGINT');
  });

// 1. knet up → quickstart ready.
for (const mode of [['--single-process'], []]) {
  const name = mode.length ? 'single process' : 'one process per component';
  const walls = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'knet-bench-pods-'));
    const r = await upUntilReady(['-f', path.join(root, 'examples/quickstart'), ...mode], dir);
    walls.push(r.wallMs);
    await stop(r.child);
    rmSync(dir, { recursive: true, force: true });
  }
  row(`knet up → quickstart ready (${name})`, (median(walls) / 1000).toFixed(2), 's', `median of ${RUNS}, wall clock incl. node start; target < 2 s`);
}

// 2. One Deployment of PODS pods → all Ready.
{
  const dir = mkdtempSync(path.join(os.tmpdir(), 'knet-bench-pods-'));
  const manifest = path.join(dir, 'many.yaml');
  writeFileSync(manifest, readFileSync(path.join(root, 'examples/quickstart/app.yaml'), 'utf8').replace('replicas: 3', `replicas: ${PODS}`).replace(/\n---\napiVersion: networking[\s\S]*$/, '\n'));
  const t0 = performance.now();
  const r = await upUntilReady(['-f', manifest, '--nodes', String(NODES), '--no-ingress', '--no-dns', '--timeout', '600'], dir);
  row(`${PODS} pods in one Deployment → all Ready`, (r.reported).toFixed(1), 's', `${NODES} nodes, one process per component (knet up's own timer)`);
  row(`  wall clock incl. start`, ((performance.now() - t0) / 1000).toFixed(1), 's');
  const file = JSON.parse(readFileSync(path.join(dir, `bench${process.pid}`, 'cluster.json'), 'utf8'));
  for (const [name, pid] of Object.entries(file.processes ?? {})) row(`  RSS ${name}`, rssMb(pid), 'MB');
  row('  RSS knet up (supervisor + apply)', rssMb(r.child.pid), 'MB');
  await stop(r.child);
  rmSync(dir, { recursive: true, force: true });
}

const width = Math.max(...rows.map((r) => r.name.length));
console.log(`\nknet pods benchmark (${os.cpus().length} cores, node ${process.version})`);
for (const r of rows) console.log(`${r.name.padEnd(width)}  ${String(r.value).padStart(7)} ${r.unit.padEnd(3)} ${r.note}`);
mkdirSync(path.join(root, 'test/bench/results'), { recursive: true });
writeFileSync(path.join(root, 'test/bench/results/pods.json'), JSON.stringify({ at: new Date().toISOString(), cpus: os.cpus().length, rows }, null, 2));
console.log('\nwrote test/bench/results/pods.json');
