// One jest run covers every package. Sources are TypeScript ESM: @swc/jest strips the
// types (tsc does the type-check in `pnpm typecheck`), node runs them as ES modules.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  // examples/test: the seed documents' examples, run; scripts/test: checks over the whole
  // repository (the API reference); hardening/: hostile-input tests across packages. The packaging
  // check (scripts/check-packages.mjs) rebuilds dist/, so it runs after jest, alone.
  roots: ['<rootDir>/packages', '<rootDir>/interop', '<rootDir>/scripts', '<rootDir>/hardening', '<rootDir>/examples'],
  testMatch: ['**/test/**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
      },
    ],
  },
  globalSetup: '<rootDir>/interop/test/support/build-go-peer.js',
  reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.cjs'],
  testTimeout: 30000,
  // Go peers and registry servers are started per file; two workers match the machine.
  maxWorkers: 2,
};
