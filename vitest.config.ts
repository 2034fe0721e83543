import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    globalSetup: ['test/setup/global-moto.ts'],
    setupFiles: ['test/setup/worker-moto.ts'],
    reporters: ['default', './test/setup/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Namespaced data-plane tests share the kernel; moto is shared per run and reset per file where needed.
    fileParallelism: true,
    maxWorkers: 2, // one moto server per worker: test/setup/global-moto.ts MOTO_SERVERS
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
