/**
 * The one provider object behind every `EnforceClusterConnection`. Pulumi serializes a dynamic
 * resource's provider, with everything its methods capture, into state (`__provider`) and runs that
 * text in its own provider process. So this object is a thin shim: each method loads the real
 * implementation (`./impl`) at run time and forwards the call. The serialized text stays under
 * 3 KB, captures two path strings and no credential, and a newer installed version of the package
 * fixes the behaviour of resources whose state holds an older shim.
 * @module
 */

import type * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { PACKAGE_ROOT } from "./util/package-root";

type Provider = pulumi.dynamic.ResourceProvider;

/**
 * What `./impl` exports as `implementation`, and every shim already stored in some stack's state
 * calls: the methods of a dynamic provider, with their full arguments.
 */
export type ProviderImplementation = Required<
  Pick<Provider, "configure" | "check" | "diff" | "create" | "read" | "update" | "delete">
>;

/**
 * How a user's installation resolves the implementation: the provider process runs with the
 * Pulumi program's directory as its working directory, and the serialized code resolves
 * `require` from there. The package's `exports` map (package.json) exports this subpath: every
 * shim already in some stack's state asks for it, so it stays exported.
 */
const IMPL_PACKAGE_PATH = "pulumi-enforce/dist/provider/impl.js";

/**
 * The compiled implementation in this package, as an absolute path captured at serialization
 * time: how programs that do not install the package by name (this repository's own tests)
 * resolve it. Run from the TypeScript sources (ts-jest) too, it is the one under `dist/`.
 */
const IMPL_FILE = path.join(PACKAGE_ROOT, "dist", "provider", "impl.js");

// Runs inside the provider process: only `require`, `process` and the two strings above may be
// used here, everything else would be serialized along with it. A file that resolves is loaded
// outside the loop's try, so errors while loading it surface as they are. (Comments inside
// serialized functions are stored in state too: keep them out.)
function loadImplementation(): ProviderImplementation {
  for (const id of [IMPL_PACKAGE_PATH, IMPL_FILE]) {
    let file: string;
    try {
      file = require.resolve(id);
    } catch {
      continue;
    }
    return (require(file) as { implementation: ProviderImplementation }).implementation;
  }
  throw new Error(
    `pulumi-enforce: cannot load its provider: neither ${IMPL_PACKAGE_PATH} (from ${process.cwd()}) nor ${IMPL_FILE} exists. ` +
      "Install pulumi-enforce in the Pulumi project: npm install pulumi-enforce.",
  );
}

/**
 * The provider shared by all `EnforceClusterConnection` resources. One object, so Pulumi
 * serializes it once per program (the SDK caches serialized providers per object). Every method
 * forwards all its arguments, even those today's implementation ignores: `delete` and `read` run
 * the shim stored in state, which must keep working with later implementations.
 */
export const enforceProvider: Provider = {
  async configure(req) {
    return loadImplementation().configure(req);
  },
  async check(olds, news) {
    return loadImplementation().check(olds, news);
  },
  async diff(id, olds, news) {
    return loadImplementation().diff(id, olds, news);
  },
  async create(inputs) {
    return loadImplementation().create(inputs);
  },
  async read(id, props) {
    return loadImplementation().read(id, props);
  },
  async update(id, olds, news) {
    return loadImplementation().update(id, olds, news);
  },
  async delete(id, props) {
    return loadImplementation().delete(id, props);
  },
};
