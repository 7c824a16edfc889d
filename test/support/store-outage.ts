/**
 * Taking a cluster's embedded store away, as a crash does: kill -9 its redis-server and hold
 * its port, so the supervisor's restarts fail (address in use) until release() — the test
 * decides how long the cluster runs without its store, instead of racing the restart.
 */
import net from 'node:net';
import { connectRedis } from '../../dataplane/base/store/redis-connection.js';

export interface HeldPort {
  release(): Promise<void>;
}

/**
 * Kills the store (its current pid, from `currentPid`) and binds its port as soon as the
 * kernel frees it. If the supervisor restarted it first, that one is killed too and we try
 * again (each restart waits longer, so we win).
 */
export async function killStoreAndHoldPort(port: number, currentPid: () => number | undefined): Promise<HeldPort> {
  const killed = new Set<number>();
  for (;;) {
    const pid = currentPid();
    if (pid !== undefined && !killed.has(pid)) {
      killed.add(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
    // Whoever connects meanwhile (the cluster's clients, the CLI) is hung up on at once.
    const squatter = net.createServer((s) => s.destroy());
    const bound = await new Promise<boolean>((resolve) => {
      squatter.once('error', () => resolve(false));
      squatter.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) return { release: () => new Promise<void>((resolve) => squatter.close(() => resolve())) };
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Resolves once the store at `url` serves again (a client's 'ready': it answered our password and is loaded). */
export async function storeServes(url: string): Promise<void> {
  const client = connectRedis(url, { maxRetriesPerRequest: null });
  try {
    if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
  } finally {
    client.disconnect();
  }
}
