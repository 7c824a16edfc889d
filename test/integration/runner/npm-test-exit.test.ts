// `npm test`'s runner (test/support/run-tests.mjs) must fail CI for every kind of failure, not
// only failed tests: a file that breaks while loading has no failed test to count.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'knet-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runOn(files: Record<string, string>): { status: number | null; summary: string } {
  const sub = mkdtempSync(path.join(dir, 'case-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(sub, name), text);
  writeFileSync(path.join(sub, 'vitest.config.mjs'), "export default { test: { include: ['*.test.mjs'] } };\n");
  const r = spawnSync(process.execPath, [path.join(root, 'test/support/run-tests.mjs'), '--root', sub, '--config', path.join(sub, 'vitest.config.mjs')], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, KNET_TEST_REPORT: path.join(sub, 'report.json') },
  });
  const lines = r.stdout.trim().split('\n');
  return { status: r.status, summary: lines[lines.length - 1] ?? '' };
}

const PASSING = "import { it, expect } from 'vitest';\nit('passes', () => expect(1).toBe(1));\n";

describe('npm test exit status', () => {
  it('is 0 when everything passes, with the one-line summary last', () => {
    expect(runOn({ 'a.test.mjs': PASSING })).toEqual({ status: 0, summary: '1 passed, 0 failed' });
  });

  it('is 1 for a test file that throws while loading, beside a passing one', () => {
    const r = runOn({ 'a.test.mjs': PASSING, 'b.test.mjs': "throw new Error('broken setup');\n" });
    expect(r.status).toBe(1);
    expect(r.summary).toMatch(/^1 passed, 0 failed; 1 test file\(s\) failed/);
  });

  it('is 1 for an unhandled error after a test passed', () => {
    const r = runOn({
      'a.test.mjs': "import { it } from 'vitest';\nit('leaks', async () => { setTimeout(() => { throw new Error('late'); }, 1); await new Promise((r) => setTimeout(r, 50)); });\n",
    });
    expect(r.status).toBe(1);
    expect(r.summary).toMatch(/vitest exited 1/);
  });

  it('is 1 for a failed test', () => {
    const r = runOn({ 'a.test.mjs': "import { it, expect } from 'vitest';\nit('fails', () => expect(1).toBe(2));\n" });
    expect(r).toEqual({ status: 1, summary: '0 passed, 1 failed; 1 test file(s) failed; vitest exited 1' });
  });
});
