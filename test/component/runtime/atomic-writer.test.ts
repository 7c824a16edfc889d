/**
 * The kubelet's atomic writer on disk: a version directory behind `..data`, one link per
 * top-level name, an update switched in with one rename, names that went removed, nothing
 * rewritten when nothing changed, modes as asked, paths that would leave the volume refused.
 */
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeAtomically, type PayloadFile } from '../../../dataplane/node/runtime/atomic-writer.js';

const scratch = mkdtempSync(join(tmpdir(), 'knet-atomic-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const file = (path: string, text: string, mode = 0o644): PayloadFile => ({ path, content: Buffer.from(text), mode });
const visible = (dir: string) => readdirSync(dir).filter((n) => !n.startsWith('..')).sort();
const versions = (dir: string) => readdirSync(dir).filter((n) => /^\.\.\d{4}_/.test(n));

describe('writeAtomically', () => {
  const dir = join(scratch, 'vol');

  it('writes a version behind ..data and links each top-level name into it', () => {
    expect(writeAtomically(dir, [file('a', 'one'), file('conf/b.yaml', 'two', 0o600)])).toBe(true);
    expect(visible(dir)).toEqual(['a', 'conf']);
    expect(readlinkSync(join(dir, 'a'))).toBe('..data/a');
    expect(versions(dir)).toHaveLength(1);
    expect(readlinkSync(join(dir, '..data'))).toBe(versions(dir)[0]);
    expect(readFileSync(join(dir, 'conf', 'b.yaml'), 'utf8')).toBe('two');
    expect((statSync(join(dir, 'conf', 'b.yaml')).mode & 0o777).toString(8)).toBe('600');
  });

  it('rewrites nothing when nothing changed', () => {
    const before = versions(dir);
    expect(writeAtomically(dir, [file('a', 'one'), file('conf/b.yaml', 'two', 0o600)])).toBe(false);
    expect(versions(dir)).toEqual(before);
  });

  it('switches to a new version, drops names that went and the old version', () => {
    const before = versions(dir);
    expect(writeAtomically(dir, [file('a', 'uno'), file('c', 'three', 0o400)])).toBe(true);
    expect(visible(dir)).toEqual(['a', 'c']);
    expect(versions(dir)).toHaveLength(1);
    expect(versions(dir)).not.toEqual(before);
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('uno');
    expect((statSync(join(dir, 'c')).mode & 0o777).toString(8)).toBe('400');
    expect(lstatSync(join(dir, 'c')).isSymbolicLink()).toBe(true);
  });

  it('an empty volume is a version with no names (an optional ConfigMap that is missing)', () => {
    const empty = join(scratch, 'empty');
    writeAtomically(empty, []);
    expect(visible(empty)).toEqual([]);
    expect(readdirSync(empty)).toContain('..data');
  });

  it.each(['../escape', '/abs/../../x', '..data', 'a/../../b'])('refuses the path %j', (p) => {
    expect(() => writeAtomically(join(scratch, 'bad'), [file(p, 'x')])).toThrow(/must be relative and must not contain/);
  });
});
