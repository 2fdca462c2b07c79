import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'test/k8s/**/*.test.ts'],
    // Shared suites (`*.case.test.ts`) run only through the tests that call them.
    exclude: ['**/node_modules/**', '**/*.case.test.ts'],
    // Workspace tests run the real daemon bundle; build it (fast when up to date) first.
    globalSetup: ['./test/build-daemon.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PGlite instances and real sockets are heavy on 2 cores; files run in parallel, tests within a file in order.
    maxWorkers: 2,
  },
});
