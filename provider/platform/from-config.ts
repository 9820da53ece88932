/**
 * Building a client from resolved settings.
 *
 * @module
 */
import { readCaFile } from "./ca";
import { PlatformClient, type PlatformClientOptions } from "./client";
import type { PlatformConfig } from "./config";

/** Client options that do not come from the platform settings. */
export type PlatformClientExtras = Omit<PlatformClientOptions, "apiUrl" | "token" | "ca">;

/**
 * A {@link PlatformClient} for resolved settings, trusting `caFile` if set.
 * Needs no token; calls that need one fail then (see `resolvePlatformConfig`).
 *
 * @throws `PlatformConfigError` when `caFile` cannot be read.
 */
export function platformClientFromConfig(
  config: PlatformConfig,
  extras: PlatformClientExtras = {},
): PlatformClient {
  return new PlatformClient({
    ...extras,
    apiUrl: config.apiUrl,
    token: config.token,
    ca: config.caFile === undefined ? undefined : readCaFile(config.caFile),
  });
}
