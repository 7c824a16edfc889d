/**
 * Shared by the proxy's end-to-end tests: real curl, agnhost manifests, a UDP exchange, and
 * pod lookups. Client addresses for `curl --interface` come from 127.60.0.0/16, which no
 * cluster's address plan uses (DESIGN.md §1: anything outside the plan is "outside").
 */
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { promisify } from 'node:util';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KnetCluster } from '../../dataplane/index.js';
import { agnhostWorkload, type AgnhostOptions } from '../support/agnhost.js';

const run = promisify(execFile);

export interface CurlResult {
  /** curl's exit code: 0 ok, 7 refused, 28 timed out, 52 empty reply. */
  code: number;
  body: string;
}

export async function curl(url: string, ...args: string[]): Promise<CurlResult> {
  try {
    const { stdout } = await run('curl', ['-s', '--max-time', '3', ...args, url]);
    return { code: 0, body: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, body: e.stdout ?? '' };
  }
}

/** `curl --interface FROM`: the connection's source address is FROM. */
export function curlFrom(from: string, url: string, ...args: string[]): Promise<CurlResult> {
  return curl(url, '--interface', from, ...args);
}

/** Bodies of n sequential requests (each curl is a new connection). */
export async function hostnames(url: string, n: number, from?: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = from ? await curlFrom(from, url) : await curl(url);
    out.push(r.code === 0 ? r.body : `<curl exit ${r.code}>`);
  }
  return out;
}

/** One datagram to ip:port and its answer (agnhost's UDP port answers "hostname"). */
export function udpAsk(ip: string, port: number, message: string, from = '127.0.0.1', timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`no UDP answer from ${ip}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(msg.toString());
    });
    sock.bind({ address: from, port: 0 }, () => sock.send(message, port, ip));
  });
}

/** A Deployment of agnhost netexec pods (HTTP 8080, UDP 8081) with a readiness probe. */
export function agnhostDeployment(o: Omit<AgnhostOptions, 'udp' | 'readiness' | 'statefulSet'>): string {
  return agnhostWorkload({ ...o, udp: true, readiness: true });
}

export async function readyPods(cluster: KnetCluster, labels: Record<string, string>): Promise<Pod[]> {
  const all = (await cluster.get<Pod>('pods')) as Pod[];
  return all.filter(
    (p) =>
      Object.entries(labels).every(([k, v]) => p.metadata?.labels?.[k] === v) &&
      !p.metadata?.deletionTimestamp &&
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
}
