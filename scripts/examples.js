#!/usr/bin/env node
"use strict";
// Type-checks the example stacks (examples/eks, examples/gke), which need a
// cloud account to run and are never run here. Each example depends on this
// package through `file:../..`, a symlink to the repository, so its types are
// the ones the build step just wrote to dist/.
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.join(__dirname, "..");
const EXAMPLES = ["eks", "gke"];

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function fail(name, message) {
  process.stderr.write(`\nexamples/${name}: ${message}\n`);
  process.exit(1);
}

/** Runs one command in the example's folder; returns how long it took. */
function run(name, what, dir, cmd, args) {
  const started = Date.now();
  const res = spawnSync(cmd, args, { cwd: dir, stdio: "inherit" });
  if (res.error) fail(name, `${what} could not start: ${res.error.message}`);
  if (res.status !== 0) fail(name, `${what} failed (exit ${res.status ?? res.signal}), see above`);
  return `${Math.round((Date.now() - started) / 1000)}s`;
}

const types = path.join(root, "dist", "sdk", "index.d.ts");
if (!fs.existsSync(types)) {
  process.stderr.write(`\nexamples: ${types} is missing; build the package first\n`);
  process.exit(1);
}

for (const name of EXAMPLES) {
  const dir = path.join(root, "examples", name);
  const lock = path.join(dir, "package-lock.json");
  // npm writes node_modules/.package-lock.json last, so it is missing after an interrupted install.
  const installed = mtime(path.join(dir, "node_modules", ".package-lock.json"));
  let install = "node_modules up to date";
  if (installed === undefined || installed < (mtime(lock) ?? Infinity)) {
    // --ignore-scripts: the linked package's `prepare` would rebuild dist/ in this repository,
    // and @pulumi/kubernetes's install script would try to download its provider plugin;
    // type-checking needs neither.
    process.stderr.write(
      `examples/${name}: npm ci (node_modules missing or older than the lockfile)\n`,
    );
    const args = ["ci", "--ignore-scripts", "--no-audit", "--no-fund"];
    install = `npm ci ${run(name, "npm ci", dir, "npm", args)}`;
  }

  let linked;
  try {
    linked = fs.realpathSync(path.join(dir, "node_modules", "pulumi-enforce"));
  } catch {
    linked = "nothing";
  }
  if (linked !== fs.realpathSync(root)) {
    const fix = `remove examples/${name}/node_modules and run again`;
    fail(name, `node_modules/pulumi-enforce resolves to ${linked}, not to ${root}; ${fix}`);
  }

  const tsc = path.join(dir, "node_modules", ".bin", "tsc");
  const checked = run(name, "type-check", dir, tsc, ["--noEmit", "-p", dir]);
  process.stderr.write(`examples/${name}: ${install}, type-check ${checked}\n`);
}
