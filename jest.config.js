/** Tests run from TypeScript sources through SWC (types are checked by `npm run build`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // The worker's built-in module, as the local host provides it (local/host/app.ts does the same outside Jest).
  moduleNameMapper: { '^@azure/functions-core$': '<rootDir>/local/host/core/index.ts' },
  testTimeout: 60000,
  maxWorkers: 2,
};
