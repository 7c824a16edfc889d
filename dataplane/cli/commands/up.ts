/**
 * `knet up` and `knet down`.
 *
 * up: start (or join) the cluster, apply the manifests, wait until what they describe is
 * ready while showing progress, print the summary, then supervise until Ctrl-C / SIGTERM.
 * With --detach the same runs in a background process and this one returns once it is ready.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import path from 'node:path';
import { startCluster } from '../../cluster/cluster.js';
import { clusterSummary } from '../../cluster/summary.js';
import { waitForReady } from '../../cluster/readiness.js';
import { readManifestPaths } from '../../api/manifests.js';
import { redisAvailable, REDIS_INSTALL_HINT } from '../../store/embedded-redis.js';
import { createLogger } from '../../log.js';
import { StoreInformerFactory } from '../../store/watch.js';
import { pidAlive } from '../../cluster/state-dir.js';
import { clusterDirOf, UsageError, type GlobalOptions } from '../connect.js';
import type { Kind } from '../../model/object.js';
import { toName } from './output.js';
import { dnsSettingsFromFlags, type DnsFlags } from '../../../dns/dns-flags.js';

export interface UpOptions extends GlobalOptions, DnsFlags {
  filename?: string[];
  nodes?: number;
  detach?: boolean;
  singleProcess?: boolean;
  timeout?: number;
  dnsPort?: number;
  ingress?: boolean;
  proxy?: boolean;
  dns?: boolean;
}

export async function upCommand(opts: UpOptions, out: (s: string) => void): Promise<void> {
  const started = Date.now();
  if (!opts.redis && !process.env.KNET_REDIS_URL && !redisAvailable()) throw new UsageError(REDIS_INSTALL_HINT);
  const docs = readManifestPaths(opts.filename ?? []); // fail on a bad path before starting anything
  // The DNS flags become the cluster's settings (stored with it, read by every dns process).
  const dns = dnsSettingsFromFlags(opts);
  const dir = clusterDirOf(opts);
  if (opts.detach) return detach(opts, dir.dir, out);

  const log = createLogger('knet-up', { write: (line) => process.stderr.write(line + '\n'), level: (process.env.KNET_LOG_LEVEL as 'info') ?? 'warn' });
  out(`starting cluster "${dir.name}" (${opts.singleProcess ? 'single process' : 'one process per component'}) …`);
  const cluster = await startCluster({
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
    },
    log,
    manifests: docs,
    crashBackoffMs: process.env.KNET_CRASH_BACKOFF_MS ? Number(process.env.KNET_CRASH_BACKOFF_MS) : undefined,
  });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= cluster.close().then(() => out(`cluster "${cluster.name}" stopped`)));
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  try {
    const info = cluster.componentInfo();
    if (info.dns && Number(info.dns.port) !== 53) out(`note: DNS serves on ${info.dns.address}:${info.dns.port} because port 53 could not be bound (see the dns log); use dig -p ${info.dns.port}`);
    if (info.dns && dns.logQueries) out(`DNS queries are logged ${cluster.mode === 'single-process' ? 'here' : `to ${cluster.dir.componentLog('dns')}`}`);
    if (cluster.applied.length) {
      for (const r of cluster.applied) out(`${toName(r.object.kind as Kind, r.object)} ${r.action}`);
      // Judged on every watch event, not by polling the store.
      const informers = cluster.informers ?? new StoreInformerFactory(cluster.store, { redisUrl: cluster.redisUrl });
      try {
        await waitForReady(cluster.store, cluster.applied.map((r) => r.object), {
          timeoutMs: (opts.timeout ?? 120) * 1000,
          informers,
          onProgress: (waiting) => out(`  waiting: ${waiting.join('; ')}`),
        });
      } finally {
        if (informers !== cluster.informers) await informers.close();
      }
    }
    out('');
    out(await clusterSummary({ name: cluster.name, config: cluster.config, store: cluster.store, nodes: opts.nodes ?? 2, redis: redact(cluster.redisUrl), pids: cluster.pids(), info, elapsedMs: Date.now() - started }));
    if (process.env.KNET_UP_READY_FILE) (await import('node:fs')).writeFileSync(process.env.KNET_UP_READY_FILE, 'ready\n');
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

function redact(url: string): string {
  return url.replace(/\/\/:[^@]*@/, '//:***@');
}

async function detach(opts: UpOptions, dir: string, out: (s: string) => void): Promise<void> {
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const upLog = path.join(dir, 'logs', 'up.log');
  const readyFile = path.join(dir, 'up.ready');
  rmSync(readyFile, { force: true });
  const args = process.argv.slice(1).filter((a) => a !== '--detach' && a !== '-d');
  const fd = openSync(upLog, 'w');
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
  out(readFileSync(upLog, 'utf8').trimEnd());
  out(`\nrunning in the background (pid ${child.pid}); logs in ${path.join(dir, 'logs')}; stop with \`knet down\``);
}

export async function downCommand(opts: GlobalOptions, out: (s: string) => void): Promise<void> {
  const dir = clusterDirOf(opts);
  const file = dir.read();
  if (!file) throw new UsageError(`no cluster "${dir.name}" is running (nothing at ${dir.file})`);
  const pid = file.supervisorPid;
  if (!pid || !pidAlive(pid)) {
    dir.remove();
    out(`cluster "${dir.name}" was not running; removed its stale state file`);
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
  out(`cluster "${dir.name}" stopped`);
}
