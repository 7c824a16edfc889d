// Prints the plain closing line CI reads ("N passed, N failed"), from vitest's JSON report.
import { readFileSync } from 'node:fs';
const r = JSON.parse(readFileSync(new URL('../results/vitest.json', import.meta.url), 'utf8'));
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(r.numFailedTests > 0 || r.numTotalTests === 0 ? 1 : 0);
