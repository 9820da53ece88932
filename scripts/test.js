#!/usr/bin/env node
"use strict";
// `npm test`: type-check everything, build the package (the bins run from
// dist/), make sure the Go toolchain is built or cached, then run jest.
// Extra arguments go to jest (e.g. `npm test -- tests/unit`).
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

require("./node-version").requireSupportedNode("npm test");

const root = path.join(__dirname, "..");
const bin = (name) => path.join(root, "node_modules", ".bin", name);

function step(title, cmd, args, env) {
  process.stderr.write(`\n== ${title}\n`);
  const started = Date.now();
  const res = spawnSync(cmd, args, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, ...env },
  });
  if (res.status !== 0) {
    process.stderr.write(`\n${title} failed (exit ${res.status ?? res.signal})\n`);
    process.exit(res.status || 1);
  }
  process.stderr.write(`== ${title}: done in ${Math.round((Date.now() - started) / 1000)}s\n`);
}

step("type-check", bin("tsc"), ["-p", "tsconfig.json", "--noEmit"]);
step("clean dist", process.execPath, [path.join(root, "scripts/clean.js")]);
step("build", bin("tsc"), ["-p", "tsconfig.build.json"]);
step("build examples/local", bin("tsc"), ["-p", "examples/local/tsconfig.json"]);
// The API reference must build without warnings: every public symbol documented.
step("docs", bin("typedoc"), ["--emit", "none"]);
step("examples", process.execPath, [path.join(root, "scripts/examples.js")]);
step("toolchain", process.execPath, [path.join(root, "local/bin/enforce-local.js"), "build"]);

process.stderr.write("\n== jest\n");
const results = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "jest-results-")), "results.json");
const jest = spawnSync(
  process.execPath,
  [
    "--experimental-vm-modules",
    bin("jest"),
    "--json",
    `--outputFile=${results}`,
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: "inherit", env: { ...process.env, NODE_NO_WARNINGS: "1" } },
);
// One plain closing line that any CI reader understands.
try {
  const r = JSON.parse(fs.readFileSync(results, "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  process.stdout.write(
    `\njest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped\n`,
  );
} catch {
  process.stdout.write("\njest: no results were written\n");
}
process.exit(jest.status ?? 1);
