/**
 * A named cluster restarted on its own Redis data (knet down, then knet up) takes its address
 * block back, so its stored ClusterIPs stay valid; when another cluster holds that block, the
 * start fails at once and says what to do, instead of half-starting with contradicting IPs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Service } from 'kubernetes-types/core/v1.js';
import { launchCluster } from '../../dataplane/cluster/cluster.js';
import { claimClusterIndex, releaseClusterIndex } from '../../dataplane/cluster/state-dir.js';

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'knet-restart-'));
const name = `restart${process.pid}`;
const start = () => launchCluster({ name, stateDir, nodes: 1, mode: 'single-process', components: { proxy: false, dns: false, ingress: false } });
const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ port: 80 }] } } as Service;

afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

describe('restarting a named cluster', () => {
  it('gets its address block back, with its objects; refuses plainly while another cluster holds it', async () => {
    const first = await start();
    const block = first.config.index;
    const [applied] = await first.apply([{ source: 'test', index: 1, object: svc as never }]);
    const clusterIP = (applied!.object as Service).spec?.clusterIP;
    await first.close();

    // Someone else takes the block meanwhile (held by this live process: not reapable).
    claimClusterIndex('another cluster', block);
    try {
      await expect(start()).rejects.toThrow(new RegExp(`cluster "${name}" keeps its objects in .*redis, allocated from address block ${block} .*in use by another cluster.*remove .* to start "${name}" afresh`));
    } finally {
      releaseClusterIndex(block);
    }

    const again = await start();
    try {
      expect(again.config.index).toBe(block);
      expect((await again.store.get<Service>('Service', 'default', 'web'))?.spec?.clusterIP).toBe(clusterIP);
    } finally {
      await again.close();
    }
  }, 60_000);
});
