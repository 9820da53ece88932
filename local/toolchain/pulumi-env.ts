/**
 * The environment the toolchain's Pulumi CLI runs with, for the demo and the tests alike: a
 * file backend, its own PULUMI_HOME, a passphrase, and no update check or plugin download.
 * @module
 */
import * as path from "node:path";

/** Options of {@link pulumiCliEnv}. */
export interface PulumiCliEnvOptions {
  /** Directory of the `file://` backend's state. */
  backendDir: string;
  /** PULUMI_HOME: the CLI's plugin cache and workspace settings. */
  home: string;
  /** Encrypts the secrets in the state (a local, throw-away credential). */
  passphrase: string;
  /** Directories put in front of PATH: the CLI's own, where its bundled plugins sit. */
  path: string[];
}

/** Environment variables for the Pulumi CLI (and the automation API that runs it). */
export function pulumiCliEnv(
  opts: PulumiCliEnvOptions,
): Record<string, string> & { PULUMI_HOME: string } {
  return {
    PULUMI_BACKEND_URL: `file://${opts.backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: opts.passphrase,
    PULUMI_HOME: opts.home,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PATH: [...opts.path, process.env.PATH ?? ""].join(path.delimiter),
  };
}
