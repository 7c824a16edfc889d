/**
 * Where a cluster lives on disk and how any `knet` command finds it.
 *
 *   <state-dir>/<cluster>/cluster.json   Redis URL (with password), config, supervisor pid
 *   <state-dir>/<cluster>/redis/         the embedded Redis's append-only files
 *   <state-dir>/<cluster>/pki/           CA, apiserver certificate, admin credential (0600)
 *   <state-dir>/<cluster>/kubeconfig     the admin kubeconfig of this cluster (0600)
 *   <state-dir>/<cluster>/logs/          one log per process, and pods/<ns>_<pod>/<container>.log
 *   <state-dir>/<cluster>/nodes/<node>/  a node agent's own state: containers/, its pid files
 *
 * Address-block locks live machine-wide (see indexLockDir below).
 *
 * Everything here is private to the user who started the cluster: directories 0700, files
 * 0600 (the Redis files hold every object, Secrets included, and cluster.json its password).
 *
 * The state dir defaults to ~/.knet (KNET_STATE_DIR or --state-dir to change).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync, renameSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MAX_CLUSTER_INDEX, type ClusterConfig } from '../base/cluster-config.js';

export interface ClusterFile {
  name: string;
  redisUrl: string;
  /** True when knet started the Redis itself (and so stops it). */
  embeddedRedis: boolean;
  config: ClusterConfig;
  /** The process that supervises the cluster (`knet up`). */
  supervisorPid?: number;
  /** The kubeconfig file `knet up` merged its context into (removed again by `knet down`). */
  kubeconfigMergedInto?: string;
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
  /** The cluster's CA, the apiserver's certificate and the admin credential (apiserver/pki.ts). */
  get pkiDir(): string {
    return path.join(this.dir, 'pki');
  }
  /** A kubeconfig for this cluster alone (what `knet kubeconfig` prints and the test API hands out). */
  get kubeconfigFile(): string {
    return path.join(this.dir, 'kubeconfig');
  }
  get logDir(): string {
    return path.join(this.dir, 'logs');
  }
  /** Container logs, as the kubelet's /var/log/pods (base/container-logs/log-layout.ts). */
  get podLogsRoot(): string {
    return path.join(this.logDir, 'pods');
  }
  componentLog(component: string): string {
    return path.join(this.logDir, `${component}.log`);
  }
  /** PersistentVolumes' data, one directory per volume (base/persistent-volume-dir.ts), shared by the cluster's nodes. */
  get volumesDir(): string {
    return path.join(this.dir, 'volumes');
  }
  get nodesDir(): string {
    return path.join(this.dir, 'nodes');
  }
  nodeDir(node: string): string {
    return path.join(this.nodesDir, node);
  }
  /** Creates the cluster's directory and logs/ 0700, and makes them so if an older knet made them 0755. */
  ensure(): void {
    for (const d of [this.dir, this.logDir]) {
      mkdirSync(d, { recursive: true, mode: 0o700 });
      chmodSync(d, 0o700);
    }
  }
  read(): ClusterFile | undefined {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as ClusterFile;
    } catch {
      return undefined;
    }
  }
  write(f: ClusterFile): void {
    this.ensure();
    // Written atomically and private: it holds the Redis password.
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(f, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.file);
  }
  remove(): void {
    rmSync(this.file, { force: true });
  }
  /**
   * The address block the cluster's stored objects were allocated from. Kept beside its Redis
   * data when the cluster stops (cluster.json goes), so a restart takes the same block back.
   */
  get blockFile(): string {
    return path.join(this.dir, 'address-block');
  }
  readBlock(): number | undefined {
    try {
      const n = Number(readFileSync(this.blockFile, 'utf8').trim());
      return Number.isInteger(n) && n >= 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }
  writeBlock(index: number): void {
    this.ensure();
    writeFileSync(this.blockFile, `${index}\n`, { mode: 0o600 });
    chmodSync(this.blockFile, 0o600);
  }
}

export function listClusters(stateDir: string): string[] {
  if (!existsSync(stateDir)) return [];
  return readdirSync(stateDir).filter((n) => !n.startsWith('.') && existsSync(path.join(stateDir, n, 'cluster.json')));
}

/**
 * Address-block locks: `<lock dir>/<index>/owner` holds "<who>\n<pid>\n". They are
 * machine-wide (KNET_LOCK_DIR, default <tmpdir>/knet-cluster-index) whatever the state dir, so
 * clusters with different state dirs still never share addresses.
 *
 * Safe under concurrency (parallel test workers all claiming at once):
 *  - a lock appears whole: it is built under a private name and renamed into place, and a
 *    rename onto an existing lock fails, so exactly one claimer wins and no one ever sees a
 *    lock without its owner;
 *  - a lock whose owner died (a killed test worker) is reclaimed under `<index>.reap`, a
 *    second lock taken with mkdir: only its holder may remove the dead lock, after checking
 *    again that it is still dead, so a reaper can never remove a lock someone just took; and
 *    it moves the lock away in one rename before deleting it, so no claimer ever sees it half gone.
 */
export function indexLockDir(): string {
  return process.env.KNET_LOCK_DIR || path.join(os.tmpdir(), 'knet-cluster-index');
}

/**
 * Claims an address-block index for a new cluster: `wanted` exactly (or fail), else
 * `preferred` when free, else the lowest free index from 1. Index 0 (the Kubernetes-default
 * addresses) is taken only when asked for, which `knet up` without --cluster does.
 * `inUse(index)` checks a block this process has just locked for anything else holding its
 * addresses (address-block-check.ts): such a block is let go and skipped, or, when it was
 * `wanted`, refused with that reason.
 */
export function claimClusterIndex(owner: string, wanted?: number, preferred?: number, inUse?: (index: number) => string | undefined): number {
  const lockRoot = indexLockDir();
  mkdirSync(lockRoot, { recursive: true, mode: 0o700 });
  const all = Array.from({ length: MAX_CLUSTER_INDEX }, (_, i) => i + 1);
  const candidates = wanted !== undefined ? [wanted] : preferred !== undefined && preferred > 0 ? [preferred, ...all.filter((i) => i !== preferred)] : all;
  const content = `${owner.replace(/\n/g, ' ')}\n${process.pid}\n`;
  let skipped: string | undefined;
  for (const i of candidates) {
    const lock = path.join(lockRoot, String(i));
    if (tryLock(lock, content) || (reapIfDead(lock, owner) && tryLock(lock, content))) {
      const held = inUse?.(i);
      if (held === undefined) return i;
      releaseClusterIndex(i);
      if (wanted !== undefined) throw new Error(`cluster address block ${i} is not free: ${held}`);
      skipped ??= `block ${i}: ${held}`;
      continue;
    }
    if (wanted !== undefined) throw new Error(`cluster address block ${i} is in use by ${readOwner(lock)?.who ?? 'another cluster'}`);
  }
  throw new Error(`no free cluster address block (all ${MAX_CLUSTER_INDEX} are in use; see ${lockRoot}${skipped ? `; ${skipped}` : ''})`);
}

/** Who held each block lock whose holder has died ("<owner>" as given to claimClusterIndex). */
export function deadLockOwners(): string[] {
  let names: string[];
  try {
    names = readdirSync(indexLockDir());
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const owner = readOwner(path.join(indexLockDir(), name));
    if (owner && !pidAlive(owner.pid)) out.push(owner.who);
  }
  return out;
}

/** Releases an index this process holds (a lock that is not ours is left alone). */
export function releaseClusterIndex(index: number): void {
  const lock = path.join(indexLockDir(), String(index));
  if (readOwner(lock)?.pid === process.pid) rmSync(lock, { recursive: true, force: true });
}

function tryLock(lock: string, content: string): boolean {
  const tmp = `${lock}.new.${process.pid}.${randomBytes(4).toString('hex')}`;
  mkdirSync(tmp, { mode: 0o700 });
  try {
    writeFileSync(path.join(tmp, 'owner'), content, { mode: 0o600 });
    renameSync(tmp, lock);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') return false;
    throw err;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Removes `lock` if its owner is dead; true if the index is free now. A dead owner's block is
 * still in use while the Redis it left runs (a `knet up` killed with -9 leaves its store up, and
 * its next `up` wants the same addresses back): only that same cluster (`claimer`, the owner
 * string claimClusterIndex is given) may take such a block.
 */
function reapIfDead(lock: string, claimer: string): boolean {
  const seen = readOwner(lock);
  if (seen === undefined) return !existsSync(lock);
  if (pidAlive(seen.pid)) return false;
  if (seen.who !== claimer.replace(/\n/g, ' ') && leftStoreRunning(seen.who)) return false;
  const reap = `${lock}.reap`;
  try {
    mkdirSync(reap, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Someone else is reaping. A reaper that died mid-way leaves its lock: expire it.
    if (ageMs(reap) > 10_000) rmSync(reap, { recursive: true, force: true });
    return false;
  }
  try {
    const now = readOwner(lock);
    if (now === undefined) return !existsSync(lock);
    if (pidAlive(now.pid)) return false;
    // Moved away in one step, then removed: removing in place would leave an empty directory
    // for a moment, and a claimer's rename may replace an empty directory.
    const grave = `${lock}.dead.${process.pid}.${randomBytes(4).toString('hex')}`;
    renameSync(lock, grave);
    rmSync(grave, { recursive: true, force: true });
    return true;
  } finally {
    rmSync(reap, { recursive: true, force: true });
  }
}

/** Whether the cluster named in a lock's owner line (`<name> <cluster dir>`) still has its embedded Redis running. */
function leftStoreRunning(who: string): boolean {
  const dir = who.slice(who.indexOf(' ') + 1);
  if (!dir || !path.isAbsolute(dir)) return false;
  try {
    const [pid] = readFileSync(path.join(dir, 'redis', 'redis.pid'), 'utf8').trim().split(/\s+/);
    return pidAlive(Number(pid));
  } catch {
    return false;
  }
}

function readOwner(lock: string): { who: string; pid: number } | undefined {
  try {
    const [who = 'unknown', pid = '0'] = readFileSync(path.join(lock, 'owner'), 'utf8').split('\n');
    return { who, pid: Number(pid) };
  } catch {
    return undefined;
  }
}

function ageMs(p: string): number {
  try {
    return Date.now() - statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

export function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/**
 * An exited process whose parent has not reaped it yet still takes signals. A detached
 * `knet up` is reparented to PID 1, which in some containers reaps late (seconds): it is
 * gone for us as soon as it exited. Linux only (/proc); elsewhere nothing is a zombie.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S …": comm may hold spaces and parentheses, the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}
