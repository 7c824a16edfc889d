/**
 * npm run bench:ingress — knet's ingress controller against nginx, same run, same backends.
 *
 * Two backends, each behind the same host and path rules in both controllers:
 *
 * - **static** (the headline: the controller alone): an nginx answering `return 200` on two
 *   loopback addresses (127.64.0.10/11:18080, its own process, not counted), as the proxy
 *   bench puts haproxy and knet in front of one nginx. In the cluster it is a selectorless
 *   Service with an EndpointSlice of those two addresses. Host route `static.example.com`,
 *   path route `shop.example.com/static`.
 * - **pods**: two agnhost Deployments of two emulated pods each (host `apple.example.com`,
 *   path `shop.example.com/banana`). The pods cost more per request than either controller,
 *   and both controllers share them, so this row says how the whole path compares, not the
 *   controllers.
 *
 * One knet cluster (in this process, or BENCH_MODE=processes). nginx (Debian's, run as a
 * child on a loopback high port with a config in a temp dir; the system nginx is untouched)
 * gets the same rules pointing at the same addresses, with upstream keep-alive as
 * ingress-nginx configures it, its request headers and an access log (knet writes one too).
 * wrk measures both (warm-up, then interleaved rounds, each ≤ 5 s), with each controller
 * process's CPU per request. Knobs: BENCH_MODE, BENCH_SECONDS, BENCH_ROUNDS, BENCH_CHANGES,
 * BENCH_BACKENDS=static|pods (default both), BENCH_CPU_PROF=<dir>.
 * Then: how long after an Ingress is created does a request to its host get routed (p50/p99)?
 *
 * The machine is shared and loaded; numbers are for comparing the two in the same run only.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { parseWrk, procCpuTimes } from '../measure.ts';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const { startCluster, createLogger, batchedLines } = await import(path.join(root, 'dist/dataplane/index.js'));

const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const WRK = { threads: 1, connections: 32, seconds: env('BENCH_SECONDS', 5), rounds: env('BENCH_ROUNDS', 3) };
const CHANGES = env('BENCH_CHANGES', 100);
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'static,pods').split(',');
/** The static backend's addresses: its own block, so the proxy bench's backends on 127.61.0.x can run beside it. */
const STATIC = ['127.64.0.10', '127.64.0.11'];
const STATIC_PORT = 18080;
// 'processes' (default) runs the ingress in its own process, as `knet up` does, so its CPU and
// event loop are the controller's alone. 'single-process' runs the cluster as the test API
// does: the emulated pods share the ingress's event loop and their CPU counts as its.
const MODE = process.env.BENCH_MODE ?? 'processes';
// BENCH_CPU_PROF=<dir>: the ingress process writes ingress-<pid>.cpuprofile there (processes mode).
if (process.env.BENCH_CPU_PROF) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${path.join(here, 'cpu-prof.cjs')}`;

const app = (name) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: 2
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: ["netexec", "--http-port=8080"]
        readinessProbe: { httpGet: { path: /readyz, port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: ${name} }
  ports: [{ port: 80, targetPort: 8080 }]
`;
// The static backend as a selectorless Service, its endpoints written by hand (as the proxy bench does).
const staticService = `apiVersion: v1
kind: Service
metadata: { name: static }
spec:
  ports: [{ port: 80, targetPort: ${STATIC_PORT} }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: static-1, labels: { kubernetes.io/service-name: static } }
addressType: IPv4
ports: [{ name: "", port: ${STATIC_PORT}, protocol: TCP }]
endpoints:
${STATIC.map((ip) => `- { addresses: ["${ip}"], conditions: { ready: true } }`).join('\n')}
`;
const ingresses = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: bench }
spec:
  ingressClassName: nginx
  rules:
  - host: static.example.com
    http:
      paths:
      - { path: /, pathType: Prefix, backend: { service: { name: static, port: { number: 80 } } } }
  - host: apple.example.com
    http:
      paths:
      - { path: /, pathType: Prefix, backend: { service: { name: apple, port: { number: 80 } } } }
  - host: shop.example.com
    http:
      paths:
      - { path: /static, pathType: Prefix, backend: { service: { name: static, port: { number: 80 } } } }
      - { path: /banana, pathType: Prefix, backend: { service: { name: banana, port: { number: 80 } } } }
`;

/** The static backend: one nginx worker answering 200 on both addresses, keeping connections as long as the proxies do. */
function staticBackendConfig(dir) {
  return `worker_processes 1;
pid ${dir}/static.pid;
error_log ${dir}/static-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 10000000;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
${STATIC.map((ip) => `  server { listen ${ip}:${STATIC_PORT}; location / { return 200 "ok\\n"; } }`).join('\n')}
}
`;
}

function nginxConfig(dir, port, apple, banana) {
  const ups = (name, ips) => `  upstream ${name} {\n${ips.map((addr) => `    server ${addr};`).join('\n')}\n    keepalive 320;\n  }`;
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  # ingress-nginx's upstreaminfo line (knet writes the same fields per request).
  log_format upstreaminfo '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
    '"$http_user_agent" $request_length $request_time [$host] [] $upstream_addr $upstream_response_length '
    '$upstream_response_time $upstream_status $request_id';
  access_log ${dir}/access.log upstreaminfo;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
${ups('static', STATIC.map((ip) => `${ip}:${STATIC_PORT}`))}
${ups('apple', apple.map((ip) => `${ip}:8080`))}
${ups('banana', banana.map((ip) => `${ip}:8080`))}
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  # The request headers ingress-nginx's template sets, so the pods parse the same requests from both.
  proxy_set_header Host $host;
  proxy_set_header X-Request-ID $request_id;
  proxy_set_header X-Real-IP $remote_addr;
  proxy_set_header X-Forwarded-For $remote_addr;
  proxy_set_header X-Forwarded-Host $host;
  proxy_set_header X-Forwarded-Port $server_port;
  proxy_set_header X-Forwarded-Proto $scheme;
  proxy_set_header X-Forwarded-Scheme $scheme;
  proxy_set_header X-Scheme $scheme;
  server { listen 127.0.0.1:${port} default_server; return 404; }
  server { listen 127.0.0.1:${port}; server_name static.example.com; location / { proxy_pass http://static; } }
  server { listen 127.0.0.1:${port}; server_name apple.example.com; location / { proxy_pass http://apple; } }
  server { listen 127.0.0.1:${port}; server_name shop.example.com; location /static { proxy_pass http://static; } location /banana { proxy_pass http://banana; } }
}
`;
}

async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** wrk → { rps, p50ms, p99ms, non2xx, errors } */
async function wrk(url, host, seconds) {
  const { stdout } = await run('wrk', [`-t${WRK.threads}`, `-c${WRK.connections}`, `-d${seconds}s`, '--latency', '-H', `Host: ${host}`, url]);
  const w = parseWrk(stdout);
  return { rps: w.requestsPerSec, p50ms: w.p50ms, p99ms: w.p99ms, non2xx: w.non2xx, errors: w.socketErrorLine };
}

function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds (user + system) of these pids so far, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pids) {
  let us = 0;
  for (const pid of pids) {
    try {
      const t = procCpuTimes(pid);
      us += t.user + t.system;
    } catch {
      return NaN;
    }
  }
  return us / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

const tmp = mkdtempSync(path.join(os.tmpdir(), 'knet-bench-ingress-'));
for (const d of ['body', 'proxy', 'fcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(tmp, d));
let nginx;
let staticBackend;
// Both write every access-log line, each with its product's default sink: nginx one write per
// request (ingress-nginx sets no access_log buffer), knet the lines of one event-loop turn in
// one write (dataplane/base/log.ts batchedLines, what a component's stderr does). In single-process
// mode the components log through this logger; in processes mode to their log files.
const logFd = openSync(path.join(tmp, 'knet.log'), 'a');
const log = createLogger('knet', { write: batchedLines((chunk) => writeSync(logFd, chunk)) });
const cluster = await startCluster({ components: { dns: false }, mode: MODE, readyTimeoutMs: 90_000, log });
try {
  writeFileSync(path.join(tmp, 'static.conf'), staticBackendConfig(tmp));
  staticBackend = spawn('nginx', ['-p', tmp, '-c', path.join(tmp, 'static.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'inherit'] });
  await cluster.apply([app('apple'), app('banana'), staticService, ingresses], { timeoutMs: 90_000 });
  const ing = cluster.ingressAddress();
  const apple = await cluster.readyEndpoints('apple');
  const banana = await cluster.readyEndpoints('banana');
  const port = await freePort();
  writeFileSync(path.join(tmp, 'nginx.conf'), nginxConfig(tmp, port, apple, banana));
  const nginxVersion = (await run('nginx', ['-v'])).stderr.trim();
  nginx = spawn('nginx', ['-p', tmp, '-c', path.join(tmp, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'inherit'] });
  await new Promise((r) => setTimeout(r, 500));

  const targets = {
    // single-process mode: the ingress pid is this process, pods included.
    knet: { host: `http://${ing.host}:${ing.httpPort}`, pids: () => [cluster.pids().ingress] },
    nginx: { host: `http://127.0.0.1:${port}`, pids: () => [nginx.pid, ...childPids(nginx.pid)] },
  };
  const routes = [
    { name: 'host static.example.com /', backend: 'static', host: 'static.example.com', path: '/' },
    { name: 'path shop.example.com/static', backend: 'static', host: 'shop.example.com', path: '/static' },
    { name: 'host apple.example.com /hostname', backend: 'pods', host: 'apple.example.com', path: '/hostname' },
    { name: 'path shop.example.com/banana', backend: 'pods', host: 'shop.example.com', path: '/banana' },
  ].filter((r) => BACKENDS.includes(r.backend));
  // Sanity: both route both rules to a pod.
  for (const t of Object.values(targets)) {
    for (const r of routes) {
      const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Host: ${r.host}`, `${t.host}${r.path}`]);
      if (stdout !== '200') throw new Error(`${t.host} ${r.host}${r.path} answered ${stdout}`);
    }
  }
  const rows = [];
  for (const r of routes) {
    const samples = { knet: [], nginx: [] };
    for (const name of Object.keys(targets)) await wrk(`${targets[name].host}${r.path}`, r.host, 3); // warm-up (and JIT: V8 optimises knet's hot path in the first seconds)
    for (let i = 0; i < WRK.rounds; i++) {
      for (const name of i % 2 ? ['nginx', 'knet'] : ['knet', 'nginx']) {
        // CPU per request of the proxy process(es): robust to the other load on a shared machine.
        const pids = targets[name].pids();
        const c0 = cpuSeconds(pids);
        const w = await wrk(`${targets[name].host}${r.path}`, r.host, WRK.seconds);
        samples[name].push({ ...w, cpuUsPerReq: ((cpuSeconds(pids) - c0) * 1e6) / (w.rps * WRK.seconds) });
      }
    }
    for (const name of Object.keys(targets)) {
      const s = samples[name];
      rows.push({ route: r.name, backend: r.backend, target: name, rps: median(s.map((x) => x.rps)), p50ms: median(s.map((x) => x.p50ms)), p99ms: median(s.map((x) => x.p99ms)), cpuUsPerReq: median(s.map((x) => x.cpuUsPerReq)), non2xx: s.reduce((a, x) => a + x.non2xx, 0), errors: s.map((x) => x.errors).filter(Boolean) });
    }
  }

  // Ingress change → routed: create an Ingress for a new host, then ask until it is not a 404.
  const pool = new Pool(targets.knet.host, { connections: 1 });
  const changeMs = [];
  const applyMs = [];
  // Change 0 is a warm-up, not counted: the first new host runs code paths for the first time.
  for (let i = 0; i <= CHANGES; i++) {
    const host = `change-${i}.example.com`;
    const t0 = performance.now();
    await cluster.apply({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: `change-${i}`, namespace: 'default' }, spec: { ingressClassName: 'nginx', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'apple', port: { number: 80 } } } }] } }] } }, { wait: false });
    const applied = performance.now() - t0;
    for (;;) {
      const res = await pool.request({ path: '/hostname', method: 'GET', headers: { host } });
      await res.body.text();
      if (res.statusCode === 200) break;
      if (performance.now() - t0 > 10_000) throw new Error(`${host} not routed after 10 s`);
    }
    if (i === 0) continue;
    applyMs.push(applied);
    changeMs.push(performance.now() - t0);
  }
  await pool.close();

  const countLines = (file, needle) => {
    try {
      return readFileSync(file, 'utf8').split('\n').filter((l) => l.includes(needle)).length;
    } catch {
      return 0;
    }
  };
  const accessLines = { knet: countLines(path.join(tmp, 'knet.log'), '/access"'), nginx: countLines(path.join(tmp, 'access.log'), 'HTTP/1.1') };
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`\ningress bench — wrk -t${WRK.threads} -c${WRK.connections}, ${WRK.rounds} × ${WRK.seconds} s per target (median), ${nginxVersion}, worker_processes 1, knet mode ${MODE} (ingress pid ${cluster.pids().ingress}); load average ${load}\n`);
  console.log(['backend'.padEnd(7), 'route'.padEnd(34), 'target'.padEnd(7), 'req/s'.padStart(9), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'CPU µs/req'.padStart(11), 'non-2xx'.padStart(8)].join(' '));
  for (const r of rows) console.log([r.backend.padEnd(7), r.route.padEnd(34), r.target.padEnd(7), r.rps.toFixed(0).padStart(9), r.p50ms.toFixed(2).padStart(8), r.p99ms.toFixed(2).padStart(8), r.cpuUsPerReq.toFixed(1).padStart(11), String(r.non2xx).padStart(8)].join(' '));
  const ratios = routes.map((r) => {
    const k = rows.find((x) => x.route === r.name && x.target === 'knet');
    const n = rows.find((x) => x.route === r.name && x.target === 'nginx');
    return { route: r.name, backend: r.backend, rpsRatio: k.rps / n.rps, p99Ratio: k.p99ms / n.p99ms, cpuRatio: k.cpuUsPerReq / n.cpuUsPerReq };
  });
  if (MODE === 'single-process') console.log(`access-log lines written: knet ${accessLines.knet}, nginx ${accessLines.nginx}`);
  for (const x of ratios) console.log(`${x.backend} backend, ${x.route}: knet/nginx req/s ${x.rpsRatio.toFixed(2)}× (target ≥ 0.5×), p99 ${x.p99Ratio.toFixed(2)}× (target ≤ 2×), CPU per request ${x.cpuRatio.toFixed(2)}×`);
  const change = { samples: CHANGES, p50ms: pct(changeMs, 50), p99ms: pct(changeMs, 99), maxms: Math.max(...changeMs), applyP50ms: pct(applyMs, 50), applyP99ms: pct(applyMs, 99) };
  // From the store write's return to the first 200: the watch, the table rebuild and routing.
  const afterApply = changeMs.map((ms, i) => ms - applyMs[i]);
  Object.assign(change, { afterApplyP50ms: pct(afterApply, 50), afterApplyP99ms: pct(afterApply, 99) });
  console.log(`Ingress created → routed (store write, watch, table rebuild, first 200): p50 ${change.p50ms.toFixed(1)} ms, p99 ${change.p99ms.toFixed(1)} ms, max ${change.maxms.toFixed(1)} ms over ${CHANGES} after a warm-up (target p99 < 20 ms); of which the apply call: p50 ${change.applyP50ms.toFixed(1)} ms, p99 ${change.applyP99ms.toFixed(1)} ms; after it returned: p50 ${change.afterApplyP50ms.toFixed(1)} ms, p99 ${change.afterApplyP99ms.toFixed(1)} ms`);

  const out = path.join(root, 'test/bench/results/ingress.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ when: new Date().toISOString(), loadavg: os.loadavg(), mode: MODE, wrk: WRK, nginx: nginxVersion, rows, ratios, ingressChangeToRouted: { ...change, allMs: changeMs } }, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(root, out)}`);
} finally {
  for (const n of [nginx, staticBackend]) {
    if (!n) continue;
    n.kill('SIGTERM');
    await new Promise((r) => (n.exitCode !== null ? r() : n.once('exit', r)));
  }
  await cluster.close();
  closeSync(logFd);
  rmSync(tmp, { recursive: true, force: true });
}
