/**
 * Topology hints through the real proxy, as `trafficDistribution: PreferClose` makes them (each
 * ready endpoint hinted for its own zone): clients on a node of zone-a reach the zone-a pod,
 * zone-b's the zone-b pod, through the ClusterIP and a NodePort alike; without hints, or when a
 * zone has no ready endpoint, every ready endpoint is used.
 * Addresses: node-1 in zone-a, node-2 in zone-b; ClusterIP 127.51.96.116, nodePort 30116,
 * backends 127.51.1.116 (node-1) and 127.51.2.116 (node-2), clients 127.51.1.216 / 127.51.2.216
 * (pods) and 127.51.200.116 (outside).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EP } from '../../unit/proxy/fixtures.js';
import { curl, NODE1, NODE2, slice, startBackend, startRig, svc, type Backend, type Rig } from './helpers.js';

const A: EP = { ip: '127.51.1.116', node: 'node-1', zone: 'zone-a', hints: ['zone-a'] };
const B: EP = { ip: '127.51.2.116', node: 'node-2', zone: 'zone-b', hints: ['zone-b'] };
const POD_A = '127.51.1.216';
const POD_B = '127.51.2.216';
const NODES = [
  { ...NODE1, zone: 'zone-a' },
  { ...NODE2, zone: 'zone-b' },
];

let rig: Rig;
let backends: Backend[];

beforeAll(async () => {
  backends = await Promise.all([startBackend(A.ip, 8080), startBackend(B.ip, 8080)]);
  rig = await startRig({ nodes: NODES, allNodes: () => NODES });
  rig.informers.upsert(svc('close', { clusterIP: '127.51.96.116', type: 'NodePort', trafficDistribution: 'PreferClose', ports: [{ port: 8080, nodePort: 30116 }] }));
});

afterAll(async () => {
  await rig?.close();
  await Promise.all(backends.map((b) => b.close()));
});

async function endpoints(eps: EP[]): Promise<void> {
  rig.informers.upsert(slice('close', [{ port: 8080 }], eps));
  await rig.proxy.sync();
}

/** Who answered `n` requests in a row (each a new connection). */
async function served(url: string, from: string, n = 4): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await curl(url, { from })).body);
  return [...new Set(out)].sort();
}

describe('zone hints', () => {
  it('keep each zone’s clients on its own endpoint, through the ClusterIP and the NodePort', async () => {
    await endpoints([A, B]);
    expect(await served('http://127.51.96.116:8080/', POD_A)).toEqual([`${A.ip}:8080`]);
    expect(await served('http://127.51.96.116:8080/', POD_B)).toEqual([`${B.ip}:8080`]);
    // From outside every node, the ClusterIP is received by the proxy's first node (zone-a).
    expect(await served('http://127.51.96.116:8080/', '127.51.200.116')).toEqual([`${A.ip}:8080`]);
    expect(await served(`http://${NODE2.ip}:30116/`, '127.51.200.116')).toEqual([`${B.ip}:8080`]);
  });

  it('without hints every ready endpoint is used (two requests reach both)', async () => {
    await endpoints([{ ...A, hints: undefined }, { ...B, hints: undefined }]);
    expect(await served('http://127.51.96.116:8080/', POD_A, 2)).toEqual([`${A.ip}:8080`, `${B.ip}:8080`]);
  });

  it('a zone whose endpoint is not ready uses the ready ones elsewhere', async () => {
    await endpoints([{ ...A, ready: false, hints: undefined }, B]);
    expect(await served('http://127.51.96.116:8080/', POD_A)).toEqual([`${B.ip}:8080`]);
  });
});
