// npm's `prepare`: builds unless dist/ is already newer than every source file.
//
// Then links the project's own bin into node_modules/.bin: `npx knet …` looks there first, and
// without it npm installs the project into its npx cache (~/.npm/_npx) and runs `prepare`
// there again — a second or more on every first `npx knet` of a checkout, and a full build
// (~12 s, 46 s on a busy machine) whenever a source is newer than dist/. `npm run build`
// always builds.
import { execSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outputs = ['dist/knet/main.js', 'dist/dataplane/index.js'].map((f) => path.join(root, f));

function newestSource() {
  let newest = 0;
  const visit = (p) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p)) visit(path.join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const entry of ['dataplane', 'dns', 'proxy', 'ingress', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
    const p = path.join(root, entry);
    if (existsSync(p)) visit(p);
  }
  return newest;
}

const built = outputs.every(existsSync) ? Math.min(...outputs.map((f) => statSync(f).mtimeMs)) : 0;
if (built > newestSource()) console.log('prepare: dist/ is newer than the sources; not rebuilding (npm run build forces it)');
else execSync('npm run build', { cwd: root, stdio: 'inherit' });

const binDir = path.join(root, 'node_modules', '.bin');
const bin = path.join(binDir, 'knet');
let linked = false;
try {
  linked = lstatSync(bin).isSymbolicLink();
} catch {
  // Not there yet.
}
if (!linked && existsSync(path.join(root, 'node_modules'))) {
  mkdirSync(binDir, { recursive: true });
  symlinkSync(path.relative(binDir, outputs[0]), bin);
}
