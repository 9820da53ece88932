/**
 * The objects the Enforce agent's Helm chart installs and the agent reads, as
 * the platform's public documentation lists them. One place, so the log
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
/** The component the agent's Kubernetes Events name as their source and reporter. */
export const EVENT_COMPONENT = "enforce-agent";

/** The container the agent runs in. */
export const AGENT_CONTAINER = "controller";
/** Where a pod finds its Kubernetes API token (the convention in-cluster clients follow). */
export const KUBE_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/** Where the agent finds its token for Enforce (the `sts` container's `--token-file`). */
export const PLATFORM_TOKEN_PATH = "/var/run/chainguard/oidc/oidc-token";
/** Environment variables the agent reads its platform settings from. */
export const PLATFORM_ENV = {
  apiUrl: "ENFORCE_API_URL",
  issuerUrl: "ENFORCE_ISSUER_URL",
  caFile: "ENFORCE_CA_FILE",
} as const;

/** How log lines name the objects: kind, then namespace/name. */
export const SECRET_REF = `Secret ${NAMESPACE}/${SECRET}`;
export const SERVICE_ACCOUNT_REF = `ServiceAccount ${NAMESPACE}/${SERVICE_ACCOUNT}`;
export const NAMESPACE_REF = `Namespace ${NAMESPACE}`;
export const STATEFULSET_REF = `StatefulSet ${NAMESPACE}/${STATEFULSET}`;
