// A `knet up` killed with -9 leaves its Redis running: its address block stays its own until
// that store stops, so a parallel cluster cannot take it and the next `up` of the same cluster can.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimClusterIndex, releaseClusterIndex } from '../../dataplane/cluster/state-dir.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'knet-left-store-'));
const lockDir = path.join(root, 'locks');
const clusterDir = path.join(root, 'k1');
let saved: string | undefined;

/** A pid that existed and is gone now: a finished child's. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim());
}

beforeAll(() => {
  saved = process.env.KNET_LOCK_DIR;
  process.env.KNET_LOCK_DIR = lockDir;
  // Block 7 locked by a dead `knet up` of cluster k1, whose Redis (here: this process) still runs.
  mkdirSync(path.join(lockDir, '7'), { recursive: true });
  writeFileSync(path.join(lockDir, '7', 'owner'), `k1 ${clusterDir}\n${deadPid()}\n`);
  mkdirSync(path.join(clusterDir, 'redis'), { recursive: true });
  writeFileSync(path.join(clusterDir, 'redis', 'redis.pid'), `${process.pid} 6399\n`);
});
afterAll(() => {
  if (saved === undefined) delete process.env.KNET_LOCK_DIR;
  else process.env.KNET_LOCK_DIR = saved;
  rmSync(root, { recursive: true, force: true });
});

describe('a block whose dead owner left its Redis running', () => {
  it('is not taken by another cluster, asked for or not', () => {
    expect(() => claimClusterIndex(`other ${path.join(root, 'other')}`, 7)).toThrow(/cluster address block 7 is in use by k1 /);
    expect(claimClusterIndex(`other ${path.join(root, 'other')}`, undefined, 7)).not.toBe(7);
  });

  it('is taken back by the same cluster', () => {
    expect(claimClusterIndex(`k1 ${clusterDir}`, 7)).toBe(7);
    releaseClusterIndex(7);
  });

  it('is free for anyone once that Redis is gone', () => {
    mkdirSync(path.join(lockDir, '7'), { recursive: true });
    writeFileSync(path.join(lockDir, '7', 'owner'), `k1 ${clusterDir}\n${deadPid()}\n`);
    writeFileSync(path.join(clusterDir, 'redis', 'redis.pid'), `${deadPid()} 6399\n`);
    expect(claimClusterIndex(`other ${path.join(root, 'other')}`, 7)).toBe(7);
    releaseClusterIndex(7);
  });
});
