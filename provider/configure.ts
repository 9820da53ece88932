/**
 * The provider's `configure`: the platform settings (`enforce:apiUrl`, `enforce:issuerUrl`,
 * `enforce:token`, `enforce:caFile`) arrive here from stack config, once per provider process,
 * and stay in this module's memory. They are never captured by the serialized provider, so
 * nothing secret is written into state as provider code.
 * @module
 */

import type * as pulumi from "@pulumi/pulumi";
import {
  PLATFORM_SETTINGS,
  resolvePlatformConfig,
  type PlatformConfig,
  type StackConfig,
} from "./platform";

/** Stack config values by key, as `configure` received them; empty until then. */
let stackConfig: Readonly<Record<string, string | undefined>> = {};

/**
 * Keeps the platform settings from the stack config. Resolution (URL validation, environment
 * fallbacks) is left to {@link platformConfig}, when an operation needs it: `check` resolves the
 * URLs and the CA file (what the agent will be told), never the token, so a preview runs
 * without platform credentials.
 */
export async function configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
  const kept: Record<string, string | undefined> = {};
  for (const { key } of Object.values(PLATFORM_SETTINGS)) {
    const value = req.config.get(key);
    if (value !== undefined) kept[key] = value;
  }
  stackConfig = Object.freeze(kept);
}

/** The platform settings from the stack config kept by {@link configure}, then the environment. */
export function platformConfig(env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  return resolvePlatformConfig(stackConfig as StackConfig, env);
}
