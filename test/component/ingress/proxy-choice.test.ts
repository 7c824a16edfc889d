/**
 * Why the ingress uses its own node:http pass instead of http-proxy 1.18 or http-proxy-3:
 * the same route() in front of each, then (1) client-abort leak, (2) WebSocket client reset
 * while the upgrade is pending (crash), (3) X-Forwarded-For appending, (4) wrk throughput.
 * Heavy: run explicitly with `KNET_BENCH=1 npx vitest run test/component/ingress/proxy-choice.test.ts`.
 * Loads are 5 s each on loopback; numbers are relative (wrk, proxy and pod share 2 cores).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BalancerState } from '../../../ingress/balancer.js';
import { route } from '../../../ingress/route.js';
import { buildRouteTable } from '../../../ingress/route-table.js';
import { nginxIngressClass } from '../../../ingress/ingress-class.js';
import { streamingBackend, type Backend } from './backends.js';
import { endpointSlice, NS, service, World } from './harness.js';

const require = createRequire(import.meta.url);
const bench = process.env.KNET_BENCH === '1';
const POD = '127.52.6.1';
const ingressObj = (svc: string) => ({
  apiVersion: 'networking.k8s.io/v1' as const,
  kind: 'Ingress' as const,
  metadata: { name: svc, namespace: NS },
  spec: { ingressClassName: 'nginx', rules: [{ host: 'bench.example', http: { paths: [{ path: '/', pathType: 'Prefix' as const, backend: { service: { name: svc, port: { number: 80 } } } }] } }] },
});

type Lib = 'http-proxy' | 'http-proxy-3';
interface LibProxy {
  web(req: http.IncomingMessage, res: http.ServerResponse, opts: object): void;
  ws(req: http.IncomingMessage, socket: net.Socket, head: Buffer, opts: object): void;
  on(ev: string, f: (...a: unknown[]) => void): void;
}

/** A proxy server built on a library, routing with the same pure core as knet. */
async function libraryProxy(lib: Lib, address: string, svc: string, podPort: number, xfwd = false): Promise<{ port: number; close(): Promise<void> }> {
  const mod = require(lib) as { createProxyServer(o: object): LibProxy };
  const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 320 });
  const proxy = mod.createProxyServer({ agent, xfwd });
  proxy.on('error', (_e, _req, res) => {
    const r = res as http.ServerResponse | net.Socket;
    if (r instanceof http.ServerResponse && !r.headersSent) r.writeHead(502).end();
    else r.destroy();
  });
  const table = buildRouteTable({ ingresses: [ingressObj(svc)], ingressClasses: [nginxIngressClass()], services: [service(svc)], endpointSlices: [endpointSlice(svc, [{ name: 'p', ip: POD, port: podPort }])], secrets: [] });
  const state = new BalancerState();
  const server = http.createServer((req, res) => {
    const d = route(table, { host: req.headers.host, path: req.url ?? '/', headers: req.headers, clientIp: req.socket.remoteAddress ?? '', scheme: 'http' }, state);
    if (d.action !== 'proxy') return void res.writeHead(d.status).end();
    const ep = d.endpoints[0]!;
    proxy.web(req, res, { target: `http://${ep.address}:${ep.port}` });
  });
  server.on('upgrade', (req, socket: net.Socket, head) => {
    proxy.ws(req, socket, head, { target: `http://${POD}:${podPort}` });
  });
  await new Promise<void>((r) => server.listen(0, address, () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); agent.destroy(); }),
  };
}

/** The fast pod, in its own process so it does not share the proxy's event loop. */
function startFastPod(port: number): Promise<ChildProcess> {
  const src = `require('http').createServer((q, s) => { q.resume(); s.writeHead(200, {'Content-Type': 'text/plain', 'Content-Length': 13}); s.end('hello, world\\n'); }).listen(${port}, '${POD}', () => console.log('ready'));`;
  const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => child.stdout!.once('data', () => resolve(child)));
}

interface Load {
  rps: number;
  p99ms: number;
  /** CPU (user+system) of this process per request: robust to other load on the machine. */
  cpuUsPerReq: number;
}

function wrk(url: string, seconds: number): Promise<Load> {
  const cpu0 = process.cpuUsage();
  return new Promise((resolve, reject) => {
    execFile('wrk', ['-t1', '-c32', `-d${seconds}s`, '--latency', '-H', 'Host: bench.example', url], (err, out) => {
      if (err) return reject(err);
      const cpu = process.cpuUsage(cpu0);
      const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
      const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
      const p99ms = p99 ? Number(p99[1]) * (p99[2] === 'us' ? 0.001 : p99[2] === 's' ? 1000 : 1) : NaN;
      resolve({ rps, p99ms, cpuUsPerReq: requests ? Math.round((cpu.user + cpu.system) / requests) : NaN });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function abortLeak(proxyPort: number, address: string, stream: Backend): Promise<number> {
  await Promise.all(
    Array.from({ length: 10 }, () =>
      new Promise<void>((resolve) => {
        const req = http.get({ host: address, port: proxyPort, path: '/', headers: { host: 'bench.example' } }, (res) => res.once('data', () => req.destroy()));
        req.on('error', () => {});
        req.on('close', () => resolve());
      }),
    ),
  );
  await new Promise((r) => setTimeout(r, 1000));
  return stream.open();
}

/** A child process with the library proxying WebSockets to a pod that never answers the upgrade; the client then resets. Exit code 0 = survived. */
function wsResetCrash(lib: Lib, silentPort: number): Promise<{ survived: boolean; detail: string }> {
  const src = `
    const http = require('http'), net = require('net');
    const proxy = require(${JSON.stringify(require.resolve(lib))}).createProxyServer({});
    proxy.on('error', () => {});
    const server = http.createServer();
    server.on('upgrade', (req, socket, head) => proxy.ws(req, socket, head, { target: 'http://${POD}:${silentPort}' }));
    server.listen(0, '127.52.6.20', () => {
      const c = net.connect(server.address().port, '127.52.6.20', () => {
        c.write('GET / HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n');
        setTimeout(() => c.resetAndDestroy(), 200);
      });
      setTimeout(() => { console.log('survived'); process.exit(0); }, 1000);
    });`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', src], (err, stdout, stderr) => resolve({ survived: !err && stdout.includes('survived'), detail: (stderr.split('\n').find((l) => /Error/.test(l)) ?? '').trim() }));
  });
}

describe.skipIf(!bench)('proxy library choice (KNET_BENCH=1)', () => {
  const w = new World('127.52.6.10');
  let fast: ChildProcess;
  let stream: Backend;
  let silent: net.Server;
  const results: Record<string, unknown> = {};

  beforeAll(async () => {
    fast = await startFastPod(8080);
    stream = await streamingBackend(POD, 8081);
    silent = net.createServer((s) => s.on('error', () => {}));
    await new Promise<void>((r) => silent.listen(8082, POD, () => r()));
    await w.start();
    w.apply(
      service('fast', 80, 8080), endpointSlice('fast', [{ name: 'fast', ip: POD, port: 8080 }]),
      service('stream', 80, 8081), endpointSlice('stream', [{ name: 'stream', ip: POD, port: 8081 }]),
    );
    await w.settle();
  }, 60_000);
  afterAll(async () => {
    fast?.kill();
    await stream?.close();
    silent?.close();
    await w.close();
    console.log(JSON.stringify(results, null, 2));
  });

  it('client abort: upstream sockets left open after 10 aborted streams', async () => {
    w.apply(ingressObj('stream'));
    await w.settle();
    const leaks: Record<string, number> = { knet: await abortLeak(w.ingress.ports.http!, w.controllerIp, stream) };
    for (const lib of ['http-proxy', 'http-proxy-3'] as const) {
      const p = await libraryProxy(lib, '127.52.6.11', 'stream', 8081);
      leaks[lib] = await abortLeak(p.port, '127.52.6.11', stream);
      await p.close();
      await new Promise((r) => setTimeout(r, 200));
    }
    results.abortLeak = leaks;
    expect(leaks.knet).toBe(0);
  }, 60_000);

  it('WebSocket client reset while the upgrade is pending', async () => {
    results.wsReset = { 'http-proxy': await wsResetCrash('http-proxy', 8082), 'http-proxy-3': await wsResetCrash('http-proxy-3', 8082) };
  }, 30_000);

  it('X-Forwarded-For with xfwd', async () => {
    const echo = http.createServer((req, res) => res.end(String(req.headers['x-forwarded-for'])));
    await new Promise<void>((r) => echo.listen(8083, POD, () => r()));
    const out: Record<string, string> = {};
    for (const lib of ['http-proxy', 'http-proxy-3'] as const) {
      const p = await libraryProxy(lib, '127.52.6.12', 'xff', 8083, true);
      out[lib] = await new Promise<string>((resolve) =>
        http.get({ host: '127.52.6.12', port: p.port, path: '/', headers: { host: 'bench.example', 'x-forwarded-for': '6.6.6.6' } }, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(b));
        }),
      );
      await p.close();
    }
    echo.close();
    results.xForwardedFor = out;
  }, 30_000);

  it('wrk: 1 thread, 32 connections; warm-up, then 3 interleaved rounds of 3 s; medians', async () => {
    w.apply({ ...ingressObj('fast') });
    w.remove(ingressObj('stream'));
    await w.settle();
    const targets: Record<string, string> = { knet: `${w.http}/` };
    const closers: Array<() => Promise<void>> = [];
    for (const [lib, ip] of [['http-proxy', '127.52.6.13'], ['http-proxy-3', '127.52.6.14']] as const) {
      const p = await libraryProxy(lib, ip, 'fast', 8080);
      targets[lib] = `http://${ip}:${p.port}/`;
      closers.push(p.close);
    }
    for (const url of Object.values(targets)) await wrk(url, 2); // JIT warm-up
    const runs: Record<string, Load[]> = {};
    for (let round = 0; round < 3; round++) {
      for (const [name, url] of Object.entries(targets)) {
        (runs[name] ??= []).push(await wrk(url, 3));
        w.accessLog.length = 0;
      }
    }
    const direct = await wrk(`http://${POD}:8080/`, 3);
    for (const c of closers) await c();
    const table: Record<string, Load> = { direct };
    for (const [name, loads] of Object.entries(runs)) {
      table[name] = { rps: median(loads.map((l) => l.rps)), p99ms: median(loads.map((l) => l.p99ms)), cpuUsPerReq: median(loads.map((l) => l.cpuUsPerReq)) };
    }
    results.wrk = table;
    expect(table.knet!.rps).toBeGreaterThan(0);
  }, 180_000);
});
