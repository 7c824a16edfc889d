/**
 * The examples that need a runner of their own, run by vitest so CI runs them with everything
 * else: the `node --test` example (against the package build, as a user's project imports it)
 * and the vitest globalSetup example (its own vitest config).
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs a command in the repository; resolves with its exit code and output, never rejects. */
async function run(args: string[]): Promise<{ code: number; out: string }> {
  // A nested vitest must not think it is one of our workers.
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'FORCE_COLOR')), NO_COLOR: '1' };
  try {
    const { stdout, stderr } = await exec(process.execPath, args, { cwd: root, env, timeout: 170_000, maxBuffer: 16 << 20 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('examples with their own runner', () => {
  it('node --test examples/testing/node-test/quickstart.test.mjs passes', async () => {
    // `import 'knet'` resolves to the package build.
    expect(existsSync(path.join(root, 'dist/dataplane/index.js')), 'run `npm run build` first').toBe(true);
    // The file, not its folder: Node 20 ran every test file in a folder given to --test, Node 21
    // and later take each argument as a file pattern, and a folder matches no file.
    const r = await run(['--test', 'examples/testing/node-test/quickstart.test.mjs']);
    // TAP on Node 20 and 22 (their default reporter when stdout is not a terminal), spec on 24.
    expect(r.out).toMatch(/^(?:# |ℹ )pass 3\n(?:# |ℹ )fail 0$/m);
    expect(r.code, r.out).toBe(0);
  }, 180_000);

  it('the vitest globalSetup example passes', async () => {
    const r = await run([path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'examples/testing/global-setup/vitest.config.ts']);
    expect(r.out).toMatch(/Tests\s+2 passed \(2\)/);
    expect(r.code, r.out).toBe(0);
  }, 180_000);
});
