import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';

// The layers (README "Shape of the code"): base imports nothing outside itself; each component
// imports base and its own files, never another component; composition may import anything.
const COMPONENTS = ['controllers', 'node', 'apiserver', 'dns', 'proxy', 'ingress'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['dataplane/**/*.ts', 'dns/**/*.ts', 'proxy/**/*.ts', 'ingress/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import'],
      'boundaries/include': ['dataplane/**/*.ts', 'dns/**/*.ts', 'proxy/**/*.ts', 'ingress/**/*.ts'],
      'boundaries/elements': [
        { type: 'base', pattern: 'dataplane/base' },
        { type: 'component', pattern: 'dataplane/(controllers|node|apiserver)', capture: ['name'] },
        { type: 'component', pattern: '(dns|proxy|ingress)', capture: ['name'] },
        { type: 'composition', pattern: 'dataplane/(cluster|cli|testing)' },
      ],
      // The package entry re-exports the composition layer; it is the top, nothing to check.
      'boundaries/ignore': ['dataplane/index.ts'],
      'import/resolver': { typescript: { alwaysTryTypes: true } },
    },
    rules: {
      'boundaries/no-unknown-files': 'error',
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          policies: [
            { from: { element: { type: 'base' } }, allow: { to: { element: { type: 'base' } } } },
            ...COMPONENTS.map((name) => ({
              from: { element: { type: 'component', captured: { name } } },
              allow: { to: [{ element: { type: 'base' } }, { element: { type: 'component', captured: { name } } }] },
            })),
            { from: { element: { type: 'composition' } }, allow: { to: { element: { type: ['base', 'component', 'composition'] } } } },
          ],
        },
      ],
    },
  },
);
