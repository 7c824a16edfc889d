/**
 * kube-proxy end to end, a crash: the cluster runs one process per component (as `knet up`
 * does); `kill -9` of the proxy takes every listener with it, the supervisor restarts it, and
 * every service answers again — ClusterIP over TCP and UDP, NodePort on both nodes, the
 * LoadBalancer IP — rebuilt from the store alone (the proxy keeps no state of its own).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeIP } from '../../dataplane/base/cluster-config.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { agnhostDeployment, curl, readyPods, udpAsk } from './proxy-helpers.js';

let cluster: KnetCluster;
let pods: string[];

beforeAll(async () => {
  cluster = await startCluster({
    mode: 'processes',
    components: { dns: false, ingress: false },
    manifests: [
      agnhostDeployment({ name: 'web', replicas: 2 }),
      `apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: LoadBalancer
  selector: { app: web }
  ports:
  - { name: http, port: 80, targetPort: http }
  - { name: udp, port: 80, targetPort: udp, protocol: UDP }
`,
    ].join('---\n'),
  });
  await cluster.waitForEndpoints('web', 2);
  pods = (await readyPods(cluster, { app: 'web' })).map((p) => p.metadata!.name!).sort();
}, 120_000);

afterAll(async () => {
  await cluster?.close();
});

/** Every frontend of the service, and what it answered (a pod name, or the failure). */
async function everyFrontend(): Promise<Record<string, string>> {
  const clusterIP = await cluster.serviceAddress('web', 'http');
  const nodePort = await cluster.serviceAddress('web', 'http', { type: 'NodePort' });
  const lb = await cluster.serviceAddress('web', 'http', { type: 'LoadBalancer' });
  const http = async (host: string, port: number) => {
    const r = await curl(`http://${host}:${port}/hostname`, '--max-time', '1');
    return r.code === 0 ? r.body : `curl exit ${r.code}`;
  };
  const udpPort = (await cluster.serviceAddress('web', 'udp')).port;
  return {
    clusterIP: await http(clusterIP.host, clusterIP.port),
    clusterIPUdp: await udpAsk(clusterIP.host, udpPort, 'hostname', '127.0.0.1', 1000).catch((e: Error) => e.message),
    nodePort1: await http(nodeIP(cluster.config, 1), nodePort.port),
    nodePort2: await http(nodeIP(cluster.config, 2), nodePort.port),
    loadBalancer: await http(lb.host, lb.port),
  };
}

const allServed = (r: Record<string, string>) => Object.values(r).every((v) => pods.includes(v));

describe('kill -9 of the proxy process', () => {
  it('the supervisor restarts it and every service answers again', async () => {
    expect(allServed(await everyFrontend())).toBe(true);
    const file = JSON.parse(readFileSync(path.join(cluster.stateDir, 'cluster.json'), 'utf8')) as { processes: Record<string, number> };
    const pid = file.processes.proxy!;
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);

    process.kill(pid, 'SIGKILL');
    await cluster.waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, `proxy pid ${pid} to die`);

    let last: Record<string, string> = {};
    await cluster.waitFor(async () => allServed((last = await everyFrontend())), 'every frontend to answer after the restart', 30_000, async () => JSON.stringify(last));
    expect(Object.keys(last)).toHaveLength(5);
  }, 60_000);
});
