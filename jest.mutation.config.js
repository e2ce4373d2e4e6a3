// The unit tests of libs/ledger only, for StrykerJS (stryker.config.mjs).
module.exports = {
  ...require('./jest.shared'),
  rootDir: '.',
  roots: ['<rootDir>/libs/ledger'],
  testMatch: ['**/*.spec.ts'],
  setupFiles: ['<rootDir>/jest.mutation.setup.js'],
};
