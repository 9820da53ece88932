#!/usr/bin/env node
"use strict";
// `npm test`: lint and format checks, type-check everything, build the package (the bins run
// from dist/), the API reference and the examples, make sure the Go toolchain is built or
// cached, then run every jest project.
// `--tier=unit|integration|e2e` (the `test:<tier>` scripts) runs one jest project, after only
// the steps it needs: the unit tier builds dist/ (a unit test loads the compiled provider) and
// needs neither the Go toolchain nor a local environment.
// Other arguments go to jest (e.g. `npm test -- tests/unit`, `npm run test:unit -- -t diff`).
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

require("./node-version").requireSupportedNode("npm test");

const TIERS = ["unit", "integration", "e2e"];
const tierArg = process.argv.slice(2).find((a) => a.startsWith("--tier="));
const tier = tierArg?.slice("--tier=".length);
if (tierArg && !TIERS.includes(tier)) {
  process.stderr.write(`npm test: --tier must be one of ${TIERS.join(", ")}\n`);
  process.exit(2);
}
const jestArgs = process.argv.slice(2).filter((a) => a !== tierArg);
/** Whether a step runs for this invocation: `tiers` lists the tiers that need it. */
const runs = (...tiers) => tier === undefined || tiers.includes(tier);

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

if (runs()) {
  step("lint", bin("eslint"), ["."]);
  step("format", bin("prettier"), ["--check", "."]);
}
if (runs("integration", "e2e")) step("type-check", bin("tsc"), ["-p", "tsconfig.json", "--noEmit"]);
step("clean dist", process.execPath, [path.join(root, "scripts/clean.js")]);
step("build", bin("tsc"), ["-p", "tsconfig.build.json"]);
if (runs("integration", "e2e")) {
  step("build examples/local", bin("tsc"), ["-p", "examples/local/tsconfig.json"]);
}
if (runs()) {
  // The API reference must build without warnings: every public symbol documented.
  step("docs", bin("typedoc"), ["--emit", "none"]);
  step("examples", process.execPath, [path.join(root, "scripts/examples.js")]);
}
if (runs("integration", "e2e")) {
  step("toolchain", process.execPath, [path.join(root, "local/bin/enforce-local.js"), "build"]);
}

process.stderr.write(`\n== jest${tier ? ` (${tier})` : ""}\n`);
const results = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "jest-results-")), "results.json");
const jest = spawnSync(
  process.execPath,
  [
    "--experimental-vm-modules",
    bin("jest"),
    "--json",
    `--outputFile=${results}`,
    ...jestArgs,
    // Last: --selectProjects takes every value that follows it.
    ...(tier ? ["--selectProjects", tier] : []),
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
