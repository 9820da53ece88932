/**
 * The platform settings the agent is given: where Enforce's API and issuer are, and the CA to
 * trust for them when their certificate is not publicly trusted. They are the provider's own
 * settings (`enforce:apiUrl`, `enforce:issuerUrl`, `enforce:caFile`), installed into ConfigMap
 * `gulfstream/config-platform`, which the agent's containers read (see manifests/agent/README.md).
 * No credential is part of them.
 * @module
 */

import { createHash } from "node:crypto";
import { readCaFile, type PlatformConfig } from "../platform";

/** What the agent needs to reach the platform. */
export interface AgentPlatform {
  apiUrl: string;
  issuerUrl: string;
  /** PEM bundle to trust besides the system roots; absent when `enforce:caFile` is not set. */
  ca?: string;
}

/**
 * The settings as stored in state and compared by `diff`: the CA by its digest, since the file's
 * contents (not its path) are what the agent receives.
 */
export interface PlatformSummary {
  apiUrl: string;
  /** SHA-256 (hex) of the CA bundle; `""` without one. */
  caSha256: string;
  issuerUrl: string;
}

/** ConfigMap keys: what the agent's `configMapKeyRef`s and CA volume name. */
export const PLATFORM_KEYS = { apiUrl: "api-url", issuerUrl: "issuer-url", ca: "ca.crt" } as const;

/** The agent's settings from the provider's resolved configuration (reads `caFile`). */
export function agentPlatformOf(config: PlatformConfig): AgentPlatform {
  const settings: AgentPlatform = { apiUrl: config.apiUrl, issuerUrl: config.issuerUrl };
  if (config.caFile !== undefined) settings.ca = readCaFile(config.caFile);
  return settings;
}

/** The data of ConfigMap `config-platform`. */
export function platformConfigData(settings: AgentPlatform): Record<string, string> {
  const data: Record<string, string> = {
    [PLATFORM_KEYS.apiUrl]: settings.apiUrl,
    [PLATFORM_KEYS.issuerUrl]: settings.issuerUrl,
  };
  if (settings.ca !== undefined) data[PLATFORM_KEYS.ca] = settings.ca;
  return data;
}

/** The state's record of the settings. */
export function summarizePlatform(settings: AgentPlatform): PlatformSummary {
  // Keys sorted: state is deterministic JSON.
  return {
    apiUrl: settings.apiUrl,
    caSha256: settings.ca === undefined ? "" : sha256(settings.ca),
    issuerUrl: settings.issuerUrl,
  };
}

/**
 * A digest of everything the agent receives, put on the pod template so that a change of the
 * settings rolls the agent's pods (environment variables from a ConfigMap are read at start).
 */
export function platformDigest(settings: AgentPlatform): string {
  const s = summarizePlatform(settings);
  return sha256(JSON.stringify([s.apiUrl, s.issuerUrl, s.caSha256]));
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
