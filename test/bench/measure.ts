/**
 * What the proxy, DNS and ingress benches read the same way: a process's CPU time from /proc,
 * and wrk's summary. (Run through test/bench/dns/register.mjs, like the benches themselves.)
 */
import { readFileSync } from 'node:fs';

/** A process's CPU time so far, in µs (Linux /proc; throws once the process is gone). */
export function procCpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name "(…)": state is field 0, utime 11, stime 12, in clock ticks of 10 ms.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) * 10_000, system: Number(fields[12]) * 10_000 };
}

export interface WrkSummary {
  requestsPerSec: number;
  p50ms: number;
  p99ms: number;
  requests: number;
  /** Connect, read, write and timeout errors together. */
  socketErrors: number;
  /** wrk's own "Socket errors: …" line, or ''. */
  socketErrorLine: string;
  non2xx: number;
}

/** The figures of a `wrk --latency` run's output. */
export function parseWrk(stdout: string): WrkSummary {
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    requestsPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0),
    p50ms: ms(/^\s+50%\s+(\S+)/m.exec(stdout)?.[1]),
    p99ms: ms(/^\s+99%\s+(\S+)/m.exec(stdout)?.[1]),
    requests: Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0),
    socketErrors: socket ? socket.slice(1).reduce((n, v) => n + Number(v), 0) : 0,
    socketErrorLine: /Socket errors: .*/.exec(stdout)?.[0] ?? '',
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0),
  };
}

/** wrk's "1.23ms" / "850.00us" / "1.02s" in ms. */
function ms(text: string | undefined): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text ?? '');
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
}
