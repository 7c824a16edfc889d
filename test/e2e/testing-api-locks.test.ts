/**
 * Address-block locks under concurrency: many processes claiming at the same instant never
 * get the same block, blocks of dead owners are reclaimed (by exactly one claimer each),
 * and a process releases only its own locks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { claimClusterIndex, releaseClusterIndex } from '../../dataplane/cluster/state-dir.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Lets plain node run the TypeScript sources in the child processes.
const tsHooks = path.join(root, 'test/bench/dns/register.mjs');
const lockDir = mkdtempSync(path.join(os.tmpdir(), 'knet-locks-test-'));

afterAll(() => rmSync(lockDir, { recursive: true, force: true }));

/**
 * N processes that each claim `each` blocks at the same instant (they load, then wait for a
 * go signal, so the claims truly race) and hold them until killed — leaving dead owners.
 */
async function claimAtOnce(processes: number, each: number): Promise<number[][]> {
  const go = path.join(lockDir, `.go-${Date.now()}`);
  const script = `
    import { existsSync, writeSync } from 'node:fs';
    import { claimClusterIndex } from ${JSON.stringify(path.join(root, 'dataplane/cluster/state-dir.ts'))};
    writeSync(1, 'ready\\n'); // synchronously: the loop below blocks the event loop
    const nap = new Int32Array(new SharedArrayBuffer(4));
    while (!existsSync(${JSON.stringify(go)})) Atomics.wait(nap, 0, 0, 1);
    const got = [];
    for (let i = 0; i < ${each}; i++) got.push(claimClusterIndex('worker ' + process.pid));
    writeSync(1, JSON.stringify(got) + '\\n');
    setInterval(() => {}, 1000);`;
  const children = Array.from({ length: processes }, () =>
    spawn(process.execPath, ['--import', tsHooks, '--input-type=module', '-e', script], { env: { ...process.env, KNET_LOCK_DIR: lockDir }, stdio: ['ignore', 'pipe', 'inherit'] }),
  );
  const lines = children.map((c) => {
    const rl = createInterface({ input: c.stdout! });
    const queue: string[] = [];
    const waiters: Array<(l: string) => void> = [];
    rl.on('line', (l) => (waiters.length ? waiters.shift()!(l) : queue.push(l)));
    // A child that dies (a claim that threw) must fail the test, not hang it.
    c.on('exit', (code) => code !== null && code !== 0 && waiters.splice(0).forEach((w) => w(`exited with code ${code}`)));
    return () => new Promise<string>((resolve) => (queue.length ? resolve(queue.shift()!) : waiters.push(resolve)));
  });
  try {
    expect(await Promise.all(lines.map((next) => next()))).toEqual(children.map(() => 'ready'));
    writeFileSync(go, '');
    return (await Promise.all(lines.map((next) => next()))).map((l) => JSON.parse(l) as number[]);
  } finally {
    await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : (c.once('exit', resolve), c.kill('SIGKILL'))))));
    rmSync(go, { force: true });
  }
}

describe('address-block locks', () => {
  it('processes claiming at once never share a block; dead owners’ blocks are reclaimed once each', async () => {
    expect(existsSync(tsHooks)).toBe(true);
    const first = (await claimAtOnce(5, 4)).flat();
    expect(new Set(first).size).toBe(20);
    expect(first.every((i) => i >= 1 && i <= 65)).toBe(true);
    // Every lock is whole: it names its owner and that owner's pid.
    for (const i of first) expect(readFileSync(path.join(lockDir, String(i), 'owner'), 'utf8')).toMatch(/^worker \d+\n\d+\n$/);
    // Those owners are gone: a second wave takes their blocks over, still never twice (a
    // claimer that finds a dead block being reaped by another moves on to the next one).
    const second = (await claimAtOnce(5, 4)).flat();
    expect(new Set(second).size).toBe(20);
    expect(second.filter((i) => first.includes(i)).length).toBeGreaterThan(0);
    // Nothing half-made is left lying around.
    expect(readdirSync(lockDir).filter((n) => !/^\d+$/.test(n))).toEqual([]);
  }, 180_000);

  it('a wanted block in use is refused with its owner; a preferred one is used when free', () => {
    const saved = process.env.KNET_LOCK_DIR;
    process.env.KNET_LOCK_DIR = mkdtempSync(path.join(os.tmpdir(), 'knet-locks-test-'));
    try {
      const a = claimClusterIndex('cluster a');
      expect(a).toBe(1);
      expect(() => claimClusterIndex('cluster b', a)).toThrow('cluster address block 1 is in use by cluster a');
      expect(claimClusterIndex('cluster c', undefined, 7)).toBe(7);
      // Preferred but taken: the lowest free one instead.
      expect(claimClusterIndex('cluster d', undefined, 7)).toBe(2);
      releaseClusterIndex(a);
      expect(claimClusterIndex('cluster e', a)).toBe(a);
    } finally {
      rmSync(process.env.KNET_LOCK_DIR, { recursive: true, force: true });
      if (saved === undefined) delete process.env.KNET_LOCK_DIR;
      else process.env.KNET_LOCK_DIR = saved;
    }
  });

  it('releases only its own lock, and never reaps the lock of a live process', () => {
    const saved = process.env.KNET_LOCK_DIR;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'knet-locks-test-'));
    process.env.KNET_LOCK_DIR = dir;
    try {
      // Block 3 belongs to another live process (our parent).
      mkdirSync(path.join(dir, '3'));
      writeFileSync(path.join(dir, '3', 'owner'), `someone else\n${process.ppid}\n`);
      releaseClusterIndex(3);
      expect(existsSync(path.join(dir, '3', 'owner'))).toBe(true);
      expect(() => claimClusterIndex('me', 3)).toThrow('in use by someone else');
      // Block 4 belongs to a process that is gone: it is reclaimed.
      mkdirSync(path.join(dir, '4'));
      writeFileSync(path.join(dir, '4', 'owner'), `dead\n${2 ** 22 + 12345}\n`);
      expect(claimClusterIndex('me', 4)).toBe(4);
      expect(readFileSync(path.join(dir, '4', 'owner'), 'utf8')).toBe(`me\n${process.pid}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      if (saved === undefined) delete process.env.KNET_LOCK_DIR;
      else process.env.KNET_LOCK_DIR = saved;
    }
  });
});
