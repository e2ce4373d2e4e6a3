import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const loadgenIsALib = {
  group: ['**/apps/loadgen/**'],
  message: 'The load generator is a lib: import @settlement/loadgen.',
};

const noApps = { group: ['**/apps/**'], message: 'libs never import apps.' };
const sqlInDb = {
  // Its error class only: a test of how failed queries are logged.
  regex: '^(postgres|drizzle-orm(?!/errors$)(/.*)?)$',
  message: 'SQL lives in libs/db: call one of its repositories (its types come from there too).',
};

/**
 * The libs a lib may import, as docs/architecture.md's "Folders" table lists them: any other
 * @settlement lib is refused (production code; specs may reach further). `asTypes` are
 * allowed as `import type` only.
 */
const libLayer = (folder, allowed, asTypes = []) => ({
  files: [`libs/${folder}/**/*.ts`],
  ignores: ['**/*.spec.ts'],
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: [
          noApps,
          sqlInDb,
          {
            group: ['@settlement/*', ...[...allowed, ...asTypes].map((l) => `!@settlement/${l}`)],
            message: `libs/${folder} may import only ${allowed.join(', ') || 'no lib'}${
              asTypes.length ? ` (and ${asTypes.join(', ')} as types)` : ''
            }: docs/architecture.md, "Folders".`,
          },
          ...(asTypes.length
            ? [
                {
                  group: asTypes.map((l) => `@settlement/${l}`),
                  allowTypeImports: true,
                  message: `libs/${folder} sees ${asTypes.join(', ')} only as types (import type).`,
                },
              ]
            : []),
        ],
      },
    ],
  },
});

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'libs/db/migrations/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  // The dependency rules of docs/architecture.md ("Folders"), enforced per folder.
  {
    files: ['libs/ledger/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@settlement/*', '@nestjs/*', '@temporalio/*', 'kafkajs', 'drizzle-orm*'],
              message: 'libs/ledger is the pure domain: it depends on no framework and no lib.',
            },
            { group: ['**/apps/**'], message: 'libs never import apps.' },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/contracts/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@settlement/*',
                '@nestjs/*',
                '@temporalio/*',
                '!@temporalio/common',
                'node:*',
                'kafkajs',
                'drizzle-orm*',
                'postgres',
                '../*',
              ],
              message:
                'libs/contracts imports nothing but @temporalio/common: workflow code imports it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/workflows/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@settlement/*'],
              message: 'Workflows use relative imports: aliases do not resolve in the bundle.',
            },
            {
              group: [
                'node:*',
                'kafkajs',
                'drizzle-orm*',
                'postgres',
                '@nestjs/*',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
              ],
              message: 'Workflow code is deterministic: only @temporalio/workflow and contracts.',
            },
            {
              group: ['**/activities/**', '**/db/**', '**/kafka/**'],
              allowTypeImports: true,
              message: 'Workflows see activities only as types (import type).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/db/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/apps/**'], message: 'libs never import apps.' }] },
      ],
    },
  },
  {
    // Activities, the load generator and the other libs hold no queries either.
    files: ['libs/**/*.ts'],
    ignores: ['libs/db/**', 'libs/ledger/**', 'libs/contracts/**', 'libs/workflows/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [noApps, sqlInDb],
        },
      ],
    },
  },
  // Which lib may import which (after the rule above: these replace it for their folders).
  libLayer('config', []),
  libLayer('observability', []),
  libLayer('kafka', ['config', 'observability']),
  libLayer('records', ['contracts', 'db', 'ledger', 'kafka']),
  libLayer('activities', ['contracts', 'db', 'ledger', 'records', 'kafka', 'observability']),
  libLayer('temporal', ['config', 'contracts', 'observability'], ['workflows', 'activities']),
  libLayer('loadgen', ['db']),
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [loadgenIsALib] }] },
  },
  {
    // Apps hold no queries: SQL lives in libs/db repositories, which the use cases call.
    files: ['apps/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            loadgenIsALib,
            {
              group: ['drizzle-orm', 'drizzle-orm/*', 'postgres'],
              message:
                'Apps build no queries: call a repository of @settlement/db (its types come from there too).',
            },
          ],
        },
      ],
    },
  },
  {
    // CLIs and scripts talk to a terminal on purpose.
    files: ['apps/loadgen/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
