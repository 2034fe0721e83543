// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
    // The pure layers must not talk to AWS: desired state and plans are data.
    files: [
      'lib/model/**/*.ts',
      'lib/dataplane/render/**/*.ts',
      'lib/dataplane/coalesce.ts',
      'lib/lb/model.ts',
      'lib/lb/builder.ts',
      'lib/lb/planner.ts',
      'lib/lb/subnets.ts',
      'lib/lb/naming.ts',
      'lib/lb/tags.ts',
      'lib/nodes/eligible.ts',
      'lib/controller/staleness.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@aws-sdk/*'], message: 'pure layers import no AWS SDK' }] },
      ],
    },
  },
);
