/**
 * DNS benchmark: dnsperf against knet's DNS and against unbound serving the same records,
 * in the same run; then latency at a fixed rate, and change → new answer latency.
 *
 *   apt-get install -y dnsperf unbound        # once
 *   node --import ./test/bench/dns/register.mjs test/bench/dns/run.ts [--seconds 10] [--rate 20000] [--out FILE]
 *
 * Targets (issue #6): knet ≥ 0.8× unbound's qps for cluster names, p99 < 1 ms, change → new
 * answer p99 < 20 ms (measured from the write to the cluster's Redis store, store-change.ts,
 * and from the informer event alone). Addresses: knet 127.50.0.20:53, unbound 127.50.0.21:53;
 * the store-path cluster gets its own block.
 *
 *   npm run bench:dns -- --seconds 10
 */
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { clusterConfig } from '../../../dataplane/cluster-config.js';
import { MemoryInformerFactory } from '../../../dataplane/informer-cache.js';
import { silentLogger } from '../../../dataplane/log.js';
import type { KObject } from '../../../dataplane/model/object.js';
import { reverseName } from '../../../dns/reverse-name.js';
import { startDns } from '../../../dns/server.js';
import { clusterIP, headless, slice, tcp } from '../../unit/dns/fixtures.js';
import { askUntil } from './ask.js';
import { storeChangeLatencies } from './store-change.js';

const KNET = '127.50.0.20';
const UNBOUND = '127.50.0.21';
const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const SECONDS = Number(args.get('seconds') ?? 10);
const OUT = args.get('out') ?? join(tmpdir(), 'knet-dns-bench.json');
const SERVICES = 200;
const HEADLESS = 20;
const Z = 'cluster.local';

interface Rec {
  name: string;
  type: 'A' | 'SRV' | 'PTR' | 'SOA';
  data: string;
}

/** The cluster, and the same records written out for unbound. */
function world(): { objects: KObject[]; records: Rec[]; queries: string[] } {
  const objects: KObject[] = [];
  const records: Rec[] = [];
  const queries: string[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const ip = `10.96.${Math.floor(i / 250) + 1}.${(i % 250) + 1}`;
    const name = `svc-${i}.bench.svc.${Z}`;
    objects.push(clusterIP('bench', `svc-${i}`, [ip], [tcp('http', 80)]));
    records.push({ name, type: 'A', data: ip });
    records.push({ name: `_http._tcp.${name}`, type: 'SRV', data: `0 100 80 ${name}.` });
    records.push({ name: reverseName(ip)!, type: 'PTR', data: `${name}.` });
    queries.push(`${name} A`);
    if (i % 10 === 0) queries.push(`_http._tcp.${name} SRV`, `${reverseName(ip)} PTR`, `${name} AAAA`, `missing-${i}.bench.svc.${Z} A`);
  }
  for (let h = 0; h < HEADLESS; h++) {
    const name = `hl-${h}.bench.svc.${Z}`;
    objects.push(headless('bench', `hl-${h}`, [tcp('http', 80)]));
    const ips = [1, 2, 3].map((k) => `10.244.${h}.${k}`);
    objects.push(slice('bench', `hl-${h}`, ips.map((ip) => ({ ip })), [tcp('http', 80)]));
    for (const ip of ips) records.push({ name, type: 'A', data: ip });
    queries.push(`${name} A`);
  }
  objects.push(headless('bench', 'changing', [tcp('http', 80)]));
  objects.push(slice('bench', 'changing', [{ ip: '10.245.0.1' }], [tcp('http', 80)]));
  return { objects, records, queries };
}

function unboundConfig(dir: string, records: Rec[]): string {
  const lines = [
    'server:',
    `  interface: ${UNBOUND}`,
    '  port: 53',
    '  num-threads: 1',
    '  do-daemonize: no',
    '  use-syslog: no',
    '  logfile: ""',
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    '  pidfile: ""',
    '  verbosity: 0',
    '  access-control: 127.0.0.0/8 allow',
    '  so-rcvbuf: 4m',
    '  so-sndbuf: 4m',
    `  local-zone: "${Z}." static`,
    '  local-zone: "10.in-addr.arpa." static',
    `  local-data: "${Z}. 30 IN SOA ns.dns.${Z}. hostmaster.${Z}. 1 7200 1800 86400 30"`,
    '  local-data: "10.in-addr.arpa. 30 IN SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. 1 7200 1800 86400 30"',
    ...records.map((r) => `  local-data: "${r.name}. 30 IN ${r.type} ${r.data}"`),
  ];
  const file = join(dir, 'unbound.conf');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

interface PerfResult {
  qps: number;
  lost: number;
  avgLatencyMs: number;
}

/**
 * Runs dnsperf without blocking this process (the knet server shares its event loop), its
 * output going to a file so that reading it costs the server nothing while it runs.
 */
async function dnsperf(server: string, dataFile: string, seconds: number, extra: string[] = []): Promise<{ text: string; result: PerfResult }> {
  const outFile = join(dirname(dataFile), `dnsperf-${server}-${Date.now()}.txt`);
  const fd = openSync(outFile, 'w');
  const child = spawn('dnsperf', ['-s', server, '-p', '53', '-d', dataFile, '-l', String(seconds), '-c', '8', '-q', '500', ...extra], {
    stdio: ['ignore', fd, 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve());
  });
  closeSync(fd);
  const text = readFileSync(outFile, 'utf8');
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  return {
    text,
    result: {
      qps: num(/Queries per second:\s+([\d.]+)/),
      lost: num(/Queries lost:\s+(\d+)/),
      avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    },
  };
}

/** Per-query latencies from dnsperf -v ("> NOERROR name A 0.000123"), in ms. */
function latencies(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)) out.push(Number(m[1]) * 1000);
  return out.sort((a, b) => a - b);
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  for (const tool of ['dnsperf', 'unbound']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      console.error(`${tool} is not installed: apt-get install -y dnsperf unbound`);
      process.exit(1);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'knet-dns-bench-'));
  const { objects, records, queries } = world();
  const dataFile = join(dir, 'queries.txt');
  writeFileSync(dataFile, queries.join('\n') + '\n');

  const informers = new MemoryInformerFactory();
  for (const o of objects) informers.upsert(o);
  const dns = await startDns({ informers, config: clusterConfig(0), log: silentLogger, address: KNET, port: 53, upstream: null });
  const unbound = spawn('unbound', ['-d', '-c', unboundConfig(dir, records)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const client = dgram.createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.50.0.1', () => r()));
  try {
    const sample = `svc-0.bench.svc.${Z}`;
    if (!(await askUntil(client, { address: UNBOUND }, sample, (a) => a.includes('10.96.1.1')))) throw new Error('unbound did not come up');
    if (!(await askUntil(client, { address: KNET }, sample, (a) => a.includes('10.96.1.1')))) throw new Error('knet dns did not answer');

    console.log(`dnsperf: ${queries.length} distinct questions, ${SECONDS}s per run, 8 clients, 500 outstanding`);
    const runs: Record<string, PerfResult & { p50Ms: number; p99Ms: number; latencyRate: number }> = {};
    const latencyRate = Number(args.get('rate') ?? 20_000);
    for (const [label, server] of [
      ['unbound', UNBOUND],
      ['knet', KNET],
    ] as const) {
      await dnsperf(server, dataFile, 2); // warm-up
      const { result } = await dnsperf(server, dataFile, SECONDS);
      const { text } = await dnsperf(server, dataFile, Math.max(3, Math.floor(SECONDS / 2)), ['-Q', String(latencyRate), '-v']);
      const lat = latencies(text);
      runs[label] = { ...result, p50Ms: pct(lat, 50), p99Ms: pct(lat, 99), latencyRate };
    }

    // Change → new answer, informer to answer: feed a new endpoint to the in-process informer,
    // then ask until the answer shows it.
    const changes: number[] = [];
    for (let i = 0; i < 200; i++) {
      const ip = `10.245.${1 + Math.floor(i / 250)}.${(i % 250) + 1}`;
      const t0 = process.hrtime.bigint();
      informers.upsert(slice('bench', 'changing', [{ ip }], [tcp('http', 80)]));
      if (!(await askUntil(client, { address: KNET }, `changing.bench.svc.${Z}`, (a) => a.includes(ip), 2000))) throw new Error(`change ${i} never showed`);
      changes.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    changes.sort((a, b) => a - b);
    // The same through the real path (Redis write, watch, informer, answer), on a real cluster.
    const storeChanges = await storeChangeLatencies(200);

    const k = runs.knet!;
    const u = runs.unbound!;
    const report = {
      when: new Date().toISOString(),
      seconds: SECONDS,
      questions: queries.length,
      unbound: u,
      knet: k,
      ratio: k.qps / u.qps,
      change: { samples: changes.length, p50Ms: pct(changes, 50), p99Ms: pct(changes, 99), maxMs: changes.at(-1) },
      storeChange: { samples: storeChanges.length, p50Ms: pct(storeChanges, 50), p99Ms: pct(storeChanges, 99), maxMs: storeChanges.at(-1) },
      knetStats: dns.stats(),
      targets: { ratio: 0.8, p99Ms: 1, changeP99Ms: 20 },
    };
    const row = (name: string, r: typeof k) =>
      `${name.padEnd(8)} ${r.qps.toFixed(0).padStart(9)} ${String(r.lost).padStart(7)} ${r.avgLatencyMs.toFixed(3).padStart(9)} ${r.p50Ms.toFixed(3).padStart(9)} ${r.p99Ms.toFixed(3).padStart(9)}`;
    console.log('');
    console.log(`server         qps    lost   avg(ms)   p50(ms)   p99(ms)   (p50/p99 at ${latencyRate} qps)`);
    console.log(row('unbound', u));
    console.log(row('knet', k));
    console.log('');
    console.log(`knet/unbound qps ratio: ${report.ratio.toFixed(2)} (target ≥ 0.80)`);
    console.log(`knet p99 at ${latencyRate} qps: ${k.p99Ms.toFixed(3)} ms (target < 1 ms)`);
    console.log(
      `change → new answer, store write to answer: p50 ${report.storeChange.p50Ms.toFixed(3)} ms, p99 ${report.storeChange.p99Ms.toFixed(3)} ms (target < 20 ms; Redis commit + watch + index)`,
    );
    console.log(`  of which informer event → answer: p50 ${report.change.p50Ms.toFixed(3)} ms, p99 ${report.change.p99Ms.toFixed(3)} ms`);
    console.log(`cache hit rate: ${(report.knetStats.cacheHitRate * 100).toFixed(1)}%`);
    writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');
    console.log(`\nwrote ${OUT}`);
  } finally {
    client.close();
    unbound.kill('SIGTERM');
    await dns.close();
  }
}

await main();
