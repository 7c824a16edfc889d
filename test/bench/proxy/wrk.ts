/**
 * wrk runs and their summaries: req/s and latency from wrk's output, the proxy process's own
 * CPU time per request (utime+stime from /proc: ours vs a peer's, robust to other people's
 * load), and the TIME_WAIT count after a Connection: close run.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { parseWrk, procCpuTimes } from '../measure.js';

const run = promisify(execFile);

export interface WrkResult {
  target: string;
  mode: 'keep-alive' | 'close';
  requestsPerSec: number;
  p50ms: number;
  p99ms: number;
  requests: number;
  socketErrors: number;
  non2xx: number;
  /** CPU time (user+system) of the proxy process per request, µs; absent for nginx direct. */
  proxyCpuUsPerRequest?: number;
  /** Sockets in TIME_WAIT machine-wide right after a Connection: close run. */
  timeWaitAfter?: number;
}

export interface WrkOptions {
  seconds: number;
  connections: number;
}

/** utime + stime of a process, in µs. */
function cpuUs(pid: number): number {
  const t = procCpuTimes(pid);
  return t.user + t.system;
}

const timeWait = (): number => Number(/\btw (\d+)/.exec(readFileSync('/proc/net/sockstat', 'utf8'))?.[1] ?? 0);

export async function wrk(opts: WrkOptions, target: string, url: string, mode: WrkResult['mode'], proxyPid?: number): Promise<WrkResult> {
  const cpuBefore = proxyPid ? cpuUs(proxyPid) : 0;
  const { stdout } = await run('wrk', ['-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '--latency', '--timeout', '5s', ...(mode === 'close' ? ['-H', 'Connection: close'] : []), url]);
  const { requestsPerSec, p50ms, p99ms, requests, socketErrors, non2xx } = parseWrk(stdout);
  const result: WrkResult = { target, mode, requestsPerSec, p50ms, p99ms, requests, socketErrors, non2xx };
  if (proxyPid && result.requests > 0) result.proxyCpuUsPerRequest = (cpuUs(proxyPid) - cpuBefore) / result.requests;
  if (mode === 'close') result.timeWaitAfter = timeWait();
  // Let TIME_WAIT and the proxy settle between runs.
  await new Promise((r) => setTimeout(r, 1000));
  return result;
}

export const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)]! : NaN;
};

/**
 * Per target and mode, the run with the median req/s; errors are summed over every round, the
 * proxy's CPU per request is the median over rounds, TIME_WAIT the most seen after any round.
 */
export function medians(all: WrkResult[]): Array<WrkResult & { rounds: number[] }> {
  const groups = new Map<string, WrkResult[]>();
  for (const r of all) groups.set(`${r.mode} ${r.target}`, [...(groups.get(`${r.mode} ${r.target}`) ?? []), r]);
  return [...groups.values()].map((g) => {
    const sorted = [...g].sort((a, b) => a.requestsPerSec - b.requestsPerSec);
    const mid = sorted[Math.floor(sorted.length / 2)]!;
    const cpu = g.flatMap((r) => (r.proxyCpuUsPerRequest === undefined ? [] : [r.proxyCpuUsPerRequest]));
    const tw = g.flatMap((r) => (r.timeWaitAfter === undefined ? [] : [r.timeWaitAfter]));
    return {
      ...mid,
      socketErrors: g.reduce((n, r) => n + r.socketErrors, 0),
      non2xx: g.reduce((n, r) => n + r.non2xx, 0),
      ...(cpu.length ? { proxyCpuUsPerRequest: median(cpu) } : {}),
      ...(tw.length ? { timeWaitAfter: Math.max(...tw) } : {}),
      rounds: g.map((r) => r.requestsPerSec),
    };
  });
}

/** a/b req/s of two targets run back to back in the same round, median over rounds: drift between rounds cancels. */
export function pairedRatio(all: WrkResult[], mode: WrkResult['mode'], a: string, b: string): number {
  const of = (t: string) => all.filter((r) => r.mode === mode && r.target === t);
  const as = of(a);
  const bs = of(b);
  return median(as.map((r, i) => r.requestsPerSec / (bs[i]?.requestsPerSec ?? NaN)));
}
