import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod, Node } from 'kubernetes-types/core/v1.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { connectRedis } from '../../dataplane/base/store/redis-connection.js';
import { ObjectStore } from '../../dataplane/base/store/object-store.js';
import { StoreInformerFactory } from '../../dataplane/base/store/watch.js';
import { startNodeAgent, type NodeAgentHandle } from '../../dataplane/node/node-agent.js';
import { clusterConfig } from '../../dataplane/base/cluster-config.js';
import { waitUntil } from '../../dataplane/cluster/wait-until.js';
import { deleteObject } from '../../dataplane/base/admission/writes.js';

// A private address block for this file: cluster index 40.
const config = clusterConfig(40);
let redis: TestRedis;
let store: ObjectStore;
let informers: StoreInformerFactory;
let agent: NodeAgentHandle;
let logRoot: string;

beforeAll(async () => {
  redis = await startTestRedis();
  store = new ObjectStore(connectRedis(redis.url), 'agent');
  informers = new StoreInformerFactory(store, { redisUrl: redis.url });
  logRoot = mkdtempSync(path.join(os.tmpdir(), 'knet-agent-'));
  agent = await startNodeAgent({ store, informers, config, name: 'node-1', podLogsRoot: logRoot, crashBackoffMs: 50 });
});
afterAll(async () => {
  await agent?.close();
  await informers?.close();
  await store?.close();
  await redis?.cleanup();
  rmSync(logRoot, { recursive: true, force: true });
});

/** Waits for the store to show something, re-checked on every Pod watch event (the agent's own writes among them). */
function until<T>(f: () => Promise<T | undefined | false>, what: string): Promise<T> {
  return waitUntil(f, { informers, kinds: ['Pod'], timeoutMs: 10_000, onTimeout: () => new Error(`timed out waiting for ${what}`) });
}

const agnhost = (name: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { nodeName: 'node-1', terminationGracePeriodSeconds: 1, containers: [{ name: 'agnhost', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080'] }] },
});

describe('node agent', () => {
  it('registers its Node with the standard labels and its InternalIP', async () => {
    const node = await store.get<Node>('Node', undefined, 'node-1');
    expect(node?.metadata?.labels?.['kubernetes.io/hostname']).toBe('node-1');
    expect(node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address).toBe('127.193.18.2');
    expect(node?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('runs a bound pod on its own IP and reports it Ready', async () => {
    await store.create(agnhost('a'));
    const pod = await until(async () => {
      const p = await store.get<Pod>('Pod', 'default', 'a');
      return p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    }, 'pod a ready');
    expect(pod.status?.podIP).toMatch(/^127\.192\.1\.\d+$/);
    expect(pod.status?.phase).toBe('Running');
    const res = await fetch(`http://${pod.status!.podIP}:8080/hostname`);
    expect(await res.text()).toBe('a');
  });

  it('terminates a deleted pod: listeners close and the object goes away', async () => {
    const pod = await store.get<Pod>('Pod', 'default', 'a');
    await deleteObject(store, 'Pod', 'default', 'a');
    await until(async () => !(await store.get('Pod', 'default', 'a')), 'pod a gone');
    await expect(fetch(`http://${pod!.status!.podIP}:8080/hostname`)).rejects.toThrow();
  });
});
