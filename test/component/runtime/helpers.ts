/**
 * Shared helpers for the runtime component tests: start a pod on a 127.53.x.y address, keep its
 * latest status, wait for conditions, and talk to it with real curl and sockets.
 */
import { PodSandbox } from '../../../dataplane/node/shell/pod-sandbox.js';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigMap, PersistentVolumeClaim, Pod, PodSpec, Secret, Service } from 'kubernetes-types/core/v1.js';
import { loggedRuns, runLogFile } from '../../../dataplane/base/container-logs/log-layout.js';
import { parseLogLine } from '../../../dataplane/base/container-logs/cri-log-line.js';
import { emptyDirPath, runsPrograms } from '../../../dataplane/node/runtime/pod-volumes-dir.js';
import { startPod, type PodHandle, type PodRuntimeStatus, type RuntimeEvent, type RuntimeTuning, type StartPodOptions } from '../../../dataplane/node/runtime/container-runner.js';

export interface TestPod {
  handle: PodHandle;
  podIP: string;
  logDir: string;
  latest(): PodRuntimeStatus;
  /** Every status delivered so far. */
  history: PodRuntimeStatus[];
  events(): RuntimeEvent[];
}

export interface TestObjects {
  secrets: Secret[];
  configMaps: ConfigMap[];
  services: Service[];
  /** Given: the pod waits for its claims to be Bound, as the node agent's lookup makes it (a live array: a test binds one later). */
  claims?: PersistentVolumeClaim[];
}

export const FAST: RuntimeTuning = { backoffBaseMs: 100, secondMs: 200, retryMs: 50 };

const started: TestPod[] = [];
const dirs: string[] = [];

export function podOf(name: string, spec: PodSpec, extra: Partial<Pod['metadata']> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}`, ...extra }, spec: { nodeName: 'node-1', ...spec } };
}

export function runPod(pod: Pod, podIP: string, objects: Partial<TestObjects> = {}, tuning: RuntimeTuning = FAST, extra: Pick<StartPodOptions, 'records' | 'resume' | 'netpol' | 'volumesDir' | 'currentPod' | 'clock'> & { logDir?: string; persistentVolumesDir?: string } = {}): TestPod {
  const logDir = extra.logDir ?? mkdtempSync(join(tmpdir(), 'knet-runtime-'));
  if (!extra.logDir) dirs.push(logDir);
  const history: PodRuntimeStatus[] = [];
  const objs: TestObjects = { secrets: objects.secrets ?? [], configMaps: objects.configMaps ?? [], services: objects.services ?? [] };
  const claims = objects.claims;
  const lookup = {
    secret: (ns: string, name: string) => objs.secrets.find((s) => s.metadata?.namespace === ns && s.metadata?.name === name),
    configMap: (ns: string, name: string) => objs.configMaps.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name),
    ...(claims && { persistentVolumeClaim: (ns: string, name: string) => claims.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name) }),
  };
  // Toolbox images (busybox, curlimages/curl…) run in the pod's simulated shell.
  const sandbox = new PodSandbox({
    pod,
    podIP,
    hostIP: '127.0.0.1',
    lookup,
    cluster: { clusterDomain: 'cluster.local', dnsServiceIP: '127.0.0.53', dnsPort: () => 53, nodeResolvConf: { nameservers: [], searches: [], options: [] } },
    // As the node agent does: a pod with programs shares its emptyDirs through the disk.
    emptyDirOnDisk: extra.volumesDir && runsPrograms(pod) ? (v) => emptyDirPath(extra.volumesDir!, v) : undefined,
    persistentVolumesDir: extra.persistentVolumesDir,
  });
  const handle = startPod({
    pod,
    podIP,
    nodeName: 'node-1',
    hostIP: '127.0.0.1',
    logDir,
    services: () => objs.services,
    lookup,
    sandbox,
    onStatus: (s) => history.push(s),
    runtime: tuning,
    records: extra.records,
    resume: extra.resume,
    netpol: extra.netpol,
    volumesDir: extra.volumesDir,
    currentPod: extra.currentPod,
    clock: extra.clock,
  });
  const tp: TestPod = {
    handle,
    podIP,
    logDir,
    history,
    latest: () => handle.status(),
    events: () => handle.eventHistory(),
  };
  started.push(tp);
  return tp;
}

/**
 * What a container's log shows (its CRI lines' text, as `kubectl logs` prints it): the newest
 * run, a given run, or every run kept, oldest first ('all').
 */
export function logText(pod: { logDir: string }, container: string, run: number | 'newest' | 'all' = 'newest'): string {
  const dir = join(pod.logDir, container);
  const runs = loggedRuns(dir);
  const chosen = run === 'all' ? runs : run === 'newest' ? runs.slice(-1) : [run];
  return chosen.map((r) => criText(runLogFile(dir, r))).join('');
}

/** The text of one CRI log file. */
export function criText(file: string): string {
  if (!existsSync(file)) return '';
  const lines = readFileSync(file).toString('latin1').split('\n');
  return lines
    .filter((l) => l !== '')
    .map((l) => parseLogLine(Buffer.from(l + '\n', 'latin1'))?.content.toString('utf8') ?? '')
    .join('');
}

/** Stops every pod started by this file and removes their log directories. */
export async function stopAll(): Promise<void> {
  await Promise.all(started.splice(0).map((p) => p.handle.stop(0)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface CurlResult {
  code: number;
  status: number;
  body: string;
  /** curl's %{local_ip}:%{local_port}. */
  local: string;
}

/** Real curl; `code` is curl's exit code (7 = refused, 52 = empty reply). */
export function curl(url: string, args: string[] = []): Promise<CurlResult> {
  const marker = '\n--knet-curl--';
  return new Promise((resolve) => {
    execFile('curl', ['-s', '--max-time', '5', ...args, '-w', `${marker}%{http_code} %{local_ip}:%{local_port}`, url], (err, stdout) => {
      const at = stdout.lastIndexOf(marker);
      const body = at >= 0 ? stdout.slice(0, at) : stdout;
      const [status, local] = (at >= 0 ? stdout.slice(at + marker.length) : '0 ').split(' ');
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, status: Number(status), body, local: local ?? '' });
    });
  });
}

/** One UDP request/response from a socket bound to `from`; undefined on timeout. */
export function udpAsk(host: string, port: number, payload: string, from = '127.53.0.1', timeoutMs = 2000): Promise<{ reply: string; local: string } | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const finish = (v: { reply: string; local: string } | undefined) => {
      clearTimeout(timer);
      sock.close();
      resolve(v);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    sock.on('error', () => finish(undefined));
    sock.on('message', (msg) => finish({ reply: msg.toString('utf8'), local: `${from}:${sock.address().port}` }));
    sock.bind({ address: from, port: 0 }, () => sock.send(payload, port, host));
  });
}

export function container(pod: PodRuntimeStatus, name?: string) {
  const s = name ? pod.containerStatuses.find((c) => c.name === name) : pod.containerStatuses[0];
  if (!s) throw new Error(`no status for container ${name}`);
  return s;
}

export function condition(pod: PodRuntimeStatus, type: string): string | undefined {
  return pod.conditions.find((c) => c.type === type)?.status;
}

/** Socket handles still open in this process (listeners and UDP sockets). */
export function openSocketHandles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap' || r === 'UDPWrap' || r === 'TCPSocketWrap');
}
