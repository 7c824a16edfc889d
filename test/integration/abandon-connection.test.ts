/**
 * Giving up on a store that went away: every command waiting on the connection — queued while
 * it reconnects, or in flight when it broke — and every later one fails at once, where
 * ioredis's own disconnect() leaves them pending (redis/ioredis#2197). Shutdown relies on it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { abandonConnection, connectRedis, storeAnswers } from '../../dataplane/base/store/redis-connection.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(() => redis.cleanup());

describe('abandonConnection', () => {
  it('fails what waits on a dead store, in flight or queued, and what comes after', async () => {
    const client = connectRedis(redis.url, { maxRetriesPerRequest: null });
    await client.ping();
    expect(await storeAnswers(client, 300)).toBe(true);
    const inFlight = client.blpop('nothing', 0); // blocks until the connection breaks
    const reconnecting = new Promise((resolve) => client.once('reconnecting', resolve));
    redis.process.kill('SIGKILL');
    await reconnecting;
    expect(await storeAnswers(client, 300)).toBe(false);
    const queued = client.get('x');

    abandonConnection(client);
    await expect(inFlight).rejects.toThrow('Connection is closed.');
    await expect(queued).rejects.toThrow('Connection is closed.');
    await expect(client.get('y')).rejects.toThrow('Connection is closed.');
    expect(client.status).toBe('end');
  });
});
