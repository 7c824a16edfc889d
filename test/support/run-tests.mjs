// `npm test`: runs vitest, then prints the closing lines CI reads, and exits non-zero when
// anything failed — a failed test, a test file that failed to load or set up (it has no failed
// test to count), an unhandled error (vitest's own exit status), or no tests at all.
// It also prints each layer's share of the time, so the suite's 15-minute budget stays visible.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// KNET_TEST_REPORT: where the JSON report goes (the runner's own test points it elsewhere).
const report = process.env.KNET_TEST_REPORT ?? path.join(root, 'test/results/vitest.json');
rmSync(report, { force: true });

const started = Date.now();
// Its own process group (detached): a vitest fork that gives up on a hung test kills its whole
// process group (kill(0, SIGKILL)), which would otherwise take this runner, npm and CI with it.
// Ctrl-C and a CI's SIGTERM are passed on.
const child = spawn(
  process.execPath,
  [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', detached: true },
);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
const vitest = await new Promise((resolve) => child.on('exit', (status, signal) => resolve({ status, signal })));
const wallS = (Date.now() - started) / 1000;

if (!existsSync(report)) {
  console.log(`0 passed, 0 failed: vitest wrote no report (exit ${vitest.status ?? vitest.signal})`);
  process.exit(1);
}
const r = JSON.parse(readFileSync(report, 'utf8'));
const files = r.testResults ?? [];
const failedFiles = files.filter((f) => f.status === 'failed');
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);

// Layer = the folder under test/ (unit, component, integration, e2e) or examples/.
const layers = new Map();
for (const f of files) {
  const rel = path.relative(root, f.name).split(path.sep);
  const layer = rel[0] === 'test' ? rel[1] : rel[0];
  const entry = layers.get(layer) ?? { files: 0, seconds: 0 };
  entry.files++;
  entry.seconds += Math.max(0, (f.endTime - f.startTime) / 1000);
  layers.set(layer, entry);
}
const byLayer = [...layers].sort((a, b) => b[1].seconds - a[1].seconds).map(([name, e]) => `${name} ${e.seconds.toFixed(0)} s (${e.files} files)`);
console.log(`time per layer, summed over files run in parallel: ${byLayer.join(', ')}; wall ${wallS.toFixed(0)} s`);
for (const f of failedFiles) {
  const firstLine = String(f.message ?? '').split('\n').find((l) => l.trim()) ?? '';
  console.log(`failed file: ${path.relative(root, f.name)}${firstLine ? ` — ${firstLine.slice(0, 200)}` : ''}`);
}
console.log(
  `${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}` +
    (failedFiles.length ? `; ${failedFiles.length} test file(s) failed` : '') +
    (vitest.status !== 0 ? `; vitest exited ${vitest.status ?? vitest.signal}` : ''),
);
const ok = vitest.status === 0 && r.success !== false && r.numFailedTests === 0 && failedFiles.length === 0 && r.numTotalTests > 0;
process.exit(ok ? 0 : 1);
