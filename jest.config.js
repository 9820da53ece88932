/**
 * Tests are transpiled by ts-jest in isolated-modules mode so that `import()`
 * of ESM-only packages (jose, @kubernetes/client-node) stays a real dynamic
 * import; the test scripts run jest with --experimental-vm-modules for that
 * reason, and `npm test` type-checks the whole tree with `tsc --noEmit` first.
 *
 * One jest project per tier (select one with `--selectProjects`):
 * - unit: no environment; it needs neither the Go toolchain nor its cache.
 * - integration and e2e: the shared local environment, started by the global
 *   setup. jest runs a project's global setup only when a test of that project
 *   runs, and the same module once for both.
 * @type {import('jest').Config}
 */
const tier = (name, environment) => ({
  displayName: name,
  testEnvironment: "node",
  roots: [`<rootDir>/tests/${name}`],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": [
      "ts-jest",
      { tsconfig: { module: "node16", moduleResolution: "node16", isolatedModules: true } },
    ],
  },
  ...(environment && {
    globalSetup: "<rootDir>/tests/support/global-setup.js",
    globalTeardown: "<rootDir>/tests/support/global-teardown.js",
  }),
});

module.exports = {
  projects: [tier("unit", false), tier("integration", true), tier("e2e", true)],
  // The suites share one machine of 2 cores and, for integration tiers, one
  // local control plane: run files one at a time.
  maxWorkers: 1,
  // Integration suites talk to real API servers; give them room.
  testTimeout: 120000,
};
