#!/usr/bin/env node
"use strict";
const path = require("node:path");
const fs = require("node:fs");

require("../../scripts/node-version").requireSupportedNode("enforce-local");

// The repository's one build compiles local/ into the root's dist/.
const entry = path.join(__dirname, "..", "..", "dist", "local", "cli.js");
if (!fs.existsSync(entry)) {
  console.error(
    'enforce-local: the repository is not built; run "npm run build" at its root (npm ci does it for you)',
  );
  process.exit(1);
}
require(entry)
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
