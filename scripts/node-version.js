"use strict";
// The repository runs on the Node.js lines the package supports (engines.node): on an older one
// its native dependency (better-sqlite3 13, the emulator's) crashes instead of failing clearly.
const SUPPORTED_MAJOR = 22;

/** Exits with a message naming the fix when this Node.js is older than the supported lines. */
function requireSupportedNode(what) {
  const major = Number(process.versions.node.split(".")[0]);
  if (major >= SUPPORTED_MAJOR) return;
  process.stderr.write(
    `${what}: Node.js ${process.version} is not supported; use Node.js 22 or 24 ` +
      "(for example the pinned one CI uses: PATH=$(.ci/node.sh 24.19.0)/path:$PATH, then npm ci).\n",
  );
  process.exit(1);
}

module.exports = { requireSupportedNode };
