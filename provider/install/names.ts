/**
 * Names of the agent's objects that code refers to (the manifests hold the rest). One place for
 * the installer here and for the agent stand-in (`local/agent/names.ts`), so they cannot disagree.
 * @module
 */

/** The agent's namespace; its UID is the cluster's `remoteId`. */
export const AGENT_NAMESPACE = "gulfstream";
/** The Secret the agent reads its invite code and cluster details from. */
export const CREDS_SECRET = "mcp-creds";
/** The agent's workload. */
export const AGENT_STATEFULSET = "meta-controlplane";
/** The ConfigMap the agent reads the platform's URLs (and CA) from. */
export const PLATFORM_CONFIG = "config-platform";
/** The agent's ServiceAccount, whose tokens Enforce verifies. */
export const AGENT_SERVICE_ACCOUNT = "controller";
/** The audience of the agent's token toward Enforce (its projected `oidc-token`). */
export const AGENT_AUDIENCE = "gulfstream";
/** The subject Enforce accepts tokens of: the agent's ServiceAccount. */
export const AGENT_SUBJECT = `system:serviceaccount:${AGENT_NAMESPACE}:${AGENT_SERVICE_ACCOUNT}`;
/** The ClusterRoleBinding `exposeIssuerDiscovery` creates. */
export const ISSUER_BINDING = "public-issuer-discovery";
