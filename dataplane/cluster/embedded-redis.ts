/**
 * The embedded state store: a `redis-server` from PATH that knet starts and stops itself,
 * on loopback, on a free port, with a generated password and append-only persistence
 * (see appendfsync below for what a crash can lose). dataplane/cluster/supervised-redis.ts
 * restarts it when it dies.
 *
 * Its files hold every object, Secrets included, in plain text: redis-server runs under
 * umask 077 (Redis has no setting for the modes of its files), so the AOF, its RDB preamble,
 * the manifest and the log are 0600 in a 0700 directory.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { silentLogger, type Logger } from '../base/log.js';

export interface EmbeddedRedisOptions {
  /** Directory for the AOF, the log and the pid; created if missing. */
  dir: string;
  port?: number;
  password?: string;
  host?: string;
  log?: Logger;
  /**
   * 'everysec' (default): Redis writes every change to the AOF file (the kernel's page cache)
   * before it replies, and fsyncs the file once a second — a killed redis-server loses
   * nothing the OS got; a machine crash can lose the last second or two. One exception: while
   * a disk is so slow that the previous second's fsync is still running, Redis holds new
   * writes in memory (up to 2 s) and still replies, so a kill at that moment loses them.
   * 'always' writes and fsyncs before every reply and loses nothing in either case, at the
   * cost of one disk flush per write (about 5 ms on this machine's disk). 'no' never fsyncs
   * (the kernel flushes within ~30 s); test clusters, whose files are thrown away, use it.
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

/** How long a starting redis-server may take to load its data and answer (a large AOF takes a while). */
const START_TIMEOUT_MS = 120_000;

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
  privateTree(opts.dir);
  for (let attempt = 0; ; attempt++) {
    const port = opts.port ?? (await freePort(host));
    try {
      const child = await spawnRedis(opts.dir, host, port, password, opts.appendfsync ?? (process.env.KNET_REDIS_FSYNC as EmbeddedRedisOptions['appendfsync']) ?? 'everysec');
      const url = `redis://:${encodeURIComponent(password)}@${host}:${port}`;
      log.info('embedded redis started', { port, dir: opts.dir, pid: child.pid });
      writeFileSync(pidFile(opts.dir), `${child.pid} ${port}\n`, { mode: 0o600 });
      child.once('exit', () => removePidFile(opts.dir, child.pid!));
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

/**
 * The directory 0700 and what is in it 0600, also when an older knet made them 0755/0644
 * (the new redis-server's umask only covers files it creates).
 */
function privateTree(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) privateTree(p);
    else if (entry.isFile()) chmodSync(p, 0o600);
  }
}

function spawnRedis(dir: string, host: string, port: number, password: string, fsync: string): Promise<ChildProcess> {
  const logfile = path.join(dir, 'redis.log');
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
    '--logfile', logfile,
    '--daemonize', 'no',
  ];
  return new Promise((resolve, reject) => {
    // Through sh for the umask; `exec` keeps one process, so the pid and signals are redis-server's.
    const child = spawn('/bin/sh', ['-c', 'umask 077 && exec redis-server "$@"', 'redis-server', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
    let settled = false;
    let output = '';
    const deadline = Date.now() + START_TIMEOUT_MS;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(err);
    };
    child.on('error', fail);
    child.on('exit', (code) => {
      // sh's "command not found".
      if (code === 127) return fail(new Error(REDIS_INSTALL_HINT));
      fail(new Error(`redis-server exited with code ${code} before accepting connections: ${output.trim() || lastLogLine(logfile) || `see ${logfile}`}`));
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    // Ready once it answers our password with PONG: a port that merely accepts could be someone
    // else's, and a Redis loading its AOF answers LOADING until its data is all there.
    const poll = async (): Promise<void> => {
      if (settled) return;
      const answer = await probeRedis(host, port, password, 1000);
      if (settled) return;
      if (answer === 'PONG') {
        settled = true;
        child.removeAllListeners('exit');
        resolve(child);
        return;
      }
      if (Date.now() > deadline) return fail(new Error(`redis-server did not answer on ${host}:${port} within ${START_TIMEOUT_MS / 1000}s (last: ${answer})`));
      setTimeout(() => void poll(), 10);
    };
    void poll();
  });
}

/**
 * One exchange with a Redis: `AUTH password` then `PING`. Resolves with the PING's reply
 * ('PONG' when it serves; 'LOADING …' while it loads) or why there was none.
 */
export function probeRedis(host: string, port: number, password: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let buffered = '';
    let answered = false;
    const done = (answer: string) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      s.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    s.once('connect', () => s.write(`*2\r\n$4\r\nAUTH\r\n$${Buffer.byteLength(password)}\r\n${password}\r\n*1\r\n$4\r\nPING\r\n`));
    s.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      const lines = buffered.split('\r\n');
      if (lines.length < 3) return;
      const [auth, ping] = lines as [string, string];
      done(auth !== '+OK' ? auth.replace(/^[-+]/, '') : ping.replace(/^[-+]/, ''));
    });
    s.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    s.once('close', () => done('connection closed'));
  });
}

function lastLogLine(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').at(-1)?.trim() ?? '';
  } catch {
    return '';
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    // A redis-server that does not answer could be hung for good; killing it loses nothing
    // it acknowledged (see appendfsync), so it gets a second to shut down cleanly.
    const timer = setTimeout(() => child.kill('SIGKILL'), 1000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
    // A stopped (SIGSTOP) process acts on SIGTERM only once continued.
    child.kill('SIGCONT');
  });
}

/**
 * `<dir>/redis.pid`: "<pid> <port>" of the redis-server running on this directory, so one
 * left behind by a supervisor that was killed (-9) can be found and stopped before another
 * starts on the same append-only file. Removed when it exits under our watch.
 */
function pidFile(dir: string): string {
  return path.join(dir, 'redis.pid');
}

function removePidFile(dir: string, pid: number): void {
  try {
    if (readFileSync(pidFile(dir), 'utf8').split(' ')[0] === String(pid)) rmSync(pidFile(dir), { force: true });
  } catch {
    /* gone already */
  }
}

/**
 * Stops a redis-server that still runs on `dir` although nothing supervises it any more (its
 * `knet up` was killed): gracefully (it fsyncs its file), then by force after 5 s. Only a
 * process that is that redis-server (its command line names its port) is touched, so a reused
 * pid is left alone. Returns the pid it stopped.
 */
export async function stopOrphanedRedis(dir: string, log: Logger = silentLogger): Promise<number | undefined> {
  let pid: number;
  let port: string;
  try {
    const [p, q] = readFileSync(pidFile(dir), 'utf8').trim().split(' ');
    [pid, port] = [Number(p), q ?? ''];
  } catch {
    return undefined;
  }
  if (!(pid > 0) || !isRedisOn(pid, port)) {
    rmSync(pidFile(dir), { force: true });
    return undefined;
  }
  log.warn('stopping the redis-server a killed knet up left running', { pid, port: Number(port), dir });
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      /* gone */
    }
  };
  signal('SIGTERM');
  signal('SIGCONT');
  for (const deadline = Date.now() + 5000; isRedisOn(pid, port); ) {
    if (Date.now() > deadline) signal('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  rmSync(pidFile(dir), { force: true });
  return pid;
}

/** Whether `pid` is a live redis-server serving `port` (`ps` shows its title, "redis-server 127.0.0.1:PORT"). */
function isRedisOn(pid: number, port: string): boolean {
  try {
    const command = execFileSync('ps', ['-o', 'stat=,command=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return !command.startsWith('Z') && /\bredis-server\b/.test(command) && command.includes(`:${port}`);
  } catch {
    return false; // ps exits 1 for no such process
  }
}

export function redisAvailable(): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d && existsSync(path.join(d, 'redis-server')));
}
