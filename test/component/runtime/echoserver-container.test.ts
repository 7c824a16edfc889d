import { createServer, type Server } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { startEchoserverContainer, type StartEchoserver } from '../../../dataplane/node/runtime/echoserver-container.js';
import { stopContainer, type ContainerContext } from '../../../dataplane/node/runtime/container-process.js';
import { nullContainerLog } from '../../../dataplane/node/runtime/container-log.js';
import { silentLogger } from '../../../dataplane/base/log.js';
import { condition, curl, openSocketHandles, podOf, runPod, stopAll, waitFor } from './helpers.js';

// This file's addresses: 127.53.4.0/24.
afterAll(async () => {
  await stopAll();
});

function ctxFor(podIP: string, ports: number[]): ContainerContext {
  const pod = podOf('echo-0', { containers: [{ name: 'echo', image: 'gcr.io/k8s-staging-ingressconformance/echoserver:v1', ports: ports.map((p) => ({ containerPort: p })) }] });
  return {
    pod, container: pod.spec!.containers[0]!, podIP, nodeName: 'node-1', hostname: 'echo-0',
    env: new Map([['POD_NAME', 'echo-0']]), command: [], args: [], log: nullContainerLog, logger: silentLogger,
  };
}

describe('echoserver image', () => {
  it('calls startEchoserver on each TCP containerPort of the pod IP and closes it on SIGTERM', async () => {
    const calls: Array<{ address: string; port: number; env: Record<string, string> }> = [];
    const fake: StartEchoserver = async (o) => {
      calls.push(o);
      const srv: Server = createServer((_q, r) => r.end(`echo ${o.port}`));
      await new Promise<void>((res) => srv.listen(o.port, o.address, () => res()));
      return { close: () => new Promise<void>((res) => srv.close(() => res())) };
    };
    const proc = await startEchoserverContainer(ctxFor('127.53.4.2', [3000, 3001]), async () => fake);
    expect(calls.map((c) => [c.address, c.port, c.env.POD_NAME])).toEqual([['127.53.4.2', 3000, 'echo-0'], ['127.53.4.2', 3001, 'echo-0']]);
    expect((await curl('http://127.53.4.2:3001/')).body).toBe('echo 3001');
    expect(await stopContainer(proc, 5000)).toEqual({ exitCode: 0 });
    expect((await curl('http://127.53.4.2:3000/')).code).toBe(7);
  });

  it('falls back to the identity responder while ingress/echoserver.ts is missing', async () => {
    const pod = runPod(podOf('echo-1', { containers: [{ name: 'echo', image: 'gcr.io/k8s-staging-ingressconformance/echoserver:v1', ports: [{ containerPort: 3000 }] }] }), '127.53.4.3');
    await waitFor('ready', () => condition(pod.latest(), 'Ready') === 'True');
    const r = await curl('http://127.53.4.3:3000/x');
    expect(r.status).toBe(200);
    expect(r.body.length).toBeGreaterThan(0);
  });
});

describe('cleanup', () => {
  it('leaves no listener or socket behind', async () => {
    await stopAll();
    await waitFor('sockets closed', () => openSocketHandles().length === 0, 5000);
  });
});
