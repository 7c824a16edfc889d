/**
 * The embedded state store: a `redis-server` from PATH that knet starts and stops itself,
 * on loopback, on a free port, with a generated password and append-only persistence
 * (see appendfsync below for what a crash can lose).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { silentLogger, type Logger } from '../log.js';

export interface EmbeddedRedisOptions {
  /** Directory for the AOF, the log and the pid; created if missing. */
  dir: string;
  port?: number;
  password?: string;
  host?: string;
  log?: Logger;
  /**
   * 'everysec' (default): every write reaches the AOF file (the kernel's page cache) before
   * Redis replies, and is fsynced within a second — a killed or crashed redis-server loses
   * nothing; only a machine crash can lose the last second. 'always' also survives that, at
   * the cost of one disk flush per write (about 5 ms on this machine's disk).
   */
  appendfsync?: 'always' | 'everysec' | 'no';
}

export interface EmbeddedRedis {
  url: string;
  port: number;
  password: string;
  pid: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export const REDIS_INSTALL_HINT =
  'redis-server was not found on PATH; install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) or pass --redis URL';

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startEmbeddedRedis(opts: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const log = opts.log ?? silentLogger;
  const host = opts.host ?? '127.0.0.1';
  const password = opts.password ?? randomBytes(18).toString('base64url');
  mkdirSync(opts.dir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = opts.port ?? (await freePort(host));
    try {
      const child = await spawnRedis(opts.dir, host, port, password, opts.appendfsync ?? (process.env.KNET_REDIS_FSYNC as EmbeddedRedisOptions['appendfsync']) ?? 'everysec');
      const url = `redis://:${encodeURIComponent(password)}@${host}:${port}`;
      log.info('embedded redis started', { port, dir: opts.dir, pid: child.pid });
      return {
        url,
        port,
        password,
        pid: child.pid!,
        process: child,
        stop: () => stopChild(child),
      };
    } catch (err) {
      // A free port can be taken between the probe and the bind; try another.
      if (opts.port !== undefined || attempt >= 4 || (err as Error).message === REDIS_INSTALL_HINT) throw err;
    }
  }
}

function spawnRedis(dir: string, host: string, port: number, password: string, fsync: string): Promise<ChildProcess> {
  const args = [
    '--bind', host,
    '--port', String(port),
    '--requirepass', password,
    '--protected-mode', 'yes',
    '--dir', dir,
    '--appendonly', 'yes',
    '--appendfsync', fsync,
    '--appenddirname', 'appendonly',
    '--save', '',
    '--logfile', path.join(dir, 'redis.log'),
    '--daemonize', 'no',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
    let settled = false;
    let output = '';
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(err);
    };
    child.on('error', (err: NodeJS.ErrnoException) => fail(err.code === 'ENOENT' ? new Error(REDIS_INSTALL_HINT) : err));
    child.on('exit', (code) => fail(new Error(`redis-server exited with code ${code} before accepting connections: ${output.trim() || `see ${path.join(dir, 'redis.log')}`}`)));
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const poll = async (n: number): Promise<void> => {
      if (settled) return;
      if (await canConnect(host, port)) {
        settled = true;
        child.removeAllListeners('exit');
        resolve(child);
        return;
      }
      if (n > 200) return fail(new Error(`redis-server did not accept connections on ${host}:${port}`));
      setTimeout(() => void poll(n + 1), 10);
    };
    void poll(0);
  });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export function redisAvailable(): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d && existsSync(path.join(d, 'redis-server')));
}
