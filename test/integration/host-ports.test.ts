/**
 * Host ports at the node agent (dataplane/node/host-port-forwarder.ts), with a real store and
 * real sockets: a port another program holds is a Warning event on the pod (which still runs)
 * and is forwarded once it is free; a hostIP that is not the node's is never bound, with an
 * event saying why; a restarted agent forwards its pods' host ports again.
 */
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { connectRedis } from '../../dataplane/base/store/redis-connection.js';
import { ObjectStore } from '../../dataplane/base/store/object-store.js';
import { StoreInformerFactory } from '../../dataplane/base/store/watch.js';
import { createEventRecorder } from '../../dataplane/base/admission/events.js';
import { clusterConfig, nodeIP, type ClusterConfig } from '../../dataplane/base/cluster-config.js';
import { claimClusterIndex, releaseClusterIndex } from '../../dataplane/cluster/state-dir.js';
import { waitUntil } from '../../dataplane/cluster/wait-until.js';
import { startNodeAgent, type NodeAgentHandle, type NodeAgentOptions } from '../../dataplane/node/node-agent.js';
import { HOST_PORT_FAILED_REASON } from '../../dataplane/node/host-port-forwarder.js';

let block: number;
let config: ClusterConfig;
let redis: TestRedis;
let store: ObjectStore;
let informers: StoreInformerFactory;
let agent: NodeAgentHandle;
let logRoot: string;
let node1: string;

function agentOptions(): NodeAgentOptions {
  const events = createEventRecorder(store, { component: 'kubelet', host: 'node-1' });
  return { store, informers, config, name: 'node-1', podLogsRoot: logRoot, events, hostPortBindRetryMs: 100 };
}

beforeAll(async () => {
  block = claimClusterIndex('host-ports integration test');
  config = clusterConfig(block);
  node1 = nodeIP(config, 1);
  redis = await startTestRedis();
  store = new ObjectStore(connectRedis(redis.url), 'host-ports');
  informers = new StoreInformerFactory(store, { redisUrl: redis.url });
  logRoot = mkdtempSync(path.join(os.tmpdir(), 'knet-host-ports-'));
  agent = await startNodeAgent(agentOptions());
});
afterAll(async () => {
  await agent?.close();
  await informers?.close();
  await store?.close();
  await redis?.cleanup();
  if (logRoot) rmSync(logRoot, { recursive: true, force: true });
  if (block !== undefined) releaseClusterIndex(block);
});

/** agnhost netexec on 8080, bound to node-1, with `hostPort` (and `hostIP`) on its port. */
const withHostPort = (name: string, hostPort: number, hostIP?: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: {
    nodeName: 'node-1',
    terminationGracePeriodSeconds: 1,
    containers: [{ name: 'agnhost', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080'], ports: [{ containerPort: 8080, hostPort, ...(hostIP ? { hostIP } : {}) }] }],
  },
});

function until<T>(f: () => Promise<T | undefined | false>, what: string): Promise<T> {
  return waitUntil(f, { informers, kinds: ['Pod', 'Event'], pollMs: 50, timeoutMs: 15_000, onTimeout: () => new Error(`timed out waiting for ${what}`) });
}

/** The body of GET http://addr/path, or undefined when the connection fails. */
async function get(url: string): Promise<string | undefined> {
  try {
    return await (await fetch(url, { signal: AbortSignal.timeout(2000) })).text();
  } catch {
    return undefined;
  }
}

const ready = (name: string) => until(async () => (await store.get<Pod>('Pod', 'default', name))?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), `pod ${name} Ready`);

async function warnings(pod: string): Promise<string[]> {
  const events = (await store.list<Event>('Event', 'default')).items;
  return events.filter((e) => e.involvedObject?.name === pod && e.reason === HOST_PORT_FAILED_REASON).map((e) => `${e.type}: ${e.message}`);
}

/** Whether a TCP connect to addr:port is refused (nothing listens there). */
function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

describe('host ports at the node agent', () => {
  it('a port another program holds: a Warning event on the pod, which runs; forwarded once the port is free', async () => {
    const blocker = net.createServer((s) => s.end('blocker\n'));
    await new Promise<void>((r) => blocker.listen(18081, node1, r));
    try {
      await store.create(withHostPort('busy', 18081));
      const [warning] = await until(async () => (await warnings('busy')).length > 0 && warnings('busy'), 'a FailedToBindHostPort event for busy');
      expect(warning).toBe(`Warning: host port 18081/TCP is not forwarded to ${(await store.get<Pod>('Pod', 'default', 'busy'))!.status!.podIP}:8080: cannot bind ${node1}:18081/TCP: another program holds it (or 0.0.0.0:18081). Fix: find it with \`ss -lpn 'sport = :18081'\` and stop it or move it to another port`);
      await ready('busy');
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    // The retry binds it (every 100 ms here): the pod answers on the node's port.
    expect(await until(async () => (await get(`http://${node1}:18081/hostname`)) === 'busy', 'busy on the host port')).toBe(true);
    // Reported once, not on every retry.
    expect(await warnings('busy')).toHaveLength(1);
  });

  it("a hostIP that is not this node's address is not bound, and an event says why", async () => {
    const node2 = nodeIP(config, 2);
    await store.create(withHostPort('elsewhere', 18083, node2));
    const [warning] = await until(async () => (await warnings('elsewhere')).length > 0 && warnings('elsewhere'), 'a FailedToBindHostPort event for elsewhere');
    expect(warning).toBe(`Warning: host port 18083/TCP on hostIP ${node2} is not forwarded: ${node2} is not this node's address (${node1}); knet listens only on its node's own address (leave hostIP empty for the node IP)`);
    await ready('elsewhere');
    expect(await refused(node2, 18083)).toBe(true);
    expect(await refused(node1, 18083)).toBe(true);
  });

  it("a restarted agent forwards its pods' host ports again", async () => {
    await store.create(withHostPort('web', 18082));
    await ready('web');
    expect(await until(async () => (await get(`http://${node1}:18082/hostname`)) === 'web', 'web on the host port')).toBe(true);
    await agent.close();
    expect(await refused(node1, 18082)).toBe(true);
    agent = await startNodeAgent(agentOptions());
    expect(await until(async () => (await get(`http://${node1}:18082/hostname`)) === 'web', 'web on the host port after the restart')).toBe(true);
  });
});
