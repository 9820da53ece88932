/**
 * The provider's `configure`: the platform settings (`enforce:apiUrl`, `enforce:issuerUrl`,
 * `enforce:token`, `enforce:caFile`) arrive from stack config, once per provider process.
 * {@link configure} turns them into a {@link ProviderConfig} value, which the implementation
 * (`./impl`) keeps and passes to the lifecycle context of each operation. The value is never
 * captured by the serialized provider, so nothing secret is written into state as provider code.
 * @module
 */

import type * as pulumi from "@pulumi/pulumi";
import {
  PLATFORM_SETTINGS,
  resolvePlatformConfig,
  type PlatformConfig,
  type StackConfig,
} from "./platform";

/** What the provider was configured with. */
export interface ProviderConfig {
  /**
   * The platform settings: the stack config's, then the environment's. Resolved (URL
   * validation, environment fallbacks) only when an operation needs them: `check` resolves the
   * URLs and the CA file (what the agent will be told), never the token, so a preview runs
   * without platform credentials.
   */
  platformConfig(env?: NodeJS.ProcessEnv): PlatformConfig;
}

/** The configuration before `configure` ran: the environment's settings alone. */
export const UNCONFIGURED: ProviderConfig = configOf({});

/**
 * The configuration from a `configure` request: the `enforce:*` stack config values, kept as
 * given. Never throws; a bad setting fails the operation that uses it.
 */
export function configure(req: pulumi.dynamic.ConfigureRequest): ProviderConfig {
  const kept: Record<string, string | undefined> = {};
  for (const { key } of Object.values(PLATFORM_SETTINGS)) {
    const value = req.config.get(key);
    if (value !== undefined) kept[key] = value;
  }
  return configOf(Object.freeze(kept));
}

function configOf(stackConfig: StackConfig): ProviderConfig {
  return { platformConfig: (env = process.env) => resolvePlatformConfig(stackConfig, env) };
}
