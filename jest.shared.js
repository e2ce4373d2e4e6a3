// Shared by the unit and integration jest configs: SWC transform (fast, keeps Nest's
// decorator metadata) and the @settlement/* path aliases from tsconfig.json.
const libs = [
  'contracts',
  'ledger',
  'db',
  'workflows',
  'activities',
  'kafka',
  'observability',
  'temporal',
  'platform',
  'config',
  'records',
  'loadgen',
];

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          target: 'es2022',
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: Object.fromEntries(
    libs.map((lib) => [`^@settlement/${lib}$`, `<rootDir>/libs/${lib}/src`]),
  ),
};
