// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** lib/ is the product; tools/ (svcctl, local mode, the namespace test bed) builds on it, never the reverse. */
const NO_TOOLS = { group: ['**/tools/**'], message: 'lib/ (the product) imports nothing from tools/ (user tooling)' };

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'dist/**', 'coverage/**', '.local/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        AbortController: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['lib/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NO_TOOLS] }] },
  },
  {
    // Functions short enough to read at once. Data tables are module-level constants, not functions, so they need no
    // exception; tests are excluded (a describe block is a list of cases, not a function to read).
    files: ['lib/**/*.ts', 'functions/**/*.ts', 'infra/**/*.ts', 'tools/**/*.ts', 'bin/**/*.ts', 'bench/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80 }] },
  },
  {
    // The pure layers must not talk to AWS: desired state and plans are data.
    files: [
      'lib/model/**/*.ts',
      'lib/dataplane/render/**/*.ts',
      'lib/dataplane/triggers.ts',
      'lib/dataplane/node-status.ts',
      'lib/dataplane/push-plan.ts',
      'lib/nodes/selector.ts',
      'lib/lb/model.ts',
      'lib/lb/build/**/*.ts',
      'lib/lb/plan/**/*.ts',
      'lib/lb/ownership.ts',
      'lib/tags.ts',
      'lib/contracts.ts',
      'lib/lb/subnets.ts',
      'lib/lb/naming.ts',
      'lib/nodes/eligible.ts',
      'lib/events/object-message.ts',
      'lib/store/log.ts',
      'lib/gateway/attach.ts',
      'lib/gateway/build.ts',
      'lib/gateway/status.ts',
      'lib/gateway/names.ts',
      'lib/gateway/selector.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@aws-sdk/*'], message: 'pure layers import no AWS SDK' }, NO_TOOLS] },
      ],
    },
  },
  {
    // The API server's request path: kubectl waits on it and a Lambda cold start imports it. The AWS SDK and
    // @kubernetes/client-node (~0.9 s to import whole) may only be imported for types here; rare paths load what
    // they need with import().
    files: ['lib/apiserver/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@aws-sdk/*', '@smithy/*', '@kubernetes/client-node'],
              allowTypeImports: true,
              message: 'request path: type imports only (load rare paths lazily)',
            },
          ],
        },
      ],
    },
  },
);
