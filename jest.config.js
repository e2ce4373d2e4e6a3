// Unit tier: co-located *.spec.ts, pure logic, no infrastructure, milliseconds each.
module.exports = {
  ...require('./jest.shared'),
  rootDir: '.',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test/static'],
  testMatch: ['**/*.spec.ts'],
};
