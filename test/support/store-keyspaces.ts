/**
 * Stores for tests of what reaches Redis: one test Redis for the file (started before its tests,
 * removed after them) and, at each call, an ObjectStore on a keyspace of its own in it, so the
 * tests share the server and never their data. The caller closes each store it made.
 */
import { afterAll, beforeAll } from 'vitest';
import { connectRedis } from '../../dataplane/base/store/redis-connection.js';
import { ObjectStore } from '../../dataplane/base/store/object-store.js';
import { startTestRedis, type TestRedis } from './redis.js';

export function storeKeyspaces(prefix: string): () => ObjectStore {
  let redis: TestRedis | undefined;
  let seq = 0;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.cleanup();
  });
  return () => {
    if (!redis) throw new Error('storeKeyspaces: the test Redis is started by beforeAll; make stores in a test or a later hook');
    return new ObjectStore(connectRedis(redis.url), `${prefix}${++seq}`);
  };
}
