// Mutation testing of the pure domain (npm run test:mutation; docs/reliability.md, "Tests
// that kill mutants"). CPU-heavy: one test process, never part of `npm test`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  jest: { configFile: 'jest.mutation.config.js', enableFindRelatedTests: true },
  mutate: ['libs/ledger/src/**/*.ts', '!libs/ledger/src/**/*.spec.ts'],
  coverageAnalysis: 'perTest',
  // Mutants of module-level constants (the currency table, patterns) would each rerun every test:
  // 94% of the time for 28% of the mutants. Their count is in docs/reliability.md.
  ignoreStatic: true,
  concurrency: 1,
  timeoutMS: 3000,
  reporters: ['clear-text', 'progress-append-only', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 95, low: 90, break: 95 },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  ignorePatterns: [
    'dist',
    'reports',
    '.stack',
    '.stack-faults',
    '.test-results',
    'k8s',
    'bench',
    'test',
  ],
};
