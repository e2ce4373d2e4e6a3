// Integration tier: real Kafka, Temporal dev server and PostgreSQL started by `npm run stack:up`.
module.exports = {
  ...require('./jest.shared'),
  rootDir: '.',
  roots: ['<rootDir>/test/integration'],
  testMatch: ['**/*.int-spec.ts'],
  testTimeout: 120_000,
  globalSetup: '<rootDir>/test/integration/global-setup.ts',
  maxWorkers: 1,
};
