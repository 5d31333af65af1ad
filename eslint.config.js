// ESLint flat config (`npm run lint`): the recommended rules of ESLint and typescript-eslint,
// plus the type-aware rules that catch the promise mistakes a long-running daemon cannot
// afford: a promise nobody awaits or catches, an async function where a callback's result is
// ignored, an await on something that is not a promise. The rest of the type-checked set was
// tried and found only noise here (closures flagged as unbound methods, text values as objects).
// Layout is prettier's job (`npm run lint` runs `prettier --check` too): no stylistic rules.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'reports/', 'coverage/', '.tmp/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // `let { a, b } = …` where only `a` is reassigned stays as it is (one declaration, not two).
      'prefer-const': ['error', { destructuring: 'all' }],
      // A leading underscore marks a binding kept on purpose (a rest sibling, an interface's argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Tests and benchmarks read JSON bodies and child-process output loosely, on purpose (the
    // directives some of them already carry for it are then unused, which is fine).
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
