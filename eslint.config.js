import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'examples/', 'bench/fixtures/', 'coverage/', 'agents/**/*.py', 'schema/', 'bench/repair/corpus/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // An empty catch hides an infrastructure failure; say why in a comment or handle it.
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['bin/**/*.js', 'scripts/**/*.mjs', 'sandbox/**/*.js', 'agents/**/*.js', 'bench/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // The task containers' supervisor (a node program run inside the sandbox image).
    files: ['sandbox/supervisor/*.mjs'],
    languageOptions: { globals: { process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', performance: 'readonly', SharedArrayBuffer: 'readonly', Atomics: 'readonly' } },
  },
);
