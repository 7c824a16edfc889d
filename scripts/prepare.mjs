// npm's `prepare`: builds unless dist/ is already newer than every source file.
//
// Why: `npx knet …` in a fresh clone does not find the project's own bin in
// node_modules/.bin, so npm links the project into its npx cache and runs `prepare` again
// — a full build (~12 s) right after `npm ci` made one. `npm run build` always builds.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
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
