"use strict";
const fs = require("node:fs");

module.exports = async function globalTeardown() {
  const env = globalThis.__ENFORCE_ENV__;
  if (!env) return;
  const exited = new Promise((resolve) => {
    if (env.child.exitCode !== null) resolve();
    else env.child.once("exit", resolve);
  });
  env.child.kill("SIGTERM");
  const timer = setTimeout(() => env.child.kill("SIGKILL"), 60000);
  await exited;
  clearTimeout(timer);
  if (!process.env.KEEP_TEST_ENV) fs.rmSync(env.dir, { recursive: true, force: true });
};
