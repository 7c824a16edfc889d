/**
 * kill -9 of a node agent whose pod runs a real program (one process per component, as
 * `knet up`): the program is not orphaned. The restarted agent takes it back as the kubelet
 * takes back running containers — same process, same containerID, restartCount unchanged, no
 * crash loop on its own port — forwards its host port again, and stops it when the pod is
 * deleted (the host port with it). A cluster closed while its agent is dead leaves no process
 * and no listener in its address block.
 */
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { createLogger } from '../../dataplane/base/log.js';
import { nodeIP, type ClusterConfig } from '../../dataplane/base/cluster-config.js';
import { NODE_METRICS_PORT } from '../../dataplane/node/node-metrics.js';
import { parentOf, processExists, processGroupOf, socketsInBlock } from '../support/block-sockets.js';
import { curl } from './proxy-helpers.js';

/** The supervisor's log lines (it runs in this process), as they are written. */
const lines = new EventEmitter();
const log = createLogger('test', { level: 'info', write: (l) => lines.emit('line', JSON.parse(l) as Record<string, unknown>) });
function logged(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (line: Record<string, unknown>) => {
      if (!match(line)) return;
      lines.off('line', on);
      resolve(line);
    };
    lines.on('line', on);
  });
}

/** A shell that stays the container's main process, with python3 in its process group; `hostPort` on the node IP. */
const program = (name: string, hostPort?: number) => `apiVersion: v1
kind: Pod
metadata: { name: ${name} }
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: web
    image: python:3.12
    command: [sh, -c, 'python3 -u -m http.server 8080 --bind "$POD_IP"; echo "http.server exited with $?"']
    ports: [{ containerPort: 8080${hostPort ? `, hostPort: ${hostPort}` : ''} }]
    readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 }
`;

/** py's hostPort: forwarded from node-1's IP by the agent, and again by the restarted one. */
const HOST_PORT = 18090;
let cluster: KnetCluster;
let config: ClusterConfig;
/** Every program pid seen, killed in afterAll should a test fail and leave them behind. */
const seen = new Set<number>();

beforeAll(async () => {
  cluster = await startCluster({ mode: 'processes', nodes: 1, components: { proxy: false, dns: false, ingress: false }, log, manifests: program('py', HOST_PORT) });
  config = cluster.config;
}, 120_000);

afterAll(async () => {
  await cluster?.close();
  for (const pid of seen) if (processExists(pid)) process.kill(pid, 'SIGKILL');
});

async function serving(name: string): Promise<{ pod: Pod; pids: number[]; leader: number }> {
  const pod = (await cluster.get<Pod>('pod', name))!;
  const ip = pod.status!.podIP!;
  const sock = socketsInBlock(config).find((s) => s.local === `${ip}:8080`);
  expect(sock, `a listener on ${ip}:8080`).toBeDefined();
  // The listener (python3) and its group leader (the container's main process, sh).
  const leader = processGroupOf(sock!.pids[0]!);
  const pids = [...new Set([leader, ...sock!.pids])].sort((a, b) => a - b);
  for (const pid of pids) seen.add(pid);
  expect(pids.length).toBe(2);
  expect((await curl(`http://${ip}:8080/`)).code).toBe(0);
  return { pod, pids, leader };
}

/**
 * kill -9 of node-1's agent, found as the parent of the container shim that is the parent of
 * the container's main process `leader` (dataplane/node/runtime/container-shim.ts); resolves
 * once the supervisor has seen it exit, with a promise of the restarted agent's readiness.
 */
async function killAgent(leader: number): Promise<{ ready: Promise<Record<string, unknown>>; shim: number }> {
  const shim = parentOf(leader);
  seen.add(shim);
  const pid = parentOf(shim);
  expect(pid).not.toBe(process.pid);
  const ready = logged((l) => l.msg === 'component ready' && l.component === 'node-1' && l.pid !== pid);
  const exited = logged((l) => l.msg === 'component exited' && l.component === 'node-1');
  process.kill(pid, 'SIGKILL');
  await exited;
  // The shim outlives its agent, as containerd-shim outlives containerd: the program's output still reaches its log.
  expect(processExists(shim), `shim ${shim}`).toBe(true);
  return { ready, shim };
}

/** A shim ends by itself once its program's group is gone and its output written (a moment after). */
async function waitGone(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (processExists(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} (a container shim) is still running`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('kill -9 of a node agent running a real program', () => {
  it('the restarted agent adopts the program: same process serving, same container, no restart', async () => {
    const before = await serving('py');
    const was = before.pod.status!.containerStatuses![0]!;
    expect(was.restartCount).toBe(0);
    const hostPort = `http://${nodeIP(config, 1)}:${HOST_PORT}/`;
    await cluster.waitFor(async () => (await curl(hostPort)).code === 0 || undefined, `py on ${hostPort}`);

    const { ready, shim } = await killAgent(before.leader);
    await ready;

    // The agent reports ready once it has taken its pods back and written their status.
    const after = await serving('py');
    expect(after.pids).toEqual(before.pids);
    const now = after.pod.status!.containerStatuses![0]!;
    expect(now.containerID).toBe(was.containerID);
    expect(now.restartCount).toBe(0);
    expect(now.state?.running?.startedAt).toBe(was.state?.running?.startedAt);
    expect(now.ready).toBe(true);
    const events = (await cluster.events()).filter((e) => e.involvedObject?.name === 'py').map((e) => e.reason);
    expect(events.filter((r) => r === 'Started')).toHaveLength(1);
    expect(events).not.toContain('BackOff');
    // Its host port is forwarded again by the new agent, to the same program.
    await cluster.waitFor(async () => (await curl(`${hostPort}via-host-port`)).code === 0 || undefined, `py on ${hostPort} after the restart`);
    await cluster.waitFor(async () => (await cluster.logs('py')).includes('GET /via-host-port'), 'the request through the host port in the log');

    // The adopted program is stopped with its pod: nothing of it is left once the pod is gone.
    expect((await curl(`http://${after.pod.status!.podIP}:8080/after-restart`)).code).toBe(0);
    await cluster.waitFor(async () => (await cluster.logs('py')).includes('GET /after-restart'), 'the request after the restart in the log');
    await cluster.delete('pod', 'py', 'default', { wait: true });
    for (const pid of before.pids) expect(processExists(pid), `pid ${pid}`).toBe(false);
    await cluster.waitFor(() => !processExists(shim), 'the shim to end with its program');
    // The apiserver, the node agents' exec endpoints (the kubelet's :10250) and their /metrics
    // (node IP :10255) still serve in the block while the cluster runs.
    const apiserver = `${config.apiServerAddress}:${config.apiServerPort}`;
    const nodeMetrics = `${nodeIP(config, 1)}:${NODE_METRICS_PORT}`;
    expect(socketsInBlock(config).filter((s) => s.local !== apiserver && s.local !== nodeMetrics && !s.local.endsWith(':10250'))).toEqual([]);
  }, 60_000);

  it('closing the cluster while the agent is dead leaves no process and no listener in the block', async () => {
    await cluster.apply(program('py2'));
    const { pids, leader } = await serving('py2');
    const { shim } = await killAgent(leader);
    await cluster.close();
    for (const pid of pids) expect(processExists(pid), `pid ${pid}`).toBe(false);
    await waitGone(shim);
    expect(socketsInBlock(config)).toEqual([]);
  }, 60_000);
});
