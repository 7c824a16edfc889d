// Module hooks: resolve `./x.js` to `./x.ts` when only the .ts exists, and strip types with
// TypeScript's transpileModule (no type checking: `npm run typecheck` does that).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export async function resolve(specifier, context, next) {
  if (specifier.endsWith('.js') && /^\.{1,2}\//.test(specifier) && context.parentURL?.startsWith('file:')) {
    const js = new URL(specifier, context.parentURL);
    const tsUrl = new URL(js.href.slice(0, -3) + '.ts');
    if (!existsSync(fileURLToPath(js)) && existsSync(fileURLToPath(tsUrl))) return { url: tsUrl.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const fileName = fileURLToPath(url);
  const out = ts.transpileModule(await readFile(fileName, 'utf8'), {
    fileName,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
