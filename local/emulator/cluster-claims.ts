/** What a cluster's agent token must claim. */

/** The audience of the agent's projected service-account token. */
export const CLUSTER_AUDIENCE = "gulfstream";
/** The agent's service account, as a token subject. */
export const CLUSTER_SUBJECT = "system:serviceaccount:gulfstream:controller";
