// Bundles the `knet` CLI (from tsc's output in dist/) into dist/knet/: one entry plus a few
// chunks, one per lazily loaded command and component.
//
// Why: `knet up` starts seven Node processes at once on what may be a 2-core machine, and
// each spent most of its start resolving and reading ~400 module files (package.json
// lookups, stat calls, one compile per file). Loading a handful of bundled chunks instead
// cuts each process's start CPU by about half, which is most of `knet up`'s time to ready.
// The library entry (dist/dataplane/index.js) stays unbundled for projects that import knet.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'knet');
rmSync(outdir, { recursive: true, force: true });

await build({
  // The container shim (dataplane/node/runtime/container-shim.ts) is a program of its own.
  entryPoints: {
    main: path.join(root, 'dist', 'dataplane', 'cli', 'main.js'),
    'container-shim': path.join(root, 'dist', 'dataplane', 'node', 'runtime', 'container-shim-main.js'),
  },
  outdir,
  bundle: true,
  // just-bash loads its workers and optional native codecs by path, node-pty is a native
  // addon, and ws requires its optional native helpers: all stay in node_modules.
  external: ['just-bash', '@lydell/node-pty', 'bufferutil', 'utf-8-validate'],
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Dependencies written as CommonJS call require(); an ESM bundle has no require of its own.
  banner: { js: "import { createRequire as __knetCreateRequire } from 'node:module'; const require = __knetCreateRequire(import.meta.url);" },
  // ajv-formats-draft2019 (kubernetes-models' validation) calls require('punycode'), which Node
  // resolves to its deprecated built-in module. From node_modules Node 22+ keeps quiet about it;
  // from this bundle it printed DEP0040 on stderr before every command's output. The npm
  // package of the same name (installed for that dependency) is the same code, bundled in.
  alias: { punycode: 'punycode/punycode.js' },
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
});
