import type { ResolvedConnectivity } from "../inputs/types";
import { AGENT_AUDIENCE } from "../install/names";
import type { KubeClient } from "../kube/client";
import type { JsonWebKeySet } from "../platform/types";
import { probeAnonymousDiscovery, type AnonymousKeys, type AnonymousProbe } from "./anonymous";
import { sameOrigin } from "./anonymous-get";
import {
  accessProblem,
  checkProjection,
  checkTokenRequest,
  readDiscoveredIssuer,
  readNamespaceUids,
  readServerKeys,
} from "./api-server-checks";
import { checkInstallRights } from "./install-rights";
import { REMEDY } from "./remedies";
import { verifyClusterToken, type KeySource, type ProbeToken } from "./token-verification";

export type CheckName =
  | "access"
  | "tokenProjection"
  | "tokenRequest"
  | "issuerDiscovery"
  | "connectivity"
  | "tokenSignature"
  | "installRights";

/**
 * How long each request of the checks may take, connecting included: a cluster that accepts
 * connections and never answers fails the check within seconds, not the client's default.
 */
export const CHECK_REQUEST_TIMEOUT_MS = 10_000;

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
  /** The service account issuer, from the `iss` claim of the token the cluster issued. */
  issuer: string;
  /** The API server's own key set when it was read: what a private connection uploads. */
  jwks?: JsonWebKeySet;
  /**
   * Every key id of the key set the platform verifies with, sorted: a public issuer's anonymous
   * `jwks_uri`, otherwise the API server's own.
   */
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
  /**
   * Also ask whether the credentials may install the agent (SelfSubjectAccessReviews, sent with
   * the other requests): for a connection not installed yet, or whose credentials changed. A
   * check of an unchanged connection leaves it out, and sends no more requests.
   * @default false
   */
  installRights?: boolean;
}

/**
 * What the last check of the same connection found. With it, every request of a check goes out
 * in one round: the issuer is probed where it was, its keys fetched where they were, and the API
 * server's own keys are skipped when the issuer was public. A hint that turns out wrong costs a
 * second round, never a wrong answer: every fact is still read from the cluster.
 */
export interface CheckHints {
  /** The issuer found last time. */
  issuer?: string;
  /** The `jwks_uri` its discovery document named last time. */
  jwksUri?: string;
  /** The connectivity it resolved to last time. */
  connectivity?: string;
}

/**
 * Checks the prerequisites of the agent against a live cluster: token volume projection,
 * TokenRequest, issuer discovery, and whether the issuer is reachable anonymously (public) or
 * not (private). Every request goes out at once (four to six of them, see {@link CheckHints});
 * a second round only when a hint was wrong or missing.
 */
export async function checkCluster(
  kube: KubeClient,
  opts: CheckOptions,
  hints: CheckHints = {},
): Promise<{ facts: ClusterFacts; problems: Problem[] }> {
  const client = kube.withTimeout(CHECK_REQUEST_TIMEOUT_MS);
  const problems: Problem[] = [];
  const facts = unobservedFacts(client.server);
  const plan = planFirstRound(client, opts, hints);
  let serverKeys: Promise<KeysRead> | undefined = plan.serverKeys
    ? readServerKeys(client)
    : undefined;
  let probe = plan.probeIssuer ? probeIssuer(client, plan.probeIssuer, plan.jwksUri) : undefined;
  // When the cluster's identity cannot be read, nothing else worked either: that one clear
  // error is reported.
  const [denied] = await Promise.all([
    readNamespaceUids(client).then(
      (uids) => void Object.assign(facts, uids),
      (err: unknown) => accessProblem(err),
    ),
    checkProjection(client).then((p) => (p ? problems.push(p) : (facts.tokenProjection = true))),
    checkTokenRequest(client).then((r) => {
      if ("problem" in r) return void problems.push(r.problem);
      Object.assign(facts, { tokenRequest: true, activeKeyId: r.kid, issuer: r.issuer });
      facts.probeToken = r.token;
    }),
    serverKeys,
    probe,
    opts.installRights ? checkInstallRights(client).then((p) => p && problems.push(p)) : undefined,
  ]);
  if (denied) return { facts, problems: [denied] };
  if (!facts.tokenRequest) facts.issuer = await readDiscoveredIssuer(client);
  // Second round, only for what the first one guessed wrong.
  if (plan.probeIssuer !== undefined && plan.probeIssuer !== facts.issuer && facts.issuer) {
    probe = probeIssuer(client, facts.issuer, hints.jwksUri);
  }
  const anonymous = await probe;
  if (anonymous) facts.anonymousDiscovery = anonymous;
  if (!serverKeys && !usableKeys(anonymous)) serverKeys = readServerKeys(client);
  recordKeys(facts, anonymous, await serverKeys, problems);
  if (facts.issuerDiscovery && facts.issuer) await checkIssuerReach(opts, facts, problems);
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

/** What the first round sends besides the requests every check makes. */
interface FirstRound {
  /** Fetch the API server's JWKS with credentials. */
  serverKeys: boolean;
  /** The issuer to probe anonymously, if any: the last one, or a guess of this API server. */
  probeIssuer?: string;
  jwksUri?: string;
}

function planFirstRound(client: KubeClient, opts: CheckOptions, hints: CheckHints): FirstRound {
  if (opts.connectivity === "private") return { serverKeys: true };
  const probeIssuer = hints.issuer || client.server;
  // The issuer's keys are fetched with its document when it is likely public: it was last time,
  // or there is no last time. A private issuer's probe is one anonymous request.
  const guess = sameOrigin(probeIssuer, client.server) ? `${client.server}${JWKS_PATH}` : "";
  const jwksUri = hints.connectivity === "private" ? "" : hints.jwksUri || guess;
  // A public issuer's keys come from its anonymous jwks_uri; the API server's are read only
  // when that fails (second round), or when the issuer was not public last time.
  return { serverKeys: hints.connectivity !== "public", probeIssuer, jwksUri };
}

const JWKS_PATH = "/openid/v1/jwks";

type KeysRead = Awaited<ReturnType<typeof readServerKeys>>;

function probeIssuer(
  client: KubeClient,
  issuer: string,
  jwksUri?: string,
): Promise<AnonymousProbe> {
  return probeAnonymousDiscovery(issuer, {
    apiServer: client.server,
    clusterCa: client.caPem,
    keys: true,
    expectedJwksUri: jwksUri || undefined,
  }).catch((err: Error): AnonymousProbe => ({ reachable: false, detail: err.message }));
}

/** The anonymous probe found a key set the platform can read. */
function usableKeys(probe: AnonymousProbe | undefined): boolean {
  const jwks = probe?.keys?.jwks as { keys?: unknown } | undefined;
  return !!probe?.reachable && Array.isArray(jwks?.keys) && jwks.keys.length > 0;
}

/**
 * Records the key sets read: the API server's (a private connection uploads it) and the key ids
 * of the set the platform will verify with, the anonymous one for a public issuer.
 */
function recordKeys(
  facts: ClusterFacts,
  anonymous: AnonymousProbe | undefined,
  server: KeysRead | undefined,
  problems: Problem[],
): void {
  if (server && "problem" in server) {
    problems.push(server.problem);
    return;
  }
  facts.issuerDiscovery = true;
  facts.jwks = server?.jwks;
  const keys = (usableKeys(anonymous) ? anonymous?.keys?.jwks : server?.jwks) as JsonWebKeySet;
  facts.signingKeyIds = [
    ...new Set(keys.keys.map((k) => k.kid).filter((k): k is string => !!k)),
  ].sort();
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
