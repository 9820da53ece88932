"use strict";
// Starts one local environment (two clusters, and the Enforce emulator) for
// every integration and end-to-end suite of the run, and stops it afterwards.
// Suites that need a cluster set up differently start their own.
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

module.exports = async function globalSetup() {
  if (process.env.ENFORCE_TEST_ENV_DIR) return; // given from outside: reuse it
  if (process.env.ENFORCE_TEST_NO_ENV) return; // unit tests only
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enforce-test-env-"));
  const log = path.join(dir, "up.log");
  const out = fs.openSync(log, "a");
  const child = spawn(
    process.execPath,
    [
      path.join(__dirname, "../../local/bin/enforce-local.js"),
      "up",
      "--dir",
      dir,
      "--clusters",
      "2",
    ],
    {
      stdio: ["ignore", out, out],
    },
  );
  fs.closeSync(out);
  globalThis.__ENFORCE_ENV__ = { child, dir };
  const ready = path.join(dir, "ready.json");
  const deadline = Date.now() + 30 * 60 * 1000; // includes a first toolchain build
  while (!fs.existsSync(ready)) {
    if (child.exitCode !== null) {
      throw new Error(
        `enforce-local up exited with ${child.exitCode}:\n${fs.readFileSync(log, "utf8").slice(-3000)}`,
      );
    }
    if (Date.now() > deadline)
      throw new Error(`enforce-local up was not ready in time; see ${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  process.env.ENFORCE_TEST_ENV_DIR = dir;
};
