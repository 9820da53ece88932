/**
 * Loads @kubernetes/client-node's `KubeConfig` class, the part of that library the provider uses
 * (kubeconfig parsing and every kind of credential: exec plugins, tokens, client certificates),
 * without its generated API.
 *
 * The package has one entry point, and its `config.js` imports the generated API's index
 * (`./gen/index.js`: every API group and model, about 2,800 modules) for two names that only
 * `makeApiClient` uses. Loading all of it costs a provider process about 50 MiB of resident
 * memory and 0.2 s per fresh process. So `config.js` is imported as a module of its own (its URL
 * with {@link NARROW_QUERY}), and while it loads, a resolve hook (`module.registerHooks`) gives
 * that one import a module holding just those two names, from the generated files that define
 * them. The hook is removed as soon as the import settles. Everything else, `config.js`'s
 * credential plugins included, is the library's own code; the version is pinned in package.json,
 * and tests/unit/kubeconfig-loader.test.ts fails if its layout stops matching.
 *
 * Where `module.registerHooks` does not exist (Node.js before 22.15) or the narrow import fails,
 * the whole package is imported, as before.
 * @module
 */

import * as nodeModule from "node:module";
import { pathToFileURL } from "node:url";
import type { KubeConfig } from "@kubernetes/client-node" with { "resolution-mode": "import" };

/** The `KubeConfig` class of @kubernetes/client-node. */
export type KubeConfigClass = typeof KubeConfig;

/** The module that defines `KubeConfig`, within the package. */
const CONFIG_MODULE = "@kubernetes/client-node/dist/config.js";

/**
 * Marks the narrow instance of `config.js`: only its import of the generated index is redirected,
 * and a module of the same file loaded without the mark (the whole package) is a different one.
 */
const NARROW_QUERY = "?without-generated-api";

/** What `config.js` takes from `./gen/index.js`, and the generated file that defines each. */
const GENERATED_NAMES: Record<string, string> = {
  createConfiguration: "./gen/configuration.js",
  ServerConfiguration: "./gen/servers.js",
};

/** The part of `module.registerHooks` used here (Node.js 22.15 and later; not in @types/node 20). */
type ResolveHook = (
  specifier: string,
  context: { parentURL?: string },
  nextResolve: (specifier: string, context: { parentURL?: string }) => { url: string },
) => { url: string; shortCircuit?: boolean };
type RegisterHooks = (hooks: { resolve: ResolveHook }) => { deregister(): void };

let loading: Promise<KubeConfigClass> | undefined;

/** The `KubeConfig` class, loaded once per process (see the module's description). */
export function loadKubeConfigClass(): Promise<KubeConfigClass> {
  loading ??= importNarrow().catch(importWhole);
  return loading;
}

/** The whole package's `KubeConfig`. */
async function importWhole(): Promise<KubeConfigClass> {
  return (await import("@kubernetes/client-node")).KubeConfig;
}

/** `config.js` alone, with the generated index replaced by the two names it uses. */
async function importNarrow(): Promise<KubeConfigClass> {
  const registerHooks = (nodeModule as { registerHooks?: RegisterHooks }).registerHooks;
  if (typeof registerHooks !== "function") return importWhole();
  const url = pathToFileURL(require.resolve(CONFIG_MODULE)).href + NARROW_QUERY;
  const hooks = registerHooks({ resolve: redirectGeneratedIndex(url) });
  try {
    const config = (await import(url)) as { KubeConfig?: KubeConfigClass };
    if (typeof config.KubeConfig !== "function") throw new Error(`${CONFIG_MODULE}: no KubeConfig`);
    return config.KubeConfig;
  } finally {
    hooks.deregister();
  }
}

/** The resolve hook: `./gen/index.js` imported by the narrow `config.js` becomes {@link generatedSubset}. */
function redirectGeneratedIndex(narrowConfigUrl: string): ResolveHook {
  return (specifier, context, nextResolve) => {
    if (specifier !== "./gen/index.js" || context.parentURL !== narrowConfigUrl)
      return nextResolve(specifier, context);
    return { url: generatedSubset(narrowConfigUrl), shortCircuit: true };
  };
}

/** A `data:` module re-exporting {@link GENERATED_NAMES} from their files (absolute URLs). */
function generatedSubset(configUrl: string): string {
  const lines = Object.entries(GENERATED_NAMES).map(
    ([name, file]) => `export { ${name} } from ${JSON.stringify(new URL(file, configUrl).href)};`,
  );
  return `data:text/javascript,${encodeURIComponent(lines.join("\n"))}`;
}
