/**
 * The objects the Enforce agent's Helm chart installs and the agent reads, as
 * listed in `shared/reference/enforce-platform.md`. One place, so the log
 * messages and the API calls can never disagree about a name; the names the
 * installer shares are taken from it (`provider/install/names.ts`).
 */
import {
  AGENT_NAMESPACE,
  AGENT_SERVICE_ACCOUNT,
  AGENT_STATEFULSET,
  CREDS_SECRET,
} from "../../provider/install/names";

/** The agent's namespace; its UID is the cluster's `remoteId`. */
export const NAMESPACE = AGENT_NAMESPACE;
/** The Secret the installer writes the invite code and cluster details into. */
export const SECRET = CREDS_SECRET;
/** The agent's workload: the agent runs only while this StatefulSet exists. */
export const STATEFULSET = AGENT_STATEFULSET;
/** The agent's ServiceAccount, whose tokens the issuer verifies. */
export const SERVICE_ACCOUNT = AGENT_SERVICE_ACCOUNT;
/** Audience of the agent's projected token. */
export const TOKEN_AUDIENCE = "gulfstream";
/** The component the agent's Kubernetes Events name as their source and reporter. */
export const EVENT_COMPONENT = "enforce-agent";
/** Lifetime asked for the agent's token (the chart's projected volume uses 600 s, the minimum). */
export const TOKEN_SECONDS = 600;

/** How log lines name the objects: kind, then namespace/name. */
export const SECRET_REF = `Secret ${NAMESPACE}/${SECRET}`;
export const SERVICE_ACCOUNT_REF = `ServiceAccount ${NAMESPACE}/${SERVICE_ACCOUNT}`;
export const NAMESPACE_REF = `Namespace ${NAMESPACE}`;
export const STATEFULSET_REF = `StatefulSet ${NAMESPACE}/${STATEFULSET}`;
