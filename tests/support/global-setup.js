"use strict";
// Starts one local environment (two clusters, and the Enforce emulator) for
// every integration and end-to-end suite of the run, and stops it afterwards.
// Suites that need a cluster set up differently start their own.
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

module.exports = async function globalSetup() {
  if (process.env.ENFORCE_TEST_ENV_DIR) return; // given from outside: reuse it
  if (process.env.ENFORCE_TEST_NO_ENV) return; // unit tests only
  // The build `npm test` makes first, as the enforce-local bin uses it.
  const launch = path.join(__dirname, "../../dist/local/control-plane/launch.js");
  if (!fs.existsSync(launch))
    throw new Error('the repository is not built: run the tests with "npm test", which builds it');
  const { launchEnvironment } = require(launch);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enforce-test-env-"));
  const env = await launchEnvironment({
    dir,
    args: ["--clusters", "2"],
    timeoutMs: 30 * 60 * 1000, // includes a first toolchain build
  });
  globalThis.__ENFORCE_ENV__ = { child: env.child, dir };
  process.env.ENFORCE_TEST_ENV_DIR = dir;
};
