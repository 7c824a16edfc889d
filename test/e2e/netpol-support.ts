/**
 * The upstream network-policy e2e setup (test/e2e/network/netpol: pods a, b, c in namespaces
 * x, y, z, probed each to each) against a knet cluster: real connections from pod IPs, the
 * observed truth table next to the one `knet netpol matrix` prints.
 */
import net from 'node:net';
import dgram from 'node:dgram';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { cliEntry } from '../../dataplane/cluster/cluster.js';
import type { KnetCluster } from '../../dataplane/testing/index.js';
import type { KObject } from '../../dataplane/base/model/object.js';

const exec = promisify(execFile);

export const NAMESPACES = ['x', 'y', 'z'] as const;
export const PODS = ['a', 'b', 'c'] as const;
/** TCP 8080–8082 and UDP 8083 on every pod, named as upstream names them (serve-PORT-PROTO). */
export const TCP_PORTS = [8080, 8081, 8082] as const;
export const UDP_PORT = 8083;

/** A denied probe waits this long for an answer; an allowed one that fails is tried again with ALLOWED_RETRY_MS. */
export const DENIED_WAIT_MS = 1500;
const ALLOWED_RETRY_MS = 5000;

export function manifests(): KObject[] {
  return NAMESPACES.flatMap((ns) => [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ns } } } as KObject,
    ...PODS.map(
      (pod) =>
        ({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { namespace: ns, name: pod, labels: { pod } },
          spec: {
            containers: [
              {
                name: 'c',
                image: 'nginx',
                ports: [...TCP_PORTS.map((p) => ({ name: `serve-${p}-tcp`, containerPort: p })), { name: `serve-${UDP_PORT}-udp`, containerPort: UDP_PORT, protocol: 'UDP' }],
              },
            ],
          },
        }) as KObject,
    ),
  ]);
}

export function policy(namespace: string, name: string, spec: Record<string, unknown>): KObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec } as KObject;
}

/** "x/a" → pod IP. */
export async function podIPs(cluster: KnetCluster): Promise<Map<string, string>> {
  const ips = new Map<string, string>();
  for (const ns of NAMESPACES) for (const p of (await cluster.get<Pod & KObject>('Pod', undefined, ns)) as Array<Pod & KObject>) ips.set(`${ns}/${p.metadata?.name}`, p.status!.podIP!);
  // In the order `knet netpol matrix` prints them.
  return new Map([...ips].sort(([a], [b]) => a.localeCompare(b)));
}

/** Whether an HTTP request from `from` to `to:port` is answered within `waitMs`. */
export function probeTcp(from: string, to: string, port: number, waitMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: to, port, localAddress: from });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('GET / HTTP/1.0\r\n\r\n'));
    socket.on('data', () => done(true));
  });
}

/** Whether a datagram from `from` to `to:port` is echoed within `waitMs`. */
export function probeUdp(from: string, to: string, port: number, waitMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), waitMs);
    sock.on('error', () => done(false));
    sock.on('message', () => done(true));
    sock.bind({ address: from, port: 0 }, () => sock.send('ping', port, to));
  });
}

export type Probe = (from: string, to: string, port: number, waitMs: number) => Promise<boolean>;

/**
 * The observed truth table, every cell probed at once: rows from, columns to, `.` answered, `X`
 * not. The expected table decides how long a cell waits: a denial is waited for DENIED_WAIT_MS,
 * an expected answer that does not come is tried once more with a longer wait (a loaded
 * machine), so a wrong verdict shows as a wrong cell, not as a flake.
 */
export async function observe(ips: Map<string, string>, port: number, expected: string[], probe: Probe = probeTcp): Promise<string[]> {
  const names = [...ips.keys()];
  const rows = await Promise.all(
    names.map(async (from, i) => {
      const cells = await Promise.all(
        names.map(async (to, j) => {
          const want = expected[i]?.[j] === '.';
          let ok = await probe(ips.get(from)!, ips.get(to)!, port, want ? ALLOWED_RETRY_MS : DENIED_WAIT_MS);
          if (!ok && want) ok = await probe(ips.get(from)!, ips.get(to)!, port, ALLOWED_RETRY_MS);
          return ok ? '.' : 'X';
        }),
      );
      return cells.join('');
    }),
  );
  return rows;
}

/** `knet netpol matrix -n x -n y -n z --port P/PROTO`, its rows as strings of marks. */
export async function printedMatrix(cluster: KnetCluster, port: string): Promise<{ text: string; rows: string[] }> {
  const { stdout } = await exec(process.execPath, [cliEntry(), 'netpol', 'matrix', '-n', 'x', '-n', 'y', '-n', 'z', '--port', port, '--redis', cluster.ref.redisUrl, '--cluster', cluster.name], { timeout: 60_000 });
  const rows = stdout
    .trim()
    .split('\n')
    .slice(2)
    .map((l) => l.split(/\s+/).slice(1).join(''));
  return { text: stdout, rows };
}

/**
 * Applies policies (and deletes the others of x, y, z) and resolves once the data plane's
 * informers hold exactly them: in a single-process cluster the components read the same
 * informers the test watches, so they have them too.
 */
export async function setPolicies(cluster: KnetCluster, policies: KObject[]): Promise<void> {
  const want = new Set(policies.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`));
  const stale: KObject[] = [];
  for (const ns of NAMESPACES) for (const p of (await cluster.get('NetworkPolicy', undefined, ns)) as KObject[]) if (!want.has(`${ns}/${p.metadata?.name}`)) stale.push(p);
  if (stale.length) await cluster.delete(stale, undefined, undefined, { wait: false });
  const applied = policies.length ? await cluster.apply(policies, { wait: false }) : [];
  const versions = new Map(applied.map((r) => [`${r.object.metadata?.namespace}/${r.object.metadata?.name}`, r.object.metadata?.resourceVersion]));
  const current = new Map<string, string | undefined>();
  let off: (() => void) | undefined;
  let done = false;
  await new Promise<void>((resolve) => {
    const check = () => {
      if (done || current.size !== want.size) return;
      for (const [k, rv] of versions) if (current.get(k) !== rv) return;
      done = true;
      resolve();
    };
    const key = (p: KObject) => `${p.metadata?.namespace}/${p.metadata?.name}`;
    const inScope = (p: KObject) => (NAMESPACES as readonly string[]).includes(p.metadata?.namespace ?? '');
    off = cluster.watch('NetworkPolicy', {
      add: (p) => inScope(p) && (current.set(key(p), p.metadata?.resourceVersion), check()),
      update: (_o, p) => inScope(p) && (current.set(key(p), p.metadata?.resourceVersion), check()),
      delete: (p) => inScope(p) && (current.delete(key(p)), check()),
    });
    check();
  });
  off?.();
}
