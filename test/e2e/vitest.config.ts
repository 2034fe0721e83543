/**
 * Real-account end-to-end suite, opt-in: `SSC_E2E_ACCOUNT=1 npx vitest run --config test/e2e/vitest.config.ts`.
 * It deploys the stack, creates a real NLB and deletes everything again; it costs money and needs credentials, so
 * without SSC_E2E_ACCOUNT=1 it selects no test files and exits 0 after saying why. Settings: test/e2e/README in
 * docs/deploy.md ("End-to-end test").
 */
import { defineConfig } from 'vitest/config';

const enabled = process.env.SSC_E2E_ACCOUNT === '1';
if (!enabled) {
  console.log(
    'e2e: skipped: SSC_E2E_ACCOUNT is not 1. This suite deploys to a real AWS account (CloudFormation stack, NLB, ' +
      'Lambda) and needs credentials and a prepared VPC with tagged nodes; see docs/deploy.md "End-to-end test".',
  );
}

export default defineConfig({
  test: {
    include: enabled ? ['test/e2e/**/*.test.ts'] : [],
    passWithNoTests: true,
    // One account, one stack: never in parallel.
    fileParallelism: false,
    testTimeout: 30 * 60_000,
    hookTimeout: 45 * 60_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
