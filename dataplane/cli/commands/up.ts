/**
 * `knet up` and `knet down`.
 *
 * up: start (or join) the cluster, apply the manifests, wait until what they describe is
 * ready while showing progress, print the summary, then supervise until Ctrl-C / SIGTERM.
 * With --detach the same runs in a background process and this one returns once it is ready.
 *
 * Manifests that do not get ready never take the cluster down (a readiness experiment is a
 * pod meant never to be ready): up says what is not ready and why, and goes on supervising;
 * with --detach it returns non-zero, the cluster still running. --wait=false skips the wait.
 */
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { launchCluster } from '../../cluster/cluster.js';
import { clusterSummary } from '../../cluster/summary.js';
import { NotReadyError, waitForReady } from '../../cluster/readiness.js';
import { readManifestPaths } from '../../base/admission/manifests.js';
import { redisAvailable, REDIS_INSTALL_HINT, stopOrphanedRedis } from '../../cluster/embedded-redis.js';
import { createLogger, silentLogger } from '../../base/log.js';
import { StoreInformerFactory } from '../../base/store/watch.js';
import { pidAlive, type ClusterDir } from '../../cluster/state-dir.js';
import { reclaimPrograms } from '../../cluster/reclaim-programs.js';
import { clusterDirOf, UsageError, type GlobalOptions } from '../connect.js';
import type { Kind } from '../../base/model/object.js';
import { toName } from './output.js';
import { addToKubeconfig, kubeconfigPath, removeFromKubeconfig } from '../../cluster/kubeconfig-file.js';
import { contextName } from '../../apiserver/kubeconfig.js';
import { dnsSettingsFromFlags, type DnsFlags } from '../../../dns/dns-flags.js';

export interface UpOptions extends GlobalOptions, DnsFlags {
  filename?: string[];
  nodes?: number;
  detach?: boolean;
  singleProcess?: boolean;
  timeout?: number;
  /** Wait until the manifests are ready (true). */
  wait?: boolean;
  dnsPort?: number;
  ingress?: boolean;
  proxy?: boolean;
  dns?: boolean;
  allowExternalIps?: boolean;
  /** Seconds an Event lives after its last write (kube-apiserver --event-ttl). */
  eventTtl?: number;
}

export async function upCommand(opts: UpOptions, out: (s: string) => void): Promise<void> {
  const started = Date.now();
  if (!opts.redis && !process.env.KNET_REDIS_URL && !redisAvailable()) throw new UsageError(REDIS_INSTALL_HINT);
  const docs = readManifestPaths(opts.filename ?? []); // fail on a bad path before starting anything
  // The DNS flags become the cluster's settings (stored with it, read by every dns process).
  const dns = dnsSettingsFromFlags(opts);
  const dir = clusterDirOf(opts);
  if (opts.detach) return detach(opts, dir, out);

  const log = createLogger('knet-up', { write: (line) => process.stderr.write(line + '\n'), level: (process.env.KNET_LOG_LEVEL as 'info') ?? 'warn' });
  out(`starting cluster "${dir.name}" (${opts.singleProcess ? 'single process' : 'one process per component'}) …`);
  const cluster = await launchCluster({
    name: dir.name,
    stateDir: dir.stateDir,
    redisUrl: opts.redis ?? process.env.KNET_REDIS_URL,
    nodes: opts.nodes ?? 2,
    mode: opts.singleProcess ? 'single-process' : 'processes',
    components: { proxy: opts.proxy !== false, dns: opts.dns !== false, ingress: opts.ingress !== false },
    config: {
      ...(opts.dnsPort ? { dnsPort: opts.dnsPort } : {}),
      ...('upstream' in dns ? { dnsUpstream: dns.upstream } : {}),
      ...(dns.logQueries ? { dnsLogQueries: true } : {}),
      ...(opts.allowExternalIps ? { allowExternalIPs: true } : {}),
      ...(opts.eventTtl ? { eventTTLSeconds: opts.eventTtl } : {}),
    },
    log,
    manifests: docs,
    crashBackoffMs: process.env.KNET_CRASH_BACKOFF_MS ? Number(process.env.KNET_CRASH_BACKOFF_MS) : undefined,
  });
  let stopping: Promise<void> | undefined;
  let mergedInto: string | undefined;
  const forget = async () => {
    if (mergedInto) await removeFromKubeconfig(mergedInto, contextName(cluster.name)).catch(() => {});
  };
  const stop = () => (stopping ??= cluster.close().then(forget).then(() => out(`cluster "${cluster.name}" stopped`)));
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  let notReady: NotReadyError | undefined;
  try {
    const info = cluster.componentInfo();
    if (info.dns && Number(info.dns.port) !== 53) out(`note: DNS serves on ${info.dns.address}:${info.dns.port} because port 53 could not be bound (see the dns log); use dig -p ${info.dns.port}`);
    if (cluster.config.allowExternalIPs) out('note: --allow-external-ips: Services may listen on addresses outside loopback, where the network reaches them');
    if (info.dns && dns.logQueries) out(`DNS queries are logged ${cluster.mode === 'single-process' ? 'here' : `to ${cluster.dir.componentLog('dns')}`}`);
    for (const r of cluster.applied) out(`${toName(r.object.kind as Kind, r.object)} ${r.action}`);
    if (cluster.applied.length && opts.wait !== false) notReady = await waitForApplied(cluster, opts.timeout ?? 120, out);
    if (cluster.componentInfo().apiserver) {
      // As kind does: the context goes into the user's kubeconfig and becomes current.
      const file = kubeconfigPath();
      const { kubeconfigEntry } = await import('../../apiserver/kubeconfig.js');
      const { ensurePki, servingNames } = await import('../../apiserver/pki.js');
      const c = cluster.config;
      const pki = await ensurePki(cluster.dir.pkiDir, servingNames(c.apiServerAddress, c.kubernetesServiceIP, c.clusterDomain));
      await addToKubeconfig(file, kubeconfigEntry(cluster.name, `https://${c.apiServerAddress}:${c.apiServerPort}`, pki));
      const record = cluster.dir.read();
      if (record) cluster.dir.write({ ...record, kubeconfigMergedInto: file });
      mergedInto = file;
    }
    out('');
    if (notReady) out(`${notReady.message}\n\n`);
    out(
      await clusterSummary({
        name: cluster.name,
        config: cluster.config,
        store: cluster.store,
        nodes: opts.nodes ?? 2,
        redis: redact(cluster.redisUrl),
        pids: cluster.pids(),
        info,
        elapsedMs: Date.now() - started,
        notReady: notReady?.waiting,
        notWaited: cluster.applied.length > 0 && opts.wait === false,
      }),
    );
    if (process.env.KNET_UP_READY_FILE) writeReadyFile(process.env.KNET_UP_READY_FILE, notReady?.waiting);
  } catch (err) {
    await stop();
    throw err;
  }
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (stopping) {
        clearInterval(check);
        void stopping.then(resolve);
      }
    }, 100);
  });
}

/**
 * Waits until what `up -f` applied is ready, printing progress (judged on every watch event,
 * not by polling the store). Not ready in time is an answer, not a failure: returned.
 */
async function waitForApplied(cluster: Awaited<ReturnType<typeof launchCluster>>, timeoutSeconds: number, out: (s: string) => void): Promise<NotReadyError | undefined> {
  const informers = cluster.informers ?? new StoreInformerFactory(cluster.store, { redisUrl: cluster.redisUrl });
  try {
    await waitForReady(cluster.store, cluster.applied.map((r) => r.object), {
      timeoutMs: timeoutSeconds * 1000,
      informers,
      onProgress: (waiting) => out(`  waiting: ${waiting.join('; ')}`),
    });
    return undefined;
  } catch (err) {
    if (err instanceof NotReadyError) return err;
    throw err;
  } finally {
    if (informers !== cluster.informers) await informers.close();
  }
}

/**
 * Tells the `up --detach` that started us how the start went: `ready`, or `not-ready` and
 * what is not. Whole or not at all (renamed into place): the other side polls for it.
 */
function writeReadyFile(file: string, notReady: string[] | undefined): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, notReady ? `not-ready\n${notReady.join('; ')}\n` : 'ready\n', { mode: 0o600 });
  renameSync(tmp, file);
}

function redact(url: string): string {
  return url.replace(/\/\/:[^@]*@/, '//:***@');
}

async function detach(opts: UpOptions, dir: ClusterDir, out: (s: string) => void): Promise<void> {
  dir.ensure();
  const upLog = dir.componentLog('up');
  const readyFile = path.join(dir.dir, 'up.ready');
  rmSync(readyFile, { force: true });
  const args = process.argv.slice(1).filter((a) => a !== '--detach' && a !== '-d');
  const fd = openSync(upLog, 'w', 0o600);
  chmodSync(upLog, 0o600); // an up.log from an older knet
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, KNET_UP_READY_FILE: readyFile } });
  closeSync(fd);
  child.unref();
  const deadline = Date.now() + ((opts.timeout ?? 120) + 30) * 1000;
  while (!existsSync(readyFile)) {
    if (!pidAlive(child.pid) || Date.now() > deadline) {
      const tail = existsSync(upLog) ? readFileSync(upLog, 'utf8').trim().split('\n').slice(-15).join('\n') : '';
      throw new Error(`knet up failed in the background (see ${upLog}):\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const [state, waiting] = readFileSync(readyFile, 'utf8').split('\n');
  out(readFileSync(upLog, 'utf8').trimEnd());
  out(`\nrunning in the background (pid ${child.pid}); logs in ${dir.logDir}; stop with \`knet down${dir.name === 'default' ? '' : ` --cluster ${dir.name}`}\``);
  if (state === 'not-ready') throw new NotReadyExit(`not ready after ${opts.timeout ?? 120}s: ${waiting}; the cluster keeps running (details above)`);
}

/** `up --detach` started the cluster but what it applied is not ready: exit 1, the cluster stays. */
class NotReadyExit extends Error {}

export async function downCommand(opts: GlobalOptions, out: (s: string) => void): Promise<void> {
  const dir = clusterDirOf(opts);
  const file = dir.read();
  if (!file) throw new UsageError(`no cluster "${dir.name}" is running (nothing at ${dir.file})`);
  // `knet up` removes its kubeconfig context when it stops; a killed one leaves it: remove it here too.
  const forget = async () => {
    if (file.kubeconfigMergedInto) await removeFromKubeconfig(file.kubeconfigMergedInto, contextName(dir.name));
  };
  const pid = file.supervisorPid;
  // Programs of pods whose node agent was killed outlive it: stop them too, so `down` leaves
  // no process and no bound address (also when the supervisor itself is gone).
  const reclaim = async () => {
    const stopped = await reclaimPrograms(dir.dir, silentLogger);
    if (stopped.length) out(`stopped ${stopped.length} program${stopped.length > 1 ? 's' : ''} left running by a killed node agent: ${stopped.join(', ')}`);
  };
  if (!pid || !pidAlive(pid)) {
    await reclaim();
    // Its `knet up` was killed: the components went with it, its Redis did not.
    const redis = file.embeddedRedis ? await stopOrphanedRedis(dir.redisDir) : undefined;
    dir.remove();
    await forget();
    out(`cluster "${dir.name}" was not running; ${redis ? `stopped the redis-server it left running (pid ${redis}) and ` : ''}removed its stale state file`);
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (pidAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await reclaim();
  await forget();
  out(`cluster "${dir.name}" stopped`);
}

/** `knet kubeconfig`: the cluster's admin kubeconfig (its state dir's copy). */
export async function kubeconfigCommand(opts: GlobalOptions, out: (s: string) => void): Promise<void> {
  const dir = clusterDirOf(opts);
  if (!existsSync(dir.kubeconfigFile)) throw new UsageError(`cluster "${dir.name}" has no kubeconfig at ${dir.kubeconfigFile} (start it with \`knet up${dir.name === 'default' ? '' : ` --cluster ${dir.name}`}\`)`);
  out(readFileSync(dir.kubeconfigFile, 'utf8').trimEnd());
}
