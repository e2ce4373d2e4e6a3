// Workflow tier: the production workflows on a Temporal dev server started from the stack's
// cached CLI binary, with stubbed activities; no Kafka, no PostgreSQL. Seconds per file.
module.exports = {
  ...require('./jest.shared'),
  rootDir: '.',
  roots: ['<rootDir>/test/workflows'],
  testMatch: ['**/*.workflow-spec.ts'],
  testTimeout: 60_000,
  globalSetup: '<rootDir>/test/workflows/global-setup.ts',
  globalTeardown: '<rootDir>/test/workflows/global-teardown.ts',
  maxWorkers: 1,
};
