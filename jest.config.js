/**
 * Tests are transpiled by ts-jest in isolated-modules mode so that `import()`
 * of ESM-only packages (jose, @kubernetes/client-node) stays a real dynamic
 * import; `npm test` runs with --experimental-vm-modules for that reason and
 * type-checks the whole tree with `tsc --noEmit` before jest starts.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": [
      "ts-jest",
      { tsconfig: { module: "node16", moduleResolution: "node16", isolatedModules: true } },
    ],
  },
  // The suites share one machine of 2 cores and, for integration tiers, one
  // local control plane: run files one at a time.
  maxWorkers: 1,
  globalSetup: "<rootDir>/tests/support/global-setup.js",
  globalTeardown: "<rootDir>/tests/support/global-teardown.js",
  // Integration suites talk to real API servers; give them room.
  testTimeout: 120000,
};
