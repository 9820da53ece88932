#!/usr/bin/env node
"use strict";
// Empties dist/ before a build: tsc never deletes the output of a source that
// was moved or removed, and `npm pack` would ship such a stale file.
const fs = require("node:fs");
const path = require("node:path");

fs.rmSync(path.join(__dirname, "..", "dist"), { recursive: true, force: true });
