/**
 * Claiming an address block checks that nothing else holds its addresses: a block whose pod IP
 * 127.x.1.3:8080 another process listens on (a program some killed node agent left behind, or
 * anyone's server) is never joined — refused with the address and the process when asked for
 * by index, skipped when only preferred.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterConfig } from '../../dataplane/base/cluster-config.js';
import { claimClusterIndex, releaseClusterIndex } from '../../dataplane/cluster/state-dir.js';
import { startCluster } from '../../dataplane/index.js';

let block: number;
let address: string;
let foreign: ChildProcess;
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'knet-block-claim-'));

beforeAll(async () => {
  // A block free right now; held while the foreign listener comes up, so no cluster takes it meanwhile.
  block = claimClusterIndex('block-claim test');
  address = `${clusterConfig(block).podPrefix}.1.3`;
  foreign = spawn(process.execPath, ['-e', `require('net').createServer().listen(8080, '${address}', () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(foreign.stdout!, 'data')) as [Buffer];
  expect(line.toString()).toContain('listening');
  releaseClusterIndex(block);
});

afterAll(async () => {
  if (foreign.exitCode === null) {
    foreign.kill('SIGKILL');
    await once(foreign, 'exit');
  }
  rmSync(stateDir, { recursive: true, force: true });
});

const small = { nodes: 1, components: { proxy: false, dns: false, ingress: false } } as const;

describe('claiming an address block', () => {
  it('refuses a block asked for by index whose address another process listens on, naming both', async () => {
    const outcome = await startCluster({ ...small, index: block }).then(
      async (joined) => {
        await joined.close();
        return `joined block ${joined.config.index}`;
      },
      (err: Error) => err.message,
    );
    expect(outcome).toContain(`cluster address block ${block} is not free: ${address}:8080/tcp is held by pid ${foreign.pid}: ${process.execPath} -e`);
  });

  it('skips a preferred block whose address another process listens on', async () => {
    // A named cluster that last ran in `block` prefers it again (its address-block file).
    const name = `claim${process.pid}`;
    mkdirSync(path.join(stateDir, name), { recursive: true });
    writeFileSync(path.join(stateDir, name, 'address-block'), `${block}\n`);
    await using cluster = await startCluster({ ...small, name, stateDir });
    expect(cluster.config.index).not.toBe(block);
  });
});
