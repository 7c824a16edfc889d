// Store benchmark (issue 2): writes/s through the real write path, watch delivery latency
// (write → informer callback) at a paced 1,000 writes/s, RSS, and redis-benchmark on the same
// machine as the ceiling. Bounded: a fixed number of writes, loopback only, its own redis-server.
//   npm run bench:store            (prints a table, writes test/bench/results/store.json)
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dist = (p) => path.join(root, 'dist', p);
const { startEmbeddedRedis } = await import(dist('dataplane/cluster/embedded-redis.js'));
const { connectRedis } = await import(dist('dataplane/base/store/redis-connection.js'));
const { ObjectStore } = await import(dist('dataplane/base/store/object-store.js'));
const { StoreInformerFactory } = await import(dist('dataplane/base/store/watch.js'));
const { applyManifests } = await import(dist('dataplane/base/admission/apply.js'));
const { deleteObject } = await import(dist('dataplane/base/admission/writes.js'));
const { clusterConfig } = await import(dist('dataplane/base/cluster-config.js'));
const { bootstrapObjects } = await import(dist('dataplane/cluster/bootstrap.js'));

const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000);
const PODS = Number(process.env.BENCH_PODS ?? 5000);
const PACED = Number(process.env.BENCH_PACED ?? 5000);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const FILE_OBJECTS = Number(process.env.BENCH_FILE_OBJECTS ?? 5000);
const POD_DELETES = Number(process.env.BENCH_POD_DELETES ?? 1000);

const rssMb = (pid) => {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
async function pool(n, concurrency, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (i < n) await fn(i++);
  }));
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'knet-bench-store-'));
const redis = await startEmbeddedRedis({ dir });
const store = new ObjectStore(connectRedis(redis.url), 'bench');
const config = clusterConfig(0);
await applyManifests(store, config, bootstrapObjects(config).map((object, i) => ({ source: '<bootstrap>', index: i + 1, object })));
const informers = new StoreInformerFactory(store, { redisUrl: redis.url });
const svcInformer = informers.informer('Service');
const podInformer = informers.informer('Pod');
const cmInformer = informers.informer('ConfigMap');
await informers.waitForSync();
const results = { machine: { cpus: os.cpus().length, node: process.version }, rows: [] };
const row = (name, value, unit, note = '') => {
  results.rows.push({ name, value, unit, note });
  process.stderr.write(`  ${name}: ${value} ${unit}\n`);
};

// 1. Services through `knet apply`'s path: defaults, validation, ClusterIP allocation, one commit each.
process.stderr.write(`applying ${SERVICES} Services…\n`);
let t0 = performance.now();
await pool(SERVICES, 16, (i) =>
  applyManifests(store, config, [{ source: 'bench', index: 1, object: { apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: 'default' }, spec: { selector: { app: `a${i % 50}` }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } } }]),
);
row('services applied (validate+allocate+commit)', Math.round(SERVICES / ((performance.now() - t0) / 1000)), 'writes/s');
while (svcInformer.list().length < SERVICES + 3) await new Promise((r) => setTimeout(r, 5));

// 2. Pods through the store's create (the controllers' path).
process.stderr.write(`creating ${PODS} Pods…\n`);
t0 = performance.now();
await pool(PODS, 32, (i) =>
  store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${i}`, namespace: 'default', labels: { app: `a${i % 50}` } }, spec: { nodeName: `node-${(i % 2) + 1}`, containers: [{ name: 'c', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec'] }] } }),
);
row('pods created (commit)', Math.round(PODS / ((performance.now() - t0) / 1000)), 'writes/s');
while (podInformer.list().length < PODS) await new Promise((r) => setTimeout(r, 5));

// 3. Watch delivery latency at a paced rate: write start → informer add callback.
process.stderr.write(`paced: ${PACED} writes at ${RATE}/s…\n`);
const started = new Map();
const latencies = [];
cmInformer.on({ add: (o) => { const s = started.get(o.metadata.name); if (s !== undefined) latencies.push(performance.now() - s); } });
t0 = performance.now();
const inflight = [];
for (let i = 0; i < PACED; i++) {
  const due = t0 + (i * 1000) / RATE;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  const name = `cm-${i}`;
  started.set(name, performance.now());
  inflight.push(store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { i: String(i) } }));
}
await Promise.all(inflight);
const achieved = Math.round(PACED / ((performance.now() - t0) / 1000));
while (latencies.length < PACED) await new Promise((r) => setTimeout(r, 5));
row('paced rate achieved', achieved, 'writes/s');
row('watch delivery p50', pct(latencies, 50).toFixed(2), 'ms', 'write issued → informer callback');
row('watch delivery p99', pct(latencies, 99).toFixed(2), 'ms', 'target < 10 ms at 1,000 writes/s');
row('watch delivery max', Math.max(...latencies).toFixed(2), 'ms');
row('bench process RSS (store client + informers)', rssMb(process.pid), 'MB', `${SERVICES + PODS + PACED} objects cached`);
row('redis-server RSS', rssMb(redis.pid), 'MB');

// 4. `knet apply -f` and `knet delete -f` of one file of FILE_OBJECTS objects (ConfigMaps, Secrets
// and ClusterIP Services, a third each), through the built CLI as a user runs it, into the store
// as it stands after the rows above. delete -f is one batch (one read per kind, one scan for
// dependents); it was one scan of the whole store per object before (issue 18: 110 s for 5,000).
process.stderr.write(`apply -f / delete -f of ${FILE_OBJECTS} objects…\n`);
await store.writeConfig(config);
const docs = Array.from({ length: FILE_OBJECTS }, (_, i) =>
  i % 3 === 0
    ? `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: file-cm-${i}\ndata:\n  i: "${i}"\n`
    : i % 3 === 1
      ? `apiVersion: v1\nkind: Secret\nmetadata:\n  name: file-s-${i}\nstringData:\n  i: "${i}"\n`
      : `apiVersion: v1\nkind: Service\nmetadata:\n  name: file-svc-${i}\nspec:\n  selector: { app: f${i} }\n  ports: [{ port: 80, targetPort: 8080 }]\n`,
);
const manifest = path.join(dir, 'objects.yaml');
writeFileSync(manifest, docs.join('---\n'));
/** Runs the CLI; wall seconds and the CLI's CPU seconds (user + system, from bash's time). */
const cli = (...args) => {
  const t = performance.now();
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%U %S"; time "$0" "$@" > /dev/null', process.execPath, dist('knet/main.js'), ...args, '--cluster', 'bench'], {
    env: { ...process.env, KNET_REDIS_URL: redis.url },
    encoding: 'utf8',
  });
  const wall = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`knet ${args.join(' ')} failed: ${r.stderr.slice(0, 500)}`);
  const [user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + sys };
};
const applied = cli('apply', '-f', manifest);
const deleted = cli('delete', '-f', manifest);
row(`knet apply -f, ${FILE_OBJECTS} objects`, applied.wall.toFixed(2), 's', `CLI CPU ${applied.cpu.toFixed(2)} s`);
row(`knet delete -f, the same file`, deleted.wall.toFixed(2), 's', `CLI CPU ${deleted.cpu.toFixed(2)} s; ${(deleted.wall / applied.wall).toFixed(2)}x apply (target < 2x)`);

// 5. Pods deleted one at a time with grace 0, as node agents finish them, with the store full
// (the rows above left ~11,000 objects). Until issue 14 each such delete also listed every kind
// to find dependents; now a delete is one read and one commit, and dependents are the GC's.
process.stderr.write(`deleting ${POD_DELETES} pods one by one…\n`);
t0 = performance.now();
await pool(POD_DELETES, 8, (i) => deleteObject(store, 'Pod', 'default', `pod-${i}`, { gracePeriodSeconds: 0 }));
row(`pods deleted one by one, grace 0 (${POD_DELETES}, 8 at a time)`, Math.round(POD_DELETES / ((performance.now() - t0) / 1000)), 'deletes/s', 'admission deleteObject: read + commit');

// 6. The ceiling: redis-benchmark against the same redis-server (same fsync=always AOF).
try {
  const out = execFileSync('redis-benchmark', ['-h', '127.0.0.1', '-p', String(redis.port), '-a', redis.password, '-n', '20000', '-c', '16', '-q', '-t', 'set'], { encoding: 'utf8' });
  const set = /SET: ([\d.]+) requests per second/.exec(out);
  if (set) row('redis-benchmark SET (ceiling, same server)', Math.round(Number(set[1])), 'ops/s', '-c 16 -n 20000');
  const xadd = execFileSync('redis-benchmark', ['-h', '127.0.0.1', '-p', String(redis.port), '-a', redis.password, '-n', '20000', '-c', '16', '-q', 'XADD', 'benchstream', '*', 'f', 'v'], { encoding: 'utf8' });
  const x = /([\d.]+) requests per second/.exec(xadd);
  if (x) row('redis-benchmark XADD (ceiling)', Math.round(Number(x[1])), 'ops/s');
} catch (err) {
  row('redis-benchmark', 'n/a', '', String(err.message).split('\n')[0]);
}

await informers.close();
await store.close();
await redis.stop();
rmSync(dir, { recursive: true, force: true });

const width = Math.max(...results.rows.map((r) => r.name.length));
console.log(`\nknet store benchmark (${results.machine.cpus} cores, node ${results.machine.node})`);
for (const r of results.rows) console.log(`${r.name.padEnd(width)}  ${String(r.value).padStart(9)} ${r.unit.padEnd(9)} ${r.note}`);
mkdirSync(path.join(root, 'test/bench/results'), { recursive: true });
writeFileSync(path.join(root, 'test/bench/results/store.json'), JSON.stringify({ ...results, at: new Date().toISOString() }, null, 2));
console.log('\nwrote test/bench/results/store.json');
