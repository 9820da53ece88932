/**
 * The implementation behind the provider shim of `./dynamic`: what the shim stored in state loads
 * at run time, from this package's installed version. Its export is a contract with every shim
 * already in some stack's state ({@link ProviderImplementation}): keep it stable.
 * @module
 */

import { checkConnection } from "./check";
import { configure } from "./configure";
import type { ProviderImplementation } from "./dynamic";
import { NotImplementedError } from "./errors";

/** The provider's operations; the shim forwards each call here. */
export const implementation: ProviderImplementation = {
  configure,
  check: (olds, news) => checkConnection(olds ?? {}, news),
  // The lifecycle lands in the next issue; until then any attempt says so plainly.
  create: async () => {
    throw new NotImplementedError("create");
  },
  update: async () => {
    throw new NotImplementedError("update");
  },
  delete: async () => {
    throw new NotImplementedError("delete");
  },
};
