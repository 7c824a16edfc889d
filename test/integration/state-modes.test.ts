/**
 * A cluster's files are private to the user who started it: its directory, redis/, logs/,
 * the AOF (which holds Secrets in plain text), cluster.json (the Redis password), pod logs and
 * the address-block lock are 0700 directories and 0600 files — also where an older knet left
 * them 0755/0644.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCluster } from '../../dataplane/index.js';
import { indexLockDir } from '../../dataplane/cluster/state-dir.js';

const stateDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'knet-modes-')), 'state');
const name = `modes${process.pid}`;
afterAll(() => rmSync(path.dirname(stateDir), { recursive: true, force: true }));

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

/** Every directory and file under `dir` as "mode path". */
function modes(dir: string): string[] {
  const out = [`${mode(dir)} ${dir}`];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push(...(e.isDirectory() ? modes(p) : [`${mode(p)} ${p}`]));
  }
  return out;
}

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 8080 }] }] } };

describe('file modes', () => {
  it('are 0700 for directories and 0600 for files, for what this knet writes and what an older one left', async () => {
    const dir = path.join(stateDir, name);
    // What an older knet left: world-readable directories and Redis files.
    mkdirSync(path.join(dir, 'redis'), { recursive: true });
    mkdirSync(path.join(dir, 'logs'), { recursive: true });
    writeFileSync(path.join(dir, 'redis', 'redis.log'), 'old\n');
    for (const [p, m] of [[stateDir, 0o755], [dir, 0o755], [path.join(dir, 'redis'), 0o755], [path.join(dir, 'logs'), 0o755], [path.join(dir, 'redis', 'redis.log'), 0o644]] as const) chmodSync(p, m);

    const cluster = await startCluster({ name, stateDir, nodes: 1, components: { proxy: false, dns: false, ingress: false }, manifests: [pod] });
    try {
      const lock = path.join(indexLockDir(), String(cluster.config.index));
      expect([mode(lock), mode(path.join(lock, 'owner'))]).toEqual(['700', '600']);
      const all = modes(dir);
      const wrong = all.filter((l) => l.slice(0, 3) !== (statSync(l.slice(4)).isDirectory() ? '700' : '600'));
      expect(wrong).toEqual([]);
      // What is there: the Redis files (AOF and its RDB preamble), the cluster file, a pod's log.
      for (const f of ['cluster.json', 'address-block', 'redis/redis.log', 'redis/appendonly/appendonly.aof.manifest', 'redis/appendonly/appendonly.aof.1.base.rdb', 'redis/appendonly/appendonly.aof.1.incr.aof']) {
        expect(all, f).toContain(`600 ${path.join(dir, f)}`);
      }
      // The pod's log, where the kubelet keeps it: logs/pods/<ns>_<pod>_<uid>/<container>/<restartCount>.log.
      expect(all.filter((l) => /\/logs\/pods\/default_web_[0-9a-f-]+\/web\/0\.log$/.test(l)).map((l) => l.slice(0, 3))).toEqual(['600']);
      // The state dir is the user's (it may be a directory they chose): left as it was.
      expect(mode(stateDir)).toBe('755');
    } finally {
      await cluster.close();
    }
  }, 60_000);
});
