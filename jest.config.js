/**
 * One jest run over unit tests (next to the code), integration tests (real redis-server and
 * a real S3 server on loopback) and end-to-end tests (the built apps as processes).
 * Workspace packages resolve to their TypeScript sources so unit tests need no build;
 * the end-to-end tests spawn the built CLI, which `npm test` builds first.
 */
/** @type {import('jest').Config} */
module.exports = {
  // shares the host's typed-array constructors with each test context, so onnxruntime-node's
  // native outputs pass its instanceof checks (see the file)
  testEnvironment: '<rootDir>/test/support/onnxruntime-environment.js',
  roots: ['<rootDir>/packages', '<rootDir>/apps', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
    '/node_modules/quick-lru/.+\\.js$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  // geotiff.js's CommonJS build requires quick-lru, which ships only as ESM: let swc turn
  // that one dependency into CommonJS (plain Node >= 20.19 loads it with require natively).
  transformIgnorePatterns: ['/node_modules/(?!quick-lru/)'],
  moduleNameMapper: {
    // a package's narrow entry (an `exports` subpath such as @fleet/jobs/status-view) is src/<name>.ts
    '^@fleet/([^/]+)/([^/]+)$': ['<rootDir>/packages/$1/src/$2.ts', '<rootDir>/apps/$1/src/$2.ts'],
    '^@fleet/([^/]+)$': ['<rootDir>/packages/$1/src/index.ts', '<rootDir>/apps/$1/src/index.ts'],
  },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};
