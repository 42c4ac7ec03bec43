import { defineConfig } from 'vitest/config';

// Workspace packages export their TypeScript sources under this condition, so tests run the
// sources directly while `node` and `tsc` use the built `dist/`.
const conditions = ['@fleetwire/source', 'module', 'node', 'development'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    // The JSON report feeds the pass/fail line .ci/run prints last.
    reporters: ['default', ['json', { outputFile: 'test-output/vitest.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{packages,services,infra}/*/src/**/*.test.ts', 'examples/*/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/*.fuzz.test.ts', '**/node_modules/**', '**/dist/**'],
          // Deadlines against hangs, not speed checks: PGlite's start (a WASM Postgres) alone
          // took over 5 s at load 16 on the 2 shared cores, failing the defaults' 5 s / 10 s.
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Property-based attacks on real processes: bounded runs, seed printed (FLEETWIRE_FUZZ_SEED
        // replays one), wall time kept under two minutes in CI.
        extends: true,
        test: {
          name: 'fuzz',
          include: ['{packages,services,infra}/*/src/**/*.fuzz.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [
            '{packages,services,infra}/*/src/**/*.int.test.ts',
            'examples/*/**/*.int.test.ts',
          ],
          exclude: ['**/node_modules/**', '**/dist/**'],
          globalSetup: ['./packages/testkit/src/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
