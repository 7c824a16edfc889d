/**
 * Container log files on disk: the CRI writer (lines per stream, pieces, rotation, modes) and
 * the reader every log client shares (tail, since, timestamps, limitBytes, follow to the end of
 * a run, across a rotation, and for a file that appears later).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CriLogWriter, rotatedFiles } from '../../../dataplane/node/runtime/cri-log-writer.js';
import { openRunLog } from '../../../dataplane/node/runtime/container-log.js';
import { readContainerLog, type FollowControl, type ReadLogOptions } from '../../../dataplane/base/container-logs/read-log.js';
import { loggedRuns } from '../../../dataplane/base/container-logs/log-layout.js';

const scratch = mkdtempSync(join(tmpdir(), 'knet-logfiles-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(scratch, `c${++n}`, '0.log');

/** A clock that moves one second per line, from 2024-01-01T00:00:00Z. */
function ticking(): () => bigint {
  let t = 1_704_067_200_000_000_000n;
  return () => (t += 1_000_000_000n);
}

async function read(file: string, opts: Partial<ReadLogOptions> = {}): Promise<string> {
  const chunks: Buffer[] = [];
  await readContainerLog(file, { timestamps: false, ...opts }, (c) => chunks.push(c));
  return Buffer.concat(chunks).toString();
}

describe('the writer', () => {
  it('cuts each stream into CRI lines, keeps a line written in pieces whole, drops \\r, and writes what is left as a piece', async () => {
    const file = fresh();
    const w = new CriLogWriter(file, { now: ticking() });
    w.write('stdout', 'hello ');
    w.write('stderr', 'oops\r\n');
    w.write('stdout', 'world\nsecond line\nno newline');
    await w.close();
    expect(readFileSync(file, 'utf8')).toBe(
      [
        '2024-01-01T00:00:01Z stderr F oops',
        '2024-01-01T00:00:02Z stdout F hello world',
        '2024-01-01T00:00:03Z stdout F second line',
        '2024-01-01T00:00:04Z stdout P no newline',
        '',
      ].join('\n'),
    );
    expect(await read(file)).toBe('oops\nhello world\nsecond line\nno newline');
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
    expect((statSync(join(file, '..')).mode & 0o777).toString(8)).toBe('700');
  });

  it('writes a line longer than the limit as pieces that read back as the line', async () => {
    const file = fresh();
    const w = new CriLogWriter(file, { now: ticking(), maxLine: 4 });
    w.write('stdout', 'abcdefghij\n');
    await w.close();
    expect(readFileSync(file, 'utf8').split('\n').map((l) => l.slice(21))).toEqual(['stdout P abcd', 'stdout P efgh', 'stdout F ij', '']);
    expect(await read(file)).toBe('abcdefghij\n');
  });

  it('creates no file for a container that writes nothing', async () => {
    const file = fresh();
    await new CriLogWriter(file).close();
    expect(() => statSync(file)).toThrow();
  });

  it('rotates past the size limit and keeps at most maxFiles files; reading shows the current file only, as the kubelet does', async () => {
    const file = fresh();
    const w = new CriLogWriter(file, { now: ticking(), maxSize: 100, maxFiles: 3 });
    for (let i = 0; i < 20; i++) w.write('stdout', `line ${i}\n`);
    await w.close();
    const rotated = rotatedFiles(file);
    expect(rotated).toHaveLength(2);
    expect(rotated.every((f) => /0\.log\.20240101-0000\d\d$/.test(f))).toBe(true);
    expect(statSync(file).size).toBeLessThanOrEqual(100);
    const current = await read(file);
    expect(current.endsWith('line 19\n')).toBe(true);
    expect(current).not.toContain('line 0\n');
  });

  it('a new run removes the runs before the previous one (the kubelet keeps one dead container)', async () => {
    const dir = join(scratch, 'runs');
    for (let run = 0; run < 4; run++) {
      const log = openRunLog(dir, run);
      log.write(`run ${run}\n`);
      await log.close();
    }
    expect(loggedRuns(dir)).toEqual([2, 3]);
    expect(readdirSync(dir).sort()).toEqual(['2.log', '3.log']);
  });
});

describe('the reader', () => {
  async function sample(): Promise<string> {
    const file = fresh();
    const w = new CriLogWriter(file, { now: ticking() });
    for (let i = 1; i <= 5; i++) w.write(i % 2 ? 'stdout' : 'stderr', `line ${i}\n`);
    await w.close();
    return file;
  }

  it('tails, filters by time, prints timestamps with nine digits and cuts at limitBytes', async () => {
    const file = await sample();
    expect(await read(file)).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
    expect(await read(file, { tailLines: 2 })).toBe('line 4\nline 5\n');
    expect(await read(file, { tailLines: 0 })).toBe('');
    expect(await read(file, { tailLines: 99 })).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
    expect(await read(file, { since: 1_704_067_204_000_000_000n })).toBe('line 4\nline 5\n');
    expect(await read(file, { tailLines: 1, timestamps: true })).toBe('2024-01-01T00:00:05.000000000Z line 5\n');
    expect(await read(file, { limitBytes: 10 })).toBe('line 1\nlin');
  });

  it('a missing file reads as nothing', async () => {
    expect(await read(join(scratch, 'nope', '0.log'))).toBe('');
  });

  it('follows until the run has ended and what it wrote before has been read, across a rotation', async () => {
    const file = fresh();
    const w = new CriLogWriter(file, { maxSize: 120 });
    w.write('stdout', 'before\n');
    let running = true;
    const got: string[] = [];
    let wake: (() => void) | undefined;
    const follow: FollowControl = { running: () => running, checkMs: 50 };
    const done = readContainerLog(file, { timestamps: false }, (c) => {
      got.push(c.toString());
      wake?.();
    }, follow);
    const seen = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => (got.join('').includes(text) ? resolve() : (wake = check));
        check();
      });
    await seen('before\n');
    // Enough lines to rotate the file (120 bytes) several times while following; each is read
    // before the next is written (a follower cannot see a file rotated away before it got there).
    for (let i = 0; i < 8; i++) {
      w.write('stdout', `during ${i}\n`);
      await seen(`during ${i}\n`);
    }
    w.write('stdout', 'last words\n');
    running = false;
    await w.close();
    await done;
    expect(got.join('')).toBe(['before', ...Array.from({ length: 8 }, (_, i) => `during ${i}`), 'last words', ''].join('\n'));
    expect(rotatedFiles(file).length).toBeGreaterThan(0);
  });

  it('waits for the file of a running run that has not written yet, and stops when asked', async () => {
    const file = fresh();
    const stop = new AbortController();
    const got: string[] = [];
    let resolveFirst!: () => void;
    const first = new Promise<void>((r) => (resolveFirst = r));
    const done = readContainerLog(file, { timestamps: false }, (c) => {
      got.push(c.toString());
      resolveFirst();
    }, { running: () => true, signal: stop.signal, checkMs: 20 });
    const w = new CriLogWriter(file);
    w.write('stdout', 'finally\n');
    await first;
    stop.abort();
    await done;
    await w.close();
    expect(got.join('')).toBe('finally\n');
  });
});
