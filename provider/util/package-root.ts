/**
 * Where the installed package is, for the files it ships beside its code (`manifests/`) and its
 * compiled implementation (`dist/`).
 * @module
 */

import * as path from "node:path";

/**
 * The package's root directory: the one holding its `package.json`, `manifests/` and `dist/`.
 * This module runs from the TypeScript sources (`provider/util/`, under ts-jest) or compiled
 * (`dist/provider/util/`), one level deeper.
 */
export const PACKAGE_ROOT = path.join(
  __dirname,
  ...(__filename.endsWith(".ts") ? ["..", ".."] : ["..", "..", ".."]),
);
