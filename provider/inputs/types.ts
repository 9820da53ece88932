/**
 * The value types of `EnforceClusterConnection` inputs and the defaults validation applies; the
 * inputs themselves are described, once each, in `properties.ts`.
 * @module
 */

/**
 * What Pulumi passes for any value not known yet (during preview), whatever the declared type
 * of the property: the same string as `pulumi.runtime.unknownValue`. Kept as a literal so this
 * pure module does not load the Pulumi runtime.
 */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** How the agent proves the cluster's identity to the platform. */
export type Connectivity = "auto" | "public" | "private";
/** Accepted values of {@link Connectivity}. */
export const CONNECTIVITIES: readonly Connectivity[] = ["auto", "public", "private"];
/** How a connected cluster proves its identity to Enforce, once resolved (`auto` decided). */
export type ResolvedConnectivity = Exclude<Connectivity, "auto">;

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
} as const;

/** A `check` failure: the property at fault and a reason that says how to fix it. */
export interface CheckFailure {
  property: string;
  reason: string;
}
