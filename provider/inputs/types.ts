/**
 * The shapes of `EnforceClusterConnection` inputs before and after validation, and the defaults
 * that turn one into the other.
 * @module
 */

import type { AgentImageName } from "./agent-images";

/**
 * What Pulumi passes for any value not known yet (during preview), whatever the declared type
 * of the property: the same string as `pulumi.runtime.unknownValue`. Kept as a literal so this
 * pure module does not load the Pulumi runtime.
 */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The type of {@link UNKNOWN_VALUE}. */
export type UnknownValue = typeof UNKNOWN_VALUE;

/** How the agent proves the cluster's identity to the platform. */
export type Connectivity = "auto" | "public" | "private";
/** Accepted values of {@link Connectivity}. */
export const CONNECTIVITIES: readonly Connectivity[] = ["auto", "public", "private"];

/** The CLI's profiles; `enforcer` includes everything `observer` does. */
export type Profile = "enforcer" | "observer";
/** Accepted values of {@link Profile}. */
export const PROFILES: readonly Profile[] = ["enforcer", "observer"];

/** Which namespaces the admission webhook covers: labelled-in ones, or all but labelled-out. */
export type NamespaceEnforcementMode = "opt-in" | "opt-out";
/** Accepted values of {@link NamespaceEnforcementMode}. */
export const NAMESPACE_ENFORCEMENT_MODES: readonly NamespaceEnforcementMode[] = [
  "opt-in",
  "opt-out",
];

/** Enforcer options with every field present (the CLI's `--opt` settings). */
export interface EnforcerOptions {
  /** The CLI's `enable_cip_cache` option (ClusterImagePolicy results cache). */
  enableCipCache: boolean;
  /** The CLI's `namespace_enforcement_mode` option. */
  namespaceEnforcementMode: NamespaceEnforcementMode;
  /** Admit pods when the webhook cannot answer (`failurePolicy: Ignore` instead of `Fail`). */
  webhookFailOpen: boolean;
}

/**
 * Inputs exactly as the engine hands them to `check`: any property may hold any type, or
 * {@link UNKNOWN_VALUE}; properties not listed here may appear too (and are rejected), besides
 * the engine's own `__provider`.
 */
export interface ConnectionInputs {
  kubeconfig?: unknown;
  context?: unknown;
  group?: unknown;
  clusterName?: unknown;
  description?: unknown;
  connectivity?: unknown;
  exposeIssuerDiscovery?: unknown;
  renewAfter?: unknown;
  profiles?: unknown;
  enforcerOptions?: unknown;
  agentImages?: unknown;
  registrationTimeout?: unknown;
  [property: string]: unknown;
}

/** The properties a user may set, sorted. */
export const INPUT_PROPERTIES = [
  "agentImages",
  "clusterName",
  "connectivity",
  "context",
  "description",
  "enforcerOptions",
  "exposeIssuerDiscovery",
  "group",
  "kubeconfig",
  "profiles",
  "registrationTimeout",
  "renewAfter",
] as const;

/** A property a user may set. */
export type InputProperty = (typeof INPUT_PROPERTIES)[number];

/**
 * Inputs after validation, with every default applied and every value in one canonical form,
 * so that equal intent always serialises to identical JSON: keys sorted, `profiles` sorted and
 * reduced (`enforcer` already implies `observer`), durations re-spelled by `formatDuration`
 * (`"24h"` is stored as `"1d"`). Plain JSON: optional properties without a default are left out
 * rather than set to `undefined`.
 */
export interface NormalizedInputs {
  /** Image overrides by agent image name; `{}` when none. */
  agentImages: Partial<Record<AgentImageName, string>>;
  /** Display name in Enforce; defaults to the Pulumi resource name. */
  clusterName: string;
  connectivity: Connectivity;
  /** Kubeconfig context; absent means the kubeconfig's `current-context`. */
  context?: string;
  description?: string;
  enforcerOptions: EnforcerOptions;
  exposeIssuerDiscovery: boolean;
  /** Parent group UIDP. */
  group: string;
  /** Kubeconfig contents or path, exactly as given (the SDK marks it secret). */
  kubeconfig: string;
  /** Non-empty, sorted, minimal: `["enforcer"]` or `["observer"]`. */
  profiles: Profile[];
  registrationTimeout: string;
  registrationTimeoutSeconds: number;
  /** Used only by private connections; kept for the others so switching does not diff it. */
  renewAfter: string;
  renewAfterSeconds: number;
}

/** Defaults applied by validation (besides `clusterName`, which defaults to the resource name). */
export const DEFAULTS = {
  agentImages: {},
  connectivity: "auto",
  enforcerOptions: {
    enableCipCache: false,
    namespaceEnforcementMode: "opt-in",
    webhookFailOpen: false,
  },
  exposeIssuerDiscovery: false,
  profiles: ["enforcer"],
  registrationTimeout: "5m",
  renewAfter: "25d",
} as const satisfies Partial<Record<InputProperty, unknown>>;

/** A `check` failure: the property at fault and a reason that says how to fix it. */
export interface CheckFailure {
  property: string;
  reason: string;
}
