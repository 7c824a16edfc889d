/**
 * A real redis-server per test file, on a free loopback port in a temp dir (never the
 * machine's own Redis on 6379).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../dataplane/cluster/embedded-redis.js';

export interface TestRedis extends EmbeddedRedis {
  dir: string;
  /** SIGKILL and start again on the same port and data dir. */
  crashAndRestart(): Promise<TestRedis>;
  cleanup(): Promise<void>;
}

export async function startTestRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'knet-redis-'));
  return wrap(await startEmbeddedRedis({ dir }), dir);
}

function wrap(r: EmbeddedRedis, dir: string): TestRedis {
  return {
    ...r,
    dir,
    async crashAndRestart() {
      r.process.kill('SIGKILL');
      await new Promise((res) => r.process.once('exit', res));
      return wrap(await startEmbeddedRedis({ dir, port: r.port, password: r.password }), dir);
    },
    async cleanup() {
      await r.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
