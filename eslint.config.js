// ESLint with type information (typescript-eslint): the rules CONVENTIONS asks for
// (curly, no-console outside the CLIs/tests/benchmarks, node: imports) plus the
// type-aware checks that catch real bugs (floating or misused promises, casts that do
// nothing). Run by `npm test` (and so by CI) as `npm run lint`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['assert', 'buffer', 'child_process', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises', 'http', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'stream', 'timers', 'timers/promises', 'tls', 'url', 'util', 'worker_threads', 'zlib'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bin/ivgw.js', 'eslint.config.js', 'native/build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      curly: ['error', 'all'],
      'no-console': 'error',
      'no-restricted-imports': ['error', { paths: nodeBuiltins.map((name) => ({ name, message: `import 'node:${name}'` })) }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // the README's embed examples: plain Node ESM programs
    files: ['examples/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly' } },
  },
  {
    // command-line programs, tests and benchmarks talk to a terminal
    files: ['bin/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'client/load/load-run.ts'],
    rules: { 'no-console': 'off' },
  },
);
