/**
 * The embedded Redis kept running, as the supervisor keeps the components running (and a
 * kubelet a static etcd pod): when redis-server exits without being asked to, it is started
 * again from its append-only file on the same port with the same password, so every
 * component's URL stays valid and their connections reconnect by themselves (their watches
 * resume from the last version they saw, store/watch.ts). Restarts back off from 100 ms,
 * doubling to 10 s, reset after a minute up. A restart that fails (the port taken meanwhile,
 * a damaged AOF) is retried on the same schedule and logged with redis-server's reason.
 */
import { startEmbeddedRedis, type EmbeddedRedis, type EmbeddedRedisOptions } from './embedded-redis.js';
import { silentLogger } from '../base/log.js';

export interface SupervisedRedisOptions extends EmbeddedRedisOptions {
  /** The first restart's delay (100 ms); each failed or quick restart doubles it, to 10 s. */
  restartBackoffMs?: number;
}

export interface SupervisedRedis {
  readonly url: string;
  readonly port: number;
  readonly password: string;
  /** The running redis-server's pid (undefined while it is down). */
  pid(): number | undefined;
  /** How often it was restarted. */
  restarts(): number;
  /** Called with the new pid after each restart. */
  onRestart(listener: (pid: number) => void): void;
  /**
   * Stops supervising and stops redis-server, resolving once its process and pipes are gone
   * (no handle of it outlives this). `kill`: at once, for a throwaway cluster with nothing to save.
   */
  stop(kill: boolean): Promise<void>;
}

const MAX_BACKOFF_MS = 10_000;
const HEALTHY_AFTER_MS = 60_000;

export async function startSupervisedRedis(opts: SupervisedRedisOptions): Promise<SupervisedRedis> {
  const log = (opts.log ?? silentLogger).child('redis');
  const first = await startEmbeddedRedis(opts);
  const initialBackoff = opts.restartBackoffMs ?? 100;
  let current: EmbeddedRedis | undefined;
  let starting: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let restarts = 0;
  let backoff = initialBackoff;
  let upSince = Date.now();
  const listeners: Array<(pid: number) => void> = [];

  const supervise = (r: EmbeddedRedis) => {
    current = r;
    upSince = Date.now();
    r.process.once('exit', (code, signal) => {
      if (current !== r) return;
      current = undefined;
      if (stopping) return;
      const delay = nextDelay();
      log.warn('state store exited; restarting it from its append-only file', { pid: r.pid, code, signal, inMs: delay });
      timer = setTimeout(restart, delay);
    });
  };
  const nextDelay = () => {
    if (Date.now() - upSince > HEALTHY_AFTER_MS) backoff = initialBackoff;
    const delay = backoff;
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    return delay;
  };
  const restart = () => {
    timer = undefined;
    if (stopping) return;
    starting = (async () => {
      try {
        const r = await startEmbeddedRedis({ ...opts, port: first.port, password: first.password });
        restarts++;
        supervise(r);
        log.info('state store restarted', { pid: r.pid, port: r.port, restarts });
        for (const l of listeners) l(r.pid);
      } catch (err) {
        if (stopping) return;
        const delay = nextDelay();
        log.warn('state store did not restart; trying again', { error: err as Error, inMs: delay });
        timer = setTimeout(restart, delay);
      } finally {
        starting = undefined;
      }
    })();
  };
  supervise(first);

  return {
    url: first.url,
    port: first.port,
    password: first.password,
    pid: () => current?.pid,
    restarts: () => restarts,
    onRestart: (l) => void listeners.push(l),
    async stop(kill) {
      stopping = true;
      clearTimeout(timer);
      await starting;
      if (current) await stopProcess(current, kill);
    },
  };
}

async function stopProcess(redis: EmbeddedRedis, kill: boolean): Promise<void> {
  const child = redis.process;
  const exited = child.exitCode !== null || child.signalCode !== null;
  const pipesClosed = [child.stdout, child.stderr].every((s) => !s || s.closed || s.destroyed);
  // 'close' comes after the exit and after the pipes closed.
  const gone = exited && pipesClosed ? Promise.resolve() : new Promise<void>((resolve) => child.once('close', () => resolve()));
  if (kill) child.kill('SIGKILL');
  else await redis.stop();
  await gone;
}
