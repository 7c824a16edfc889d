/**
 * Performing one probe, as the kubelet's prober does (k/k pkg/probe/{http,tcp,exec}):
 * - httpGet: host defaults to the pod IP; port by number or containerPort name; scheme HTTP or
 *   HTTPS (certificates not verified); httpHeaders (a `Host` header sets the host); User-Agent
 *   kube-probe/<version>; same-host redirects followed (up to 10); 200–399 is success.
 * - tcpSocket: a connection opens.
 * - exec: where `kubectl exec` would run it — for a program a local process (no shell) with the
 *   container's environment, for an emulated image the pod's simulated shell (its own files:
 *   `cat /tmp/healthy` sees what the container wrote); exit 0 is success, the combined output
 *   is the failure message.
 * - grpc: knet has no gRPC client; it is checked as a TCP connect to its port (documented gap).
 * Probes come from the node: connections use the node IP as their source address.
 * The outcome is 'Unknown' when the probe itself is misconfigured (the kubelet discards those).
 */
import { spawn } from 'node:child_process';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Container, HTTPGetAction, Probe } from 'kubernetes-types/core/v1.js';
import type { ProbeResult } from './probes.js';

/** The Kubernetes minor version knet mirrors, for the User-Agent. */
export const KUBE_MINOR = '1.33';
const KUBE_PROBE_UA = `kube-probe/${KUBE_MINOR}`;
const MAX_BODY = 10 * 1024;
const MAX_REDIRECTS = 10;
/** Node's longest timer (a longer one fires at once): "no timeout" is this. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ProbeTarget {
  podIP: string;
  /** Source address of probe connections (the node IP); omitted → the OS picks. */
  hostIP?: string;
  container: Container;
  env: ReadonlyMap<string, string>;
  baseEnv?: Record<string, string>;
  /** Emulated images: exec probes run in the pod's simulated shell instead of on the host. */
  exec?: (command: string[], timeoutMs: number) => Promise<{ exitCode: number; output: string; timedOut: boolean }>;
}

export interface ProbeOutcome {
  result: ProbeResult;
  /** The failure text the kubelet puts in the Unhealthy event, or the error for Unknown. */
  output: string;
}

export async function runProbe(probe: Probe, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  try {
    if (probe.exec) return await execProbe(probe.exec.command ?? [], target, timeoutMs);
    if (probe.httpGet) {
      const res = await httpGetAction(probe.httpGet, target, timeoutMs, KUBE_PROBE_UA);
      if ('error' in res) return { result: 'Failure', output: `Get ${JSON.stringify(res.url)}: ${res.error}` };
      if (res.status >= 200 && res.status < 400) return { result: 'Success', output: res.body };
      return { result: 'Failure', output: `HTTP probe failed with statuscode: ${res.status}` };
    }
    if (probe.tcpSocket) return await tcpProbe(probe.tcpSocket.host || target.podIP, resolvePort(probe.tcpSocket.port, target.container), target.hostIP, timeoutMs);
    if (probe.grpc) return await tcpProbe(target.podIP, probe.grpc.port, target.hostIP, timeoutMs);
    return { result: 'Unknown', output: 'missing probe handler' };
  } catch (err) {
    return { result: 'Unknown', output: (err as Error).message };
  }
}

/** probe.ResolveContainerPort: a number, a containerPort name, or a number written as text. */
export function resolvePort(port: number | string, container: Container): number {
  let n: number;
  if (typeof port === 'number') n = port;
  else {
    const named = (container.ports ?? []).find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^\d+$/.test(port)) n = Number(port);
    else throw new Error(`port ${port} not found`);
  }
  if (n > 0 && n < 65536) return n;
  throw new Error(`invalid port number: ${n}`);
}

/** What an HTTP GET came to after its redirects: the last answer, or the transport error. */
export type HttpGetOutcome = { url: string; status: number; body: string } | { url: string; error: string };

/**
 * An httpGet action as the kubelet builds it for probes and lifecycle handlers
 * (NewRequestForHTTPGetAction): the pod IP unless `host`, the port by number or name, the
 * scheme, `httpHeaders` over the defaults; same-host redirects followed. `signal` ends it early.
 */
export async function httpGetAction(
  action: HTTPGetAction,
  target: Pick<ProbeTarget, 'podIP' | 'hostIP' | 'container'>,
  timeoutMs: number,
  userAgent: string,
  signal?: AbortSignal,
): Promise<HttpGetOutcome> {
  const port = resolvePort(action.port, target.container);
  const scheme = (action.scheme ?? 'HTTP').toUpperCase() === 'HTTPS' ? 'https' : 'http';
  const host = action.host || target.podIP;
  const path = action.path ?? '';
  const deadline = Date.now() + timeoutMs;
  const hostPort = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  let url = new URL(`${scheme}://${hostPort}${path.startsWith('/') || path === '' ? path : '/' + path}`);
  const headers: Record<string, string> = { 'User-Agent': userAgent, Accept: '*/*', Connection: 'close' };
  for (const { name, value } of action.httpHeaders ?? []) {
    const key = Object.keys(headers).find((h) => h.toLowerCase() === name.toLowerCase()) ?? name;
    headers[key] = value;
  }
  for (let hop = 0; ; hop++) {
    const res = await httpOnce(url, headers, target.hostIP, deadline - Date.now(), signal);
    if ('error' in res) return { url: url.toString(), error: res.error };
    const location = res.status >= 300 && res.status < 400 ? res.location : undefined;
    if (location && hop < MAX_REDIRECTS) {
      const next = new URL(location, url);
      // Redirects to another host are not followed; the kubelet counts the 3xx as success (with a warning).
      if (next.hostname === url.hostname) {
        url = next;
        continue;
      }
    }
    return { url: url.toString(), status: res.status, body: res.body };
  }
}

type HttpOnce = { status: number; location?: string; body: string } | { error: string };

function httpOnce(url: URL, headers: Record<string, string>, sourceIP: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<HttpOnce> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (v: HttpOnce) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
      resolve(v);
    };
    const cancel = () => {
      settle({ error: 'context canceled' });
      req.destroy();
    };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      url,
      { method: 'GET', headers, agent: false, localAddress: sourceIP, ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}) },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < MAX_BODY) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => settle({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY) }));
        res.on('error', (err: NodeJS.ErrnoException) => settle({ error: netError(err, url.host) }));
      },
    );
    const timer = setTimeout(() => {
      settle({ error: 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)' });
      req.destroy();
    }, Math.min(MAX_TIMER_MS, Math.max(1, timeoutMs)));
    if (signal?.aborted) cancel();
    else signal?.addEventListener('abort', cancel, { once: true });
    req.on('error', (err: NodeJS.ErrnoException) => settle({ error: netError(err, url.host) }));
    req.end();
  });
}

function tcpProbe(host: string, port: number, sourceIP: string | undefined, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const sock = connect({ host, port, localAddress: sourceIP });
    const timer = setTimeout(() => done({ result: 'Failure', output: `dial tcp ${addr}: i/o timeout` }), Math.max(1, timeoutMs));
    const done = (o: ProbeOutcome) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(o);
    };
    sock.once('connect', () => done({ result: 'Success', output: '' }));
    sock.once('error', (err: NodeJS.ErrnoException) => done({ result: 'Failure', output: netError(err, addr) }));
  });
}

function execProbe(command: string[], target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  if (command.length === 0) return Promise.resolve({ result: 'Unknown', output: 'exec probe has no command' });
  if (target.exec) {
    return target.exec(command, timeoutMs).then((r) =>
      r.timedOut ? { result: 'Failure', output: `command ${JSON.stringify(command.join(' '))} timed out` } : { result: r.exitCode === 0 ? 'Success' : 'Failure', output: r.output.slice(0, MAX_BODY) },
    );
  }
  return new Promise((resolve) => {
    const env = { ...(target.baseEnv ?? {}), ...Object.fromEntries(target.env) };
    const child = spawn(command[0]!, command.slice(1), { env, shell: false, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let size = 0;
    const collect = (c: Buffer) => {
      if (size < MAX_BODY) out.push(c);
      size += c.length;
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let settled = false;
    const done = (o: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      done({ result: 'Failure', output: `command ${JSON.stringify(command.join(' '))} timed out` });
    }, Math.max(1, timeoutMs));
    child.on('error', (err: NodeJS.ErrnoException) =>
      done({ result: 'Failure', output: err.code === 'ENOENT' ? `exec: "${command[0]}": executable file not found in $PATH` : err.message }),
    );
    child.on('close', (code) => {
      const output = Buffer.concat(out).toString('utf8').slice(0, MAX_BODY);
      done(code === 0 ? { result: 'Success', output } : { result: 'Failure', output });
    });
  });
}

function netError(err: NodeJS.ErrnoException, addr: string): string {
  switch (err.code) {
    case 'ECONNREFUSED': return `dial tcp ${addr}: connect: connection refused`;
    case 'ECONNRESET': return `read tcp ${addr}: read: connection reset by peer`;
    case 'EHOSTUNREACH': return `dial tcp ${addr}: connect: no route to host`;
    case 'EADDRNOTAVAIL': return `dial tcp ${addr}: connect: cannot assign requested address`;
    default: return err.message === 'socket hang up' ? 'EOF' : err.message;
  }
}
