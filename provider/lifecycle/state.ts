/**
 * What a connection stores in state (its outputs): the checked inputs it was applied with, what
 * it observed and created, and what `delete` needs to undo it. Plain JSON, keys sorted, so state
 * never changes by accident; `diff` compares new inputs against exactly this.
 * @module
 */

import type { Connectivity, NormalizedInputs } from "../inputs";
import type { PlatformSummary } from "../install/platform-settings";

/** The outputs of an `EnforceClusterConnection`, as stored in state. */
export interface ConnectionState extends Omit<NormalizedInputs, "connectivity"> {
  /** This connection's id: the resource id and the ownership label on everything it installs. */
  connectionId: string;
  /** The `connectivity` input as given (`"auto"` included); `connectivity` holds the resolved one. */
  requestedConnectivity: Connectivity;
  /** Resolved connectivity. */
  connectivity: "public" | "private";
  /** The service account issuer. */
  issuer: string;
  /** Key ids the issuer's JWKS published when the connection was last applied, sorted. */
  signingKeyIds: string[];
  /**
   * Key ids of the JWKS uploaded with the identity (private connections; `[]` otherwise). Not
   * refreshed: a JWKS that no longer matches it is what makes `diff` replace on `signingKeyIds`.
   */
  uploadedKeyIds: string[];
  /** UID of the `kube-system` Namespace: which cluster this is. */
  clusterUid: string;
  /** UID of the `gulfstream` Namespace (the platform's `remoteId`); `""` before it exists. */
  remoteId: string;
  /** The cluster's id in Enforce; `""` until the agent registered. */
  clusterId: string;
  /** When the agent registered (RFC 3339); `""` until then. */
  registeredAt: string;
  /** The static-key identity the agent uses (private connections); `""` otherwise. */
  identityId: string;
  /** When that identity was created (RFC 3339); `""` without one. */
  identityCreatedAt: string;
  /** When the platform stops accepting that identity (RFC 3339); `""` without one. */
  identityExpiresAt: string;
  /** When a private connection is renewed (RFC 3339); `""` for public ones. */
  renewAt: string;
  /** The invite created for registration, until it is deleted; `""` afterwards. */
  inviteId: string;
  /** The platform settings installed for the agent (ConfigMap `gulfstream/config-platform`). */
  platform: PlatformSummary;
  /** Whether this connection created ClusterRoleBinding `public-issuer-discovery`. */
  ownsIssuerBinding: boolean;
  /** The resource's URN, which progress messages are shown with; `""` when unknown. */
  resourceUrn: string;
}

/** Keys every complete {@link ConnectionState} has (optional inputs aside). */
export const STATE_KEYS: readonly (keyof ConnectionState)[] = [
  "agentImages",
  "clusterId",
  "clusterName",
  "clusterUid",
  "connectionId",
  "connectivity",
  "enforcerOptions",
  "exposeIssuerDiscovery",
  "group",
  "identityCreatedAt",
  "identityExpiresAt",
  "identityId",
  "inviteId",
  "issuer",
  "kubeconfig",
  "ownsIssuerBinding",
  "platform",
  "profiles",
  "registeredAt",
  "registrationTimeout",
  "registrationTimeoutSeconds",
  "remoteId",
  "renewAfter",
  "renewAfterSeconds",
  "renewAt",
  "requestedConnectivity",
  "resourceUrn",
  "signingKeyIds",
  "uploadedKeyIds",
];

/** The state with keys sorted and no `undefined` anywhere (dropped), as plain JSON. */
export function toOutputs(state: ConnectionState): Record<string, unknown> {
  return sortKeys(JSON.parse(JSON.stringify(state)) as Record<string, unknown>);
}

function sortKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `t` as RFC 3339 in UTC, whole seconds (what the platform and a reader expect). */
export function rfc3339(t: Date | number): string {
  return new Date(Math.floor(new Date(t).getTime() / 1000) * 1000)
    .toISOString()
    .replace(".000Z", "Z");
}

/**
 * When a private connection renews: `renewAfter` after its identity was created, but never
 * after the identity expires (the platform may cap lifetimes below `renewAfter`).
 */
export function renewalTime(
  identityCreatedAt: string,
  renewAfterSeconds: number,
  identityExpiresAt: string,
): string {
  const due = Date.parse(identityCreatedAt) + renewAfterSeconds * 1000;
  const expires = Date.parse(identityExpiresAt);
  return rfc3339(Number.isFinite(expires) ? Math.min(due, expires) : due);
}

/** Reads stored outputs back (tolerating what older versions or a partial create left out). */
export function fromOutputs(outs: Record<string, unknown>): ConnectionState {
  const str = (k: string) => (typeof outs[k] === "string" ? (outs[k] as string) : "");
  const num = (k: string) => (typeof outs[k] === "number" ? (outs[k] as number) : 0);
  const state: ConnectionState = {
    agentImages: (outs.agentImages as ConnectionState["agentImages"]) ?? {},
    clusterId: str("clusterId"),
    clusterName: str("clusterName"),
    clusterUid: str("clusterUid"),
    connectionId: str("connectionId"),
    connectivity: outs.connectivity === "public" ? "public" : "private",
    enforcerOptions: outs.enforcerOptions as ConnectionState["enforcerOptions"],
    exposeIssuerDiscovery: outs.exposeIssuerDiscovery === true,
    group: str("group"),
    identityCreatedAt: str("identityCreatedAt"),
    identityExpiresAt: str("identityExpiresAt"),
    identityId: str("identityId"),
    inviteId: str("inviteId"),
    issuer: str("issuer"),
    kubeconfig: str("kubeconfig"),
    ownsIssuerBinding: outs.ownsIssuerBinding === true,
    platform: platformSummary(outs.platform),
    profiles: (outs.profiles as ConnectionState["profiles"]) ?? ["enforcer"],
    registeredAt: str("registeredAt"),
    registrationTimeout: str("registrationTimeout"),
    registrationTimeoutSeconds: num("registrationTimeoutSeconds"),
    remoteId: str("remoteId"),
    renewAfter: str("renewAfter"),
    renewAfterSeconds: num("renewAfterSeconds"),
    renewAt: str("renewAt"),
    requestedConnectivity: (outs.requestedConnectivity as Connectivity) ?? "auto",
    resourceUrn: str("resourceUrn"),
    signingKeyIds: stringArray(outs.signingKeyIds),
    uploadedKeyIds: stringArray(outs.uploadedKeyIds ?? outs.signingKeyIds),
  };
  if (typeof outs.context === "string") state.context = outs.context;
  if (typeof outs.description === "string") state.description = outs.description;
  return state;
}

/** The stored platform summary; empty strings where a state from an older version has none. */
function platformSummary(value: unknown): PlatformSummary {
  const v = (value ?? {}) as Record<string, unknown>;
  const str = (k: string) => (typeof v[k] === "string" ? (v[k] as string) : "");
  return { apiUrl: str("apiUrl"), caSha256: str("caSha256"), issuerUrl: str("issuerUrl") };
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
