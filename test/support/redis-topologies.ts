/**
 * Redis topologies a user may already run, started for a test on free loopback ports in a
 * temp dir (never the machine's own Redis on 6379), each with a password:
 *  - Sentinel: a master, one replica and three Sentinels monitoring `mymaster`;
 *  - Cluster: three masters (no replicas) that share the 16384 slots.
 * cleanup() kills every process and removes the dir, whatever state the test left them in.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from '../../dataplane/cluster/embedded-redis.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';

export interface SentinelTopology {
  /** redis-sentinel://:pw@h:s1,h:s2,h:s3/mymaster */
  url: string;
  password: string;
  masterName: string;
  sentinelPorts: number[];
  /** Data nodes by port (the master first, as started). */
  dataPorts: number[];
  /** The port Sentinels currently report as master, asked of the given Sentinel (default the first). */
  masterPort(sentinelIndex?: number): Promise<number>;
  /**
   * `SENTINEL FAILOVER` after the replica has caught up (so no acknowledged write is lost),
   * resolving once every Sentinel names the new master and it accepts writes.
   */
  failover(): Promise<{ from: number; to: number }>;
  /** A plain connection to one data node (the caller disconnects it). */
  node(port: number): Redis;
  cleanup(): Promise<void>;
}

export interface ClusterTopology {
  /** redis-cluster://:pw@h:p1,h:p2,h:p3 */
  url: string;
  password: string;
  ports: number[];
  /** The port of the master serving `key`'s slot. */
  nodeForKey(key: string): Promise<number>;
  cleanup(): Promise<void>;
}

interface Processes {
  dir: string;
  children: ChildProcess[];
}

export async function startSentinelTopology(password = 'sentinel-pw/with@odd:chars'): Promise<SentinelTopology> {
  const procs: Processes = { dir: mkdtempSync(path.join(os.tmpdir(), 'knet-sentinel-')), children: [] };
  const masterName = 'mymaster';
  try {
    const [master, replica] = [await freePort(), await freePort()];
    // No 5 s wait for more replicas before a (diskless) full sync, on either side of a failover.
    const auth = ['--requirepass', password, '--masterauth', password, '--repl-diskless-sync-delay', '0'];
    await Promise.all([
      startServer(procs, 'master', [...dataArgs(procs.dir, 'master', master), ...auth]),
      startServer(procs, 'replica', [...dataArgs(procs.dir, 'replica', replica), ...auth, '--replicaof', HOST, String(master)]),
    ]);
    const data = (port: number) => new Redis({ host: HOST, port, password, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    // The replica in sync before the Sentinels start: their first INFO of the master then
    // lists it (the next one is 10 s later).
    await until('the replica to sync', async () => (await info(data(replica), 'replication')).master_link_status === 'up');
    const sentinelPorts = [await freePort(), await freePort(), await freePort()];
    await Promise.all(
      sentinelPorts.map((port, i) => {
        const dir = path.join(procs.dir, `sentinel-${i}`);
        mkdirSync(dir);
        // Sentinel rewrites its config file (discovered peers, the current master), so each gets its own.
        const conf = path.join(dir, 'sentinel.conf');
        writeFileSync(
          conf,
          [
            `port ${port}`,
            `bind ${HOST}`,
            `dir ${dir}`,
            `logfile ${path.join(dir, 'sentinel.log')}`,
            `requirepass ${quote(password)}`,
            // Sentinels talk to each other with this password once they require one.
            `sentinel sentinel-pass ${quote(password)}`,
            `sentinel monitor ${masterName} ${HOST} ${master} 2`,
            `sentinel auth-pass ${masterName} ${quote(password)}`,
            `sentinel down-after-milliseconds ${masterName} 1000`,
            `sentinel failover-timeout ${masterName} 10000`,
            '',
          ].join('\n'),
        );
        return startServer(procs, `sentinel-${i}`, [conf, '--sentinel'], port);
      }),
    );
    const sentinel = (i: number) => new Redis({ host: HOST, port: sentinelPorts[i]!, password, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    const ask = async <T>(i: number, ...args: string[]): Promise<T> => {
      const c = sentinel(i);
      try {
        await c.connect();
        return (await c.call('SENTINEL', ...args)) as T;
      } finally {
        c.disconnect();
      }
    };
    const masterPort = async (i = 0) => Number(((await ask<string[]>(i, 'get-master-addr-by-name', masterName)) ?? [])[1]);

    // Ready when every Sentinel knows the replica and its two peers (SENTINEL FAILOVER needs a
    // known replica; the others must learn of the new master).
    await until('the Sentinels to discover the replica and each other', async () => {
      for (let i = 0; i < 3; i++) {
        const replicas = await ask<unknown[]>(i, 'replicas', masterName);
        const peers = await ask<unknown[]>(i, 'sentinels', masterName);
        if (replicas.length < 1 || peers.length < 2) return false;
      }
      return true;
    });

    const dataPorts = [master, replica];
    return {
      url: `redis-sentinel://:${encodeURIComponent(password)}@${sentinelPorts.map((p) => `${HOST}:${p}`).join(',')}/${masterName}`,
      password,
      masterName,
      sentinelPorts,
      dataPorts,
      masterPort,
      node: (port) => new Redis({ host: HOST, port, password, maxRetriesPerRequest: 1 }),
      async failover() {
        const from = await masterPort();
        const to = dataPorts.find((p) => p !== from)!;
        // Replication is asynchronous: the replica must have everything the master acknowledged,
        // and the Sentinel must see it healthy (it only promotes such a replica).
        await until(`the replica ${to} to catch up and look healthy to the Sentinel`, async () => {
          const m = data(from);
          try {
            await m.connect();
            if (Number(await m.call('WAIT', '1', '200')) < 1) return false;
          } finally {
            m.disconnect();
          }
          const replicas = await ask<string[][]>(0, 'replicas', masterName);
          return replicas.some((r) => {
            const f = fields(r);
            return f.port === String(to) && f.flags === 'slave' && f['master-link-status'] === 'ok';
          });
        });
        await ask(0, 'failover', masterName);
        // Done once every Sentinel names the new master and it takes writes. The old master is
        // turned into a replica only when a Sentinel next looks at it (up to 10 s later); clients
        // have left it by then (ioredis's failover detector follows +switch-master).
        await until(`every Sentinel to name ${to} as master`, async () => {
          for (let i = 0; i < 3; i++) if ((await masterPort(i)) !== to) return false;
          return (await info(data(to), 'replication')).role === 'master';
        });
        return { from, to };
      },
      cleanup: () => stopAll(procs),
    };
  } catch (err) {
    await stopAll(procs);
    throw err;
  }
}

export async function startClusterTopology(password = 'cluster-pw'): Promise<ClusterTopology> {
  const procs: Processes = { dir: mkdtempSync(path.join(os.tmpdir(), 'knet-rcluster-')), children: [] };
  try {
    const ports = [await freePort(), await freePort(), await freePort()];
    await Promise.all(
      ports.map(async (port, i) => {
        // The cluster bus port defaults to port + 10000, which may be taken or past 65535: pick one.
        const busPort = await freePort();
        const name = `node-${i}`;
        await startServer(procs, name, [
          ...dataArgs(procs.dir, name, port),
          '--requirepass', password,
          '--masterauth', password,
          '--cluster-enabled', 'yes',
          '--cluster-port', String(busPort),
          '--cluster-config-file', path.join(procs.dir, name, 'nodes.conf'),
          '--cluster-node-timeout', '2000',
        ]);
      }),
    );
    await run('redis-cli', ['-h', HOST, '-p', String(ports[0]), '--no-auth-warning', '-a', password, '--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 20_000,
    });
    const node = (port: number) => new Redis({ host: HOST, port, password, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    await until('every cluster node to report cluster_state:ok', async () => {
      for (const p of ports) if ((await info(node(p), 'cluster', 'CLUSTER', 'INFO')).cluster_state !== 'ok') return false;
      return true;
    });
    return {
      url: `redis-cluster://:${encodeURIComponent(password)}@${ports.map((p) => `${HOST}:${p}`).join(',')}`,
      password,
      ports,
      async nodeForKey(key: string) {
        const c = node(ports[0]!);
        try {
          await c.connect();
          const slot = Number(await c.call('CLUSTER', 'KEYSLOT', key));
          const shards = (await c.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, ...unknown[]]]>;
          const owner = shards.find(([lo, hi]) => slot >= lo && slot <= hi);
          if (!owner) throw new Error(`no node serves slot ${slot}`);
          return Number(owner[2][1]);
        } finally {
          c.disconnect();
        }
      },
      cleanup: () => stopAll(procs),
    };
  } catch (err) {
    await stopAll(procs);
    throw err;
  }
}

/** A data node's arguments: loopback, its own dir, no persistence (nothing here outlives the test). */
function dataArgs(root: string, name: string, port: number): string[] {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  return ['--bind', HOST, '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', path.join(dir, 'redis.log'), '--daemonize', 'no'];
}

/** A Sentinel reply's flat [name, value, name, value…] list as an object. */
function fields(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

/** Sentinel config values are parsed like a shell line: quote anything unusual. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

async function startServer(procs: Processes, name: string, args: string[], port = Number(args[args.indexOf('--port') + 1])): Promise<void> {
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  procs.children.push(child);
  // A test worker that dies without cleanup (a thrown hook, a timeout kill) takes its servers along.
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  child.once('exit', () => process.off('exit', orphanGuard));
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `${name} exited (${signal ?? code}); see ${path.join(procs.dir, name)}`));
  child.once('error', (err) => (exited = `${name}: ${err.message}`));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited) throw new Error(exited);
    if (await canConnect(port)) return;
    if (Date.now() > deadline) throw new Error(`${name} did not accept connections on ${HOST}:${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** One INFO section as key → value, on a connection it closes. */
async function info(c: Redis, section: string, ...command: string[]): Promise<Record<string, string>> {
  try {
    await c.connect();
    const text = String(command.length ? await c.call(command[0]!, ...command.slice(1)) : await c.info(section));
    return Object.fromEntries(text.split(/\r?\n/).flatMap((l) => (l.includes(':') ? [[l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]] : [])));
  } catch {
    return {};
  } finally {
    c.disconnect();
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopAll(procs: Processes): Promise<void> {
  await Promise.all(
    procs.children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
  rmSync(procs.dir, { recursive: true, force: true });
}
