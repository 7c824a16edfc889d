/**
 * A component process told to stop while it is still starting (the node agent registers its
 * Node and starts pods before its start returns) stops cleanly once started, with exit 0 — not
 * killed by Node's default SIGTERM action with its pods and last store writes left behind (CI
 * once caught `knet node` dying so when a test stopped it early).
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCluster } from '../../dataplane/testing/index.js';
import { cliEntry } from '../../dataplane/cluster/cluster.js';
import type { ClusterFile } from '../../dataplane/cluster/state-dir.js';

describe('component processes and signals', () => {
  it('knet node stops cleanly on a SIGTERM that arrives while it starts', async () => {
    const cluster = await startCluster({ nodes: 1, components: { proxy: false, dns: false, ingress: false } });
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'knet-signal-'));
    try {
      const file = JSON.parse(readFileSync(path.join(cluster.stateDir, 'cluster.json'), 'utf8')) as ClusterFile;
      const child = spawn(process.execPath, [cliEntry(), 'node', 'node-2', '--redis', file.redisUrl, '--cluster', cluster.name], {
        env: { ...process.env, KNET_STATE_DIR: elsewhere, KNET_REDIS_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
      // Its first log line ("node registered") is written from inside the start.
      const logged = new Promise<void>((resolve, reject) => {
        for (const stream of [child.stdout, child.stderr]) {
          stream.on('data', (d: Buffer) => {
            output += d.toString();
            resolve();
          });
        }
        void exited.then((how) => reject(new Error(`knet node ended (${how}) before it logged anything`)));
      });
      await logged;
      child.kill('SIGTERM');
      expect(await exited, output).toBe(0);
      expect(output).toContain('"msg":"stopping"');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
      await cluster.close();
    }
  });
});
