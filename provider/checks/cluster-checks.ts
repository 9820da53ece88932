import type { ResolvedConnectivity } from "../inputs/types";
import { AGENT_AUDIENCE, AGENT_NAMESPACE } from "../install/names";
import type { KubeClient } from "../kube/client";
import type { JsonWebKeySet } from "../platform/types";
import { KubeError, KubeStatusError } from "../kube/errors";
import {
  probeAnonymousDiscovery,
  sameOrigin,
  type AnonymousKeys,
  type AnonymousProbe,
} from "./anonymous";
import { REMEDY } from "./remedies";
import { ProbeToken, verifyClusterToken, type KeySource } from "./token-verification";

/** Where the projection and TokenRequest checks run: present in every cluster, rarely under admission webhooks. */
const PROBE_NAMESPACE = "kube-system";
const PROBE_SERVICE_ACCOUNT = "default";

export type CheckName =
  | "access"
  | "tokenProjection"
  | "tokenRequest"
  | "issuerDiscovery"
  | "connectivity"
  | "tokenSignature";

/** A failed prerequisite: what is wrong and the exact remedy. */
export interface Problem {
  check: CheckName;
  /** The resource input the problem is reported against. */
  property: string;
  reason: string;
  remedy: string;
}

/** What the checks observed about the cluster. */
export interface ClusterFacts {
  server: string;
  issuer: string;
  discovery?: Record<string, unknown>;
  jwks?: JsonWebKeySet;
  /** Every key id the JWKS publishes, sorted. */
  signingKeyIds: string[];
  /** The key id in a freshly minted token's header: the key that signs now. */
  activeKeyId: string;
  /** UID of the kube-system Namespace: which cluster this is. */
  clusterUid: string;
  /** UID of the agent's `gulfstream` Namespace, "" when it does not exist. */
  agentNamespaceUid: string;
  tokenProjection: boolean;
  tokenRequest: boolean;
  issuerDiscovery: boolean;
  anonymousDiscovery: AnonymousProbe;
  /** The connectivity the cluster has, or will have once this connection applies its settings. */
  connectivity: ResolvedConnectivity | "";
  /** Whether the keys the platform will hold verify the token the cluster issues now. */
  tokenSignature: TokenSignature;
  /**
   * The token the TokenRequest check minted (audience `gulfstream`, 10 minutes), kept so that
   * `create` can verify it again right before the upload. A credential held in memory only: it
   * prints as `[REDACTED]`, and neither `observed` (state) nor doctor's report copies it.
   */
  probeToken?: ProbeToken;
}

/** The outcome of verifying the probe token against the key set the platform will hold. */
export interface TokenSignature {
  /** `"not checked"` when an earlier check failed. */
  status: "verified" | "failed" | "not checked";
  /** The key id in the token's header. */
  kid: string;
  /** The key set it was verified against, once checked. */
  keySource?: KeySource;
  /** For `keySource: "anonymous"`: the issuer's `jwks_uri`. */
  jwksUri?: string;
}

export interface CheckOptions {
  connectivity: "auto" | ResolvedConnectivity;
  exposeIssuerDiscovery: boolean;
}

/**
 * Checks the prerequisites of the agent against a live cluster: token volume
 * projection, TokenRequest, issuer discovery, and whether the issuer is
 * reachable anonymously (public) or not (private). Independent calls run
 * concurrently over the client's one connection pool; about seven requests.
 */
export async function checkCluster(
  client: KubeClient,
  opts: CheckOptions,
): Promise<{ facts: ClusterFacts; problems: Problem[] }> {
  const problems: Problem[] = [];
  const facts = unobservedFacts(client.server);
  // One round for everything the API server answers, the cluster's identity included: on a
  // network with latency, each round costs a round trip per cluster in every preview. When the
  // identity cannot be read, nothing else worked either, and that one clear error is reported.
  const [denied] = await Promise.all([
    readClusterUid(client, facts),
    checkPrerequisites(client, opts, facts, problems),
  ]);
  if (denied) return { facts, problems: [denied] };
  if (facts.issuerDiscovery) await checkIssuerReach(opts, facts, problems);
  return { facts, problems };
}

/** The facts before any check ran: nothing found, nothing checked. */
function unobservedFacts(server: string): ClusterFacts {
  return {
    server,
    issuer: "",
    signingKeyIds: [],
    activeKeyId: "",
    clusterUid: "",
    agentNamespaceUid: "",
    tokenProjection: false,
    tokenRequest: false,
    issuerDiscovery: false,
    anonymousDiscovery: { reachable: false, detail: "not checked" },
    connectivity: "",
    tokenSignature: { status: "not checked", kid: "" },
  };
}

/** Reads which cluster this is (the kube-system Namespace's UID); an `access` problem if not. */
async function readClusterUid(
  client: KubeClient,
  facts: ClusterFacts,
): Promise<Problem | undefined> {
  try {
    const ns = await client.get<{ metadata: { uid: string } }>(`/api/v1/namespaces/kube-system`);
    facts.clusterUid = ns.body.metadata.uid;
    return undefined;
  } catch (err) {
    return accessProblem(err);
  }
}

/**
 * The checks that need only the API server, concurrently: the agent's namespace (its absence is
 * no problem), token projection, TokenRequest (whose token names the signing key) and issuer
 * discovery (which names the issuer and its keys, and is probed without credentials meanwhile).
 */
async function checkPrerequisites(
  client: KubeClient,
  opts: CheckOptions,
  facts: ClusterFacts,
  problems: Problem[],
): Promise<void> {
  await Promise.all([
    client
      .get<{ metadata: { uid: string } }>(`/api/v1/namespaces/${AGENT_NAMESPACE}`, {
        accept: [404],
      })
      .then((r) => (facts.agentNamespaceUid = r.status === 200 ? r.body.metadata.uid : ""))
      .catch(() => undefined),
    checkProjection(client).then((p) => (p ? problems.push(p) : (facts.tokenProjection = true))),
    checkTokenRequest(client).then((r) => {
      if ("problem" in r) problems.push(r.problem);
      else {
        facts.tokenRequest = true;
        facts.activeKeyId = r.kid;
        facts.probeToken = r.token;
      }
    }),
    checkDiscovery(client, opts).then((r) => {
      if ("problem" in r) {
        problems.push(r.problem);
        return;
      }
      facts.issuerDiscovery = true;
      facts.issuer = r.issuer;
      facts.discovery = r.discovery;
      facts.jwks = r.jwks;
      facts.signingKeyIds = [
        ...new Set(r.jwks.keys.map((k) => k.kid).filter((k): k is string => !!k)),
      ].sort();
      facts.anonymousDiscovery = r.anonymous;
    }),
  ]);
}

/**
 * Once discovery worked: the connectivity that whether the issuer is reachable without
 * credentials gives, and (when a token was issued and the connectivity is possible) whether the
 * keys the platform will hold verify the token.
 */
async function checkIssuerReach(
  opts: CheckOptions,
  facts: ClusterFacts,
  problems: Problem[],
): Promise<void> {
  const resolved = resolveConnectivity(facts, opts);
  facts.connectivity = resolved.connectivity;
  if (resolved.problem) problems.push(resolved.problem);
  else if (facts.tokenRequest) {
    const problem = await checkTokenSignature(facts);
    if (problem) problems.push(problem);
  }
}

/**
 * Verifies the probe token against the keys the platform will verify the agent's tokens with:
 * a private connection's upload, a public issuer's anonymous `jwks_uri`, or (public only once
 * this connection creates the binding) the JWKS the API server serves.
 */
async function checkTokenSignature(facts: ClusterFacts): Promise<Problem | undefined> {
  const anonymous = facts.anonymousDiscovery;
  const keySource: KeySource =
    facts.connectivity === "private" ? "uploaded" : anonymous.reachable ? "anonymous" : "exposed";
  facts.tokenSignature = { status: "failed", kid: facts.activeKeyId, keySource };
  if (keySource === "anonymous") {
    const uri = anonymous.keys?.uri ?? "";
    facts.tokenSignature.jwksUri = uri;
    if (anonymous.keys?.jwks === undefined) {
      return {
        check: "tokenSignature",
        property: "connectivity",
        reason:
          `the issuer's discovery document is public, but its keys (jwks_uri ${uri || "missing"}) could not be ` +
          `fetched without credentials (${anonymous.keys?.detail ?? "not fetched"}), so the platform could not verify the agent`,
        remedy:
          "Serve the issuer's JWKS at its jwks_uri without credentials (for an API-server issuer, the " +
          'public-issuer-discovery binding covers /openid/v1/jwks as well), or set connectivity: "private".',
      };
    }
  }
  const problem = await verifyProbeToken(facts, keySource, anonymous.keys);
  if (!problem) facts.tokenSignature.status = "verified";
  return problem;
}

/**
 * Verifies the probe token of a {@link checkCluster} run again, against the JWKS about to be
 * uploaded: `create` calls it right before the upload.
 */
export function verifyKeysToUpload(facts: ClusterFacts): Promise<Problem | undefined> {
  return verifyProbeToken(facts, "uploaded");
}

async function verifyProbeToken(
  facts: ClusterFacts,
  keySource: KeySource,
  anonymousKeys?: AnonymousKeys,
): Promise<Problem | undefined> {
  if (!facts.probeToken) {
    return {
      check: "tokenSignature",
      property: "connectivity",
      reason: "no token of the cluster is at hand to verify its keys with",
      remedy: REMEDY.tokenProjection,
    };
  }
  const anonymous = keySource === "anonymous";
  const result = await verifyClusterToken({
    token: facts.probeToken.reveal(),
    issuer: facts.issuer,
    jwks: anonymous ? anonymousKeys?.jwks : facts.jwks,
    keySource,
    jwksUri: anonymous ? anonymousKeys?.uri : undefined,
    audience: AGENT_AUDIENCE,
  });
  return result.ok ? undefined : result.problem;
}

function resolveConnectivity(
  facts: ClusterFacts,
  opts: CheckOptions,
): { connectivity: ResolvedConnectivity; problem?: Problem } {
  const anonymous = facts.anonymousDiscovery.reachable;
  // This connection will create the binding itself; that makes the issuer
  // public only when the issuer is served by this API server.
  const willExpose = opts.exposeIssuerDiscovery && sameOrigin(facts.issuer, facts.server);
  const isPublic = anonymous || willExpose;
  if (opts.connectivity === "private") return { connectivity: "private" };
  if (opts.connectivity === "auto") return { connectivity: isPublic ? "public" : "private" };
  if (isPublic) return { connectivity: "public" };
  return {
    connectivity: "public",
    problem: {
      check: "connectivity",
      property: "connectivity",
      reason:
        `connectivity is "public", but the issuer's discovery document at ${facts.issuer}/.well-known/openid-configuration ` +
        `is not reachable without credentials (${facts.anonymousDiscovery.detail}), so the platform could not verify the agent`,
      remedy: sameOrigin(facts.issuer, facts.server)
        ? `${REMEDY.publicBinding}. Or set exposeIssuerDiscovery: true to let this resource create that binding, or set connectivity: "private".`
        : `The issuer is not served by this API server (${facts.server}), so a binding here cannot make it public: set connectivity: "private".`,
    },
  };
}

function accessProblem(err: unknown): Problem {
  if (err instanceof KubeStatusError && (err.statusCode === 401 || err.statusCode === 403)) {
    return {
      check: "access",
      property: "kubeconfig",
      reason: `the kubeconfig's credentials were refused (${err.statusCode} ${err.reason}) when reading Namespace kube-system`,
      remedy:
        "Use credentials that can manage cluster-scoped objects (the agent installs CRDs, ClusterRoles and webhooks), e.g. a cluster-admin kubeconfig.",
    };
  }
  return {
    check: "access",
    property: "kubeconfig",
    reason:
      err instanceof KubeError
        ? err.message
        : `cannot talk to the cluster: ${(err as Error).message}`,
    remedy: "Check that the cluster is running and that the kubeconfig (and context) point at it.",
  };
}

async function checkProjection(client: KubeClient): Promise<Problem | undefined> {
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

async function checkTokenRequest(
  client: KubeClient,
): Promise<{ kid: string; token: ProbeToken } | { problem: Problem }> {
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
    const [encoded = ""] = token.split(".");
    const header = JSON.parse(Buffer.from(encoded, "base64url").toString("utf8")) as {
      kid?: string;
    };
    return { kid: header.kid ?? "", token: new ProbeToken(token) };
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

/**
 * Issuer discovery through the API server: the discovery document, then its keys and, at the
 * same time, the same document fetched without credentials from the issuer it names (whether
 * the issuer is public).
 */
async function checkDiscovery(
  client: KubeClient,
  opts: CheckOptions,
): Promise<
  | {
      issuer: string;
      discovery: Record<string, unknown>;
      jwks: JsonWebKeySet;
      anonymous: AnonymousProbe;
    }
  | { problem: Problem }
> {
  const fail = (detail: string): { problem: Problem } => ({
    problem: {
      check: "issuerDiscovery",
      property: "kubeconfig",
      reason: `service account issuer discovery is not enabled: ${detail}`,
      remedy: REMEDY.issuerDiscovery,
    },
  });
  let discovery: { issuer?: string; jwks_uri?: string };
  try {
    discovery = (
      await client.get<{ issuer?: string; jwks_uri?: string }>("/.well-known/openid-configuration")
    ).body;
  } catch (err) {
    return fail(
      err instanceof KubeStatusError && err.statusCode === 404
        ? "GET /.well-known/openid-configuration answered 404 NotFound"
        : (err as Error).message,
    );
  }
  if (typeof discovery?.issuer !== "string" || !discovery.issuer)
    return fail("the discovery document names no issuer");
  const anonymous = probeAnonymousDiscovery(discovery.issuer, {
    apiServer: client.server,
    clusterCa: client.caPem,
    // The issuer's keys matter only to a public connection: a private one adds no request.
    keys: opts.connectivity !== "private",
  }).catch((err: Error): AnonymousProbe => ({ reachable: false, detail: err.message }));
  // The keys are served by the API server at /openid/v1/jwks whatever host jwks_uri names.
  let jwks: JsonWebKeySet;
  try {
    jwks = (await client.get<JsonWebKeySet>("/openid/v1/jwks")).body;
  } catch (err) {
    await anonymous;
    return fail(`GET /openid/v1/jwks failed (${(err as Error).message})`);
  }
  if (!Array.isArray(jwks?.keys) || jwks.keys.length === 0) {
    await anonymous;
    return fail("the JWKS lists no keys");
  }
  return {
    issuer: discovery.issuer,
    discovery: discovery as Record<string, unknown>,
    jwks,
    anonymous: await anonymous,
  };
}
