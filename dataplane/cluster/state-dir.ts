/**
 * Where a cluster lives on disk and how any `knet` command finds it.
 *
 *   <state-dir>/<cluster>/cluster.json   Redis URL (with password), config, supervisor pid
 *   <state-dir>/<cluster>/redis/         the embedded Redis's append-only files
 *   <state-dir>/<cluster>/logs/          one log per process, and pods/<ns>_<pod>/<container>.log
 *
 * Address-block locks live machine-wide (KNET_LOCK_DIR, default <tmpdir>/knet-cluster-index),
 * whatever the state dir, so clusters with different state dirs still never share addresses.
 *
 * The state dir defaults to ~/.knet (KNET_STATE_DIR or --state-dir to change).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MAX_CLUSTER_INDEX, type ClusterConfig } from '../cluster-config.js';

export interface ClusterFile {
  name: string;
  redisUrl: string;
  /** True when knet started the Redis itself (and so stops it). */
  embeddedRedis: boolean;
  config: ClusterConfig;
  /** The process that supervises the cluster (`knet up`). */
  supervisorPid?: number;
  /** Processes by component name, for `knet get componentstatuses`-like summaries. */
  processes?: Record<string, number>;
  startedAt: string;
  mode: 'processes' | 'single-process';
}

export function defaultStateDir(): string {
  return process.env.KNET_STATE_DIR || path.join(os.homedir(), '.knet');
}

export class ClusterDir {
  readonly dir: string;
  constructor(
    readonly stateDir: string,
    readonly name: string,
  ) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new Error(`cluster name "${name}" must be a DNS label (lowercase letters, digits and "-")`);
    this.dir = path.join(stateDir, name);
  }
  get file(): string {
    return path.join(this.dir, 'cluster.json');
  }
  get redisDir(): string {
    return path.join(this.dir, 'redis');
  }
  get logDir(): string {
    return path.join(this.dir, 'logs');
  }
  podLogDir(namespace: string, pod: string): string {
    return path.join(this.logDir, 'pods', `${namespace}_${pod}`);
  }
  componentLog(component: string): string {
    return path.join(this.logDir, `${component}.log`);
  }
  read(): ClusterFile | undefined {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as ClusterFile;
    } catch {
      return undefined;
    }
  }
  write(f: ClusterFile): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // Written atomically and private: it holds the Redis password.
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(f, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.file);
  }
  remove(): void {
    rmSync(this.file, { force: true });
  }
}

export function listClusters(stateDir: string): string[] {
  if (!existsSync(stateDir)) return [];
  return readdirSync(stateDir).filter((n) => !n.startsWith('.') && existsSync(path.join(stateDir, n, 'cluster.json')));
}

/**
 * Claims an address-block index for a new cluster. mkdir is atomic, so two test workers
 * starting at once can never get the same index. Index 0 (the Kubernetes-default addresses)
 * is taken only when asked for, which `knet up` without --cluster does.
 */
export function indexLockDir(): string {
  return process.env.KNET_LOCK_DIR || path.join(os.tmpdir(), 'knet-cluster-index');
}

export function claimClusterIndex(owner: string, wanted?: number): number {
  const lockRoot = indexLockDir();
  mkdirSync(lockRoot, { recursive: true });
  const candidates = wanted !== undefined ? [wanted] : Array.from({ length: MAX_CLUSTER_INDEX }, (_, i) => i + 1);
  for (const i of candidates) {
    const lock = path.join(lockRoot, String(i));
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'owner'), `${owner}\n${process.pid}\n`);
      return i;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (isStale(lock)) {
        rmSync(lock, { recursive: true, force: true });
        try {
          mkdirSync(lock);
          writeFileSync(path.join(lock, 'owner'), `${owner}\n${process.pid}\n`);
          return i;
        } catch {
          /* someone else took it meanwhile */
        }
      }
      if (wanted !== undefined) throw new Error(`cluster address block ${i} is in use by ${readOwner(lock)}`);
    }
  }
  throw new Error(`no free cluster address block (all ${MAX_CLUSTER_INDEX} are in use)`);
}

export function releaseClusterIndex(index: number): void {
  rmSync(path.join(indexLockDir(), String(index)), { recursive: true, force: true });
}

function readOwner(lock: string): string {
  try {
    return readFileSync(path.join(lock, 'owner'), 'utf8').split('\n')[0] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A lock whose owning process is gone (killed test worker) can be reused. */
function isStale(lock: string): boolean {
  try {
    const pid = Number(readFileSync(path.join(lock, 'owner'), 'utf8').split('\n')[1]);
    if (!pid) return false;
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH' || (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

export function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
