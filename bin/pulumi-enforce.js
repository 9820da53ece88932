#!/usr/bin/env node
"use strict";
const path = require("node:path");
const fs = require("node:fs");

const entry = path.join(__dirname, "..", "dist", "provider", "cli", "main.js");
if (!fs.existsSync(entry)) {
  console.error(
    'pulumi-enforce: the package is not built; run "npm run build" (npm ci does it for you)',
  );
  process.exit(1);
}
require(entry)
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
