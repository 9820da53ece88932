/**
 * The single requests of the cluster checks that only the API server answers, each turned into
 * a result or a {@link Problem} naming the input and the fix. `./cluster-checks.ts` decides
 * which to send together.
 * @module
 */

import { AGENT_AUDIENCE, AGENT_NAMESPACE } from "../install/names";
import type { KubeClient } from "../kube/client";
import {
  KubeError,
  KubeResponseTooLargeError,
  KubeStatusError,
  KubeUnreachableError,
} from "../kube/errors";
import type { JsonWebKeySet } from "../platform/types";
import { MAX_DISCOVERY_BYTES } from "./anonymous-get";
import type { Problem } from "./cluster-checks";
import { splitFix } from "../util/errors";
import { REMEDY } from "./remedies";
import { ProbeToken } from "./token-verification";

/** Where the projection and TokenRequest checks run: present in every cluster, rarely under admission webhooks. */
const PROBE_NAMESPACE = "kube-system";
const PROBE_SERVICE_ACCOUNT = "default";

/** The label the API server sets on every Namespace (Kubernetes 1.21 and later) to its name. */
const NAME_LABEL = "kubernetes.io/metadata.name";

/** Which cluster this is, and whether the agent's namespace exists. */
export interface NamespaceUids {
  /** UID of `kube-system`. */
  clusterUid: string;
  /** UID of the agent's namespace, `""` when it does not exist. */
  agentNamespaceUid: string;
}

/**
 * Both UIDs in one request: a list of the two Namespaces by their name label. A cluster whose
 * `kube-system` lacks the label (older than 1.21) costs one more request.
 * @throws what the request threw: the caller reports it as {@link accessProblem}.
 */
export async function readNamespaceUids(client: KubeClient): Promise<NamespaceUids> {
  type Namespace = { metadata: { name: string; uid: string } };
  const list = await client.get<{ items?: Namespace[] }>("/api/v1/namespaces", {
    query: { labelSelector: `${NAME_LABEL} in (kube-system,${AGENT_NAMESPACE})` },
  });
  const uidOf = (name: string) =>
    list.body.items?.find((n) => n.metadata.name === name)?.metadata.uid;
  const clusterUid =
    uidOf("kube-system") ??
    (await client.get<Namespace>("/api/v1/namespaces/kube-system")).body.metadata.uid;
  return { clusterUid, agentNamespaceUid: uidOf(AGENT_NAMESPACE) ?? "" };
}

/**
 * The API server's own key set (`/openid/v1/jwks`, with credentials): what a private connection
 * uploads. Its absence means issuer discovery is off. Read up to the bound of a key set
 * (1 MiB, as the anonymous one): a larger or malformed answer is refused, naming what came.
 */
export async function readServerKeys(
  client: KubeClient,
): Promise<{ jwks: JsonWebKeySet } | { problem: Problem }> {
  let answer: unknown;
  try {
    answer = (await client.get<unknown>(JWKS_PATH, DISCOVERY_READ)).body;
  } catch (err) {
    if (err instanceof KubeResponseTooLargeError) {
      return unusableKeysProblem(`GET ${JWKS_PATH} answered more than 1 MiB, which is no key set`);
    }
    if (err instanceof KubeUnreachableError) {
      return unusableKeysProblem(err.detail); // e.g. "GET /openid/v1/jwks did not answer within 10 s"
    }
    return discoveryProblem(
      err instanceof KubeStatusError && err.statusCode === 404
        ? `GET ${JWKS_PATH} answered 404 NotFound`
        : `GET ${JWKS_PATH} failed (${(err as Error).message})`,
    );
  }
  if (typeof answer !== "object" || answer === null) {
    return unusableKeysProblem(`the answer of GET ${JWKS_PATH} is not a JSON object`);
  }
  const jwks = answer as JsonWebKeySet;
  if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) {
    return discoveryProblem("the JWKS lists no keys");
  }
  return { jwks };
}

const JWKS_PATH = "/openid/v1/jwks";

/**
 * How the discovery documents are read with credentials: no more than the anonymous probe reads.
 * The time is bounded by the check's deadline per request, which a server trickling its answer
 * cannot stretch.
 */
const DISCOVERY_READ = { maxBytes: MAX_DISCOVERY_BYTES };

/**
 * The issuer the API server's discovery document names; for reports only, when no token was
 * issued to read it from. `""` when the document cannot be read.
 */
export async function readDiscoveredIssuer(client: KubeClient): Promise<string> {
  try {
    const doc = await client.get<{ issuer?: unknown }>(
      "/.well-known/openid-configuration",
      DISCOVERY_READ,
    );
    return typeof doc.body?.issuer === "string" ? doc.body.issuer : "";
  } catch {
    return "";
  }
}

function discoveryProblem(detail: string): { problem: Problem } {
  return {
    problem: {
      check: "issuerDiscovery",
      property: "kubeconfig",
      reason: `service account issuer discovery is not enabled: ${detail}`,
      remedy: REMEDY.issuerDiscovery,
    },
  };
}

function unusableKeysProblem(detail: string): { problem: Problem } {
  return {
    problem: {
      check: "issuerDiscovery",
      property: "kubeconfig",
      reason: `the API server's key set is unusable: ${detail}`,
      remedy:
        "Check that the kubeconfig's server is the Kubernetes API server itself (or a proxy that passes its answers " +
        "through unchanged) and that it answers: kubectl get --raw /openid/v1/jwks must print the service account " +
        "public keys as a JWKS at once.",
    },
  };
}

/** The one problem reported when the cluster's identity cannot be read: nothing else worked either. */
export function accessProblem(err: unknown): Problem {
  if (err instanceof KubeStatusError && (err.statusCode === 401 || err.statusCode === 403)) {
    return {
      check: "access",
      property: "kubeconfig",
      reason: `the kubeconfig's credentials were refused (${err.statusCode} ${err.reason}) when listing Namespaces`,
      remedy:
        "Use credentials that can manage cluster-scoped objects (the agent installs CRDs, ClusterRoles and webhooks), e.g. a cluster-admin kubeconfig.",
    };
  }
  const remedy =
    "Check that the cluster is running and that the kubeconfig (and context) point at it.";
  if (err instanceof KubeError) {
    const { what, fix } = splitFix(err);
    return { check: "access", property: "kubeconfig", reason: what, remedy: fix ?? remedy };
  }
  return {
    check: "access",
    property: "kubeconfig",
    reason: `cannot talk to the cluster: ${(err as Error).message}`,
    remedy,
  };
}

/** A dry-run Pod with a projected token volume: admitted means projection works. Stores nothing. */
export async function checkProjection(client: KubeClient): Promise<Problem | undefined> {
  // Dry run: admission and validation happen, nothing is stored.
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "enforce-projection-check", namespace: PROBE_NAMESPACE },
    spec: {
      serviceAccountName: PROBE_SERVICE_ACCOUNT,
      containers: [
        {
          name: "check",
          image: "registry.k8s.io/pause:3.10",
          volumeMounts: [{ name: "enforce-token", mountPath: "/var/run/secrets/tokens" }],
        },
      ],
      volumes: [
        {
          name: "enforce-token",
          projected: {
            sources: [
              {
                serviceAccountToken: {
                  path: "enforce-token",
                  expirationSeconds: 600,
                  audience: AGENT_AUDIENCE,
                },
              },
            ],
          },
        },
      ],
    },
  };
  try {
    await client.post(`/api/v1/namespaces/${PROBE_NAMESPACE}/pods`, pod, {
      query: { dryRun: "All" },
    });
    return undefined;
  } catch (err) {
    return {
      check: "tokenProjection",
      property: "kubeconfig",
      reason: `service account token volume projection is not available: a pod with a projected serviceAccountToken volume was rejected (${(err as Error).message})`,
      remedy: REMEDY.tokenProjection,
    };
  }
}

/**
 * Mints a token for the probe service account (a TokenRequest stores nothing). Its header names
 * the key that signs now, and its `iss` claim the issuer, so no discovery request is needed.
 */
export async function checkTokenRequest(
  client: KubeClient,
): Promise<{ kid: string; issuer: string; token: ProbeToken } | { problem: Problem }> {
  try {
    const res = await client.post<{ status: { token: string } }>(
      `/api/v1/namespaces/${PROBE_NAMESPACE}/serviceaccounts/${PROBE_SERVICE_ACCOUNT}/token`,
      {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { audiences: [AGENT_AUDIENCE], expirationSeconds: 600 },
      },
    );
    const token = res.body.status.token;
    const [header = "", payload = ""] = token.split(".");
    const { kid } = decodeSegment(header) as { kid?: unknown };
    const { iss } = decodeSegment(payload) as { iss?: unknown };
    return {
      kid: typeof kid === "string" ? kid : "",
      issuer: typeof iss === "string" ? iss : "",
      token: new ProbeToken(token),
    };
  } catch (err) {
    return {
      problem: {
        check: "tokenRequest",
        property: "kubeconfig",
        reason: `the TokenRequest API did not issue a token for ${PROBE_NAMESPACE}/${PROBE_SERVICE_ACCOUNT} (${(err as Error).message})`,
        remedy: REMEDY.tokenProjection,
      },
    };
  }
}

/** A JWS segment's JSON; `{}` when it is not. */
function decodeSegment(segment: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
