import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'test-output/**', '.local/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read config once in main.ts (validated with zod) and pass it in.',
        },
      ],
    },
  },
  {
    // Entry points may read the environment: they are where config comes from. Tests may pass
    // it on to the processes they start.
    files: [
      '**/*.test.ts',
      '**/test-support.ts',
      'load-tests/**',
      // Examples are programs a user runs as they are: they read their settings at the top.
      'examples/**',
      '**/main.ts',
      // The test kit is test tooling: finding services in the environment is its job.
      'packages/testkit/src/**',
      '*.config.ts',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
);
