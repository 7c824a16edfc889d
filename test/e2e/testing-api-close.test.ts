/**
 * close() (and `await using`) leaves nothing behind: no listener, no child process, no open
 * handle, no file outside the state dir it made (which is gone too), and the address block is
 * free again — in single-process mode and with one process per component.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { indexLockDir } from '../../dataplane/cluster/state-dir.js';
import { nodeIP } from '../../dataplane/base/cluster-config.js';

/** Every process below this one (Linux /proc; children of children too). */
function descendants(): number[] {
  if (!existsSync('/proc/self/stat')) return [];
  const parentOf = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parentOf.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parentOf) {
      if (parent !== pid) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(process.pid);
  return out.sort((a, b) => a - b);
}

const resources = () => process.getActiveResourcesInfo().sort();
const count = (list: string[], type: string) => list.filter((t) => t === type).length;
/** No kind of resource is held more often than before (vitest's own timers come and go). */
const noMoreThan = (before: string[]) => () => {
  const now = resources();
  for (const type of new Set(now)) expect(count(now, type), `${type}: ${now.join(', ')}`).toBeLessThanOrEqual(count(before, type));
};

/** Polls until `check` passes or a few seconds went by; the last failure is thrown. */
async function eventually(check: () => void, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function connectError(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

// A private temp dir for this file, so "no files left outside the state dir" can be checked
// without seeing other tests' files; the address-block locks stay machine-wide.
const realLockDir = indexLockDir();
const privateTmp = mkdtempSync(path.join(os.tmpdir(), 'knet-close-test-'));
let savedEnv: { TMPDIR?: string; KNET_LOCK_DIR?: string };

beforeAll(() => {
  savedEnv = { TMPDIR: process.env.TMPDIR, KNET_LOCK_DIR: process.env.KNET_LOCK_DIR };
  process.env.KNET_LOCK_DIR = realLockDir;
  process.env.TMPDIR = privateTmp;
});
afterAll(() => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(privateTmp, { recursive: true, force: true });
});

describe.each(['single-process', 'processes'] as const)('close() in %s mode', (mode) => {
  it('leaves no listener, child process, handle or file, and frees the address block', async () => {
    expect(os.tmpdir()).toBe(privateTmp);
    const before = resources();
    const childrenBefore = descendants();
    let stateDir = '';
    let index = 0;
    const addresses: Array<{ host: string; port: number }> = [];
    {
      await using cluster: KnetCluster = await startCluster({ manifests: 'examples/quickstart', mode, readyTimeoutMs: 60_000 });
      stateDir = cluster.stateDir;
      index = cluster.config.index;
      expect(stateDir.startsWith(privateTmp + path.sep)).toBe(true);
      expect(existsSync(path.join(realLockDir, String(index)))).toBe(true);
      // Use it the way a test does: HTTP by name, a watch, a wait, logs and events.
      const web = await cluster.serviceAddress('web');
      expect((await cluster.fetch('http://web.default.svc.cluster.local/hostname')).status).toBe(200);
      const seen: string[] = [];
      const off = cluster.watch<Pod>('pods', { add: (p) => seen.push(p.metadata!.name!) });
      await cluster.waitForPods('deployment/web');
      off();
      expect(seen).toHaveLength(3);
      expect((await cluster.events()).length).toBeGreaterThan(0);
      const ingress = cluster.ingressAddress();
      addresses.push(web, await cluster.serviceAddress('web', 'http', { type: 'NodePort' }), cluster.dnsServer, { host: ingress.host, port: ingress.httpPort }, { host: nodeIP(cluster.config, 1), port: 10256 });
      for (const a of addresses) expect(await connectError(a.host, a.port)).toBe('connected');
      expect(descendants().length).toBeGreaterThan(childrenBefore.length);
    }
    // At once: the listeners and processes are gone, and so are the files.
    const after = resources();
    for (const type of ['TCPServerWrap', 'UDPWrap', 'ProcessWrap', 'TCPSocketWrap', 'PipeWrap']) expect(count(after, type), type).toBe(count(before, type));
    expect(descendants()).toEqual(childrenBefore);
    expect(readdirSync(privateTmp)).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
    expect(existsSync(path.join(realLockDir, String(index)))).toBe(false);
    for (const a of addresses) expect(await connectError(a.host, a.port), `${a.host}:${a.port}`).toBe('ECONNREFUSED');
    // Node's own short-lived caches (the HTTP Date header timer) expire within a second; after
    // that nothing of the cluster may keep the event loop busy.
    await eventually(noMoreThan(before));
  }, 120_000);
});

describe('close() is idempotent and safe after a failed start', () => {
  it('a second close() is a no-op; a start that fails cleans up after itself', async () => {
    const before = resources();
    const cluster = await startCluster({ components: { dns: false, ingress: false } });
    await Promise.all([cluster.close(), cluster.close()]);
    await cluster.close();
    await expect(startCluster({ manifests: 'apiVersion: v1\nkind: Nonsense\nmetadata: { name: x }\n' })).rejects.toThrow(/no matches for kind "Nonsense" in version "v1"/);
    expect(readdirSync(privateTmp)).toEqual([]);
    await eventually(noMoreThan(before));
  });
});
