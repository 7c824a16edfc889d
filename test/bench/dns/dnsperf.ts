/**
 * dnsperf runs for the DNS bench: throughput (as many queries as the server answers) and
 * latency at a fixed rate, each with the CPU time the server spent on them.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { procCpuTimes } from '../measure.js';

/** The same for every server: 8 clients (8 sockets), at most 500 queries in flight. */
export const CLIENTS = 8;
export const OUTSTANDING = 500;

export interface PerfRun {
  qps: number;
  completed: number;
  lost: number;
  avgLatencyMs: number;
  /** Server CPU (user + system) per answered query, in µs: what a query costs, whatever else runs. */
  cpuUsPerQuery: number;
  userUsPerQuery: number;
  /**
   * Time the server's thread spent waiting for a CPU while runnable, per second of the run
   * (ms/s): on a shared machine this, not the server, is what latency percentiles show.
   */
  runQueueWaitMsPerS: number;
  /** Per-query latencies (rate-limited runs only), ms. */
  p50Ms?: number;
  p99Ms?: number;
  p999Ms?: number;
}

/** How to read a server's CPU time (user and system, µs) since it started. */
export type CpuClock = () => { user: number; system: number };

/**
 * Runs dnsperf without blocking this process (the knet server shares its event loop), its
 * output going to a file so that reading it costs the server nothing while it runs.
 * `rate`: fixed queries per second with per-query latencies (-Q, -v); else flat out.
 */
export async function dnsperf(
  server: string,
  dataFile: string,
  seconds: number,
  cpu: CpuClock,
  pid: number,
  rate?: number,
): Promise<PerfRun> {
  const outFile = join(dataFile, '..', `dnsperf-${server}-${Date.now()}.txt`);
  const fd = openSync(outFile, 'w');
  const extra = rate ? ['-Q', String(rate), '-v'] : [];
  const args = ['-s', server, '-p', '53', '-d', dataFile, '-l', String(seconds), '-c', String(CLIENTS), '-q', String(OUTSTANDING), ...extra];
  const before = cpu();
  const waitBefore = runQueueWaitNs(pid);
  const t0 = process.hrtime.bigint();
  const child = spawn('dnsperf', args, { stdio: ['ignore', fd, 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve());
  });
  const after = cpu();
  const waitMs = (runQueueWaitNs(pid) - waitBefore) / 1e6;
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  closeSync(fd);
  const text = readFileSync(outFile, 'utf8');
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  const completed = num(/Queries completed:\s+(\d+)/);
  const user = after.user - before.user;
  const run: PerfRun = {
    qps: num(/Queries per second:\s+([\d.]+)/),
    completed,
    lost: num(/Queries lost:\s+(\d+)/),
    avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    cpuUsPerQuery: (user + after.system - before.system) / completed,
    userUsPerQuery: user / completed,
    runQueueWaitMsPerS: waitMs / wallS,
  };
  if (rate) {
    const lat = latencies(text);
    run.p50Ms = percentile(lat, 50);
    run.p99Ms = percentile(lat, 99);
    run.p999Ms = percentile(lat, 99.9);
  }
  return run;
}

/** Per-query latencies from dnsperf -v ("> NOERROR name A 0.000123"), in ms, sorted. */
function latencies(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)) out.push(Number(m[1]) * 1000);
  return out.sort((a, b) => a - b);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)]!;
}

/** CPU time of another process from /proc (clock ticks of 10 ms), in µs. */
export function procCpu(pid: number): CpuClock {
  return () => procCpuTimes(pid);
}

/** Nanoseconds a process's main thread has waited on a run queue (/proc/…/schedstat, field 2). */
function runQueueWaitNs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]);
  } catch {
    return NaN;
  }
}
