// Fault tier (npm run test:faults, scripts/test-faults.sh): kill -9 of each part under load on
// a stack instance of its own. Not part of `npm test`; .ci/run runs it after.
module.exports = {
  ...require('./jest.shared'),
  rootDir: '.',
  roots: ['<rootDir>/test/faults'],
  testMatch: ['**/*.fault-spec.ts'],
  testTimeout: 900_000,
  maxWorkers: 1,
};
