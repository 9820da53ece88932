/**
 * The issuer area: the emulator's own OIDC discovery and keys, agent
 * registration, token exchange and heartbeats.
 */
import { clusterBearer, registeredCluster, verifyForCluster } from "./cluster-auth";
import type { Reply, RequestContext, Route } from "../http/context";
import { registerRoutes } from "./register";
import { formatTimestamp } from "../http/time";
import { optionalString, optionalStringArray, requiredUidp } from "../http/validate";

/** Path of the emulator's JWKS, as named in its discovery document. */
const JWKS_PATH = "/.well-known/jwks.json";
/** Lifetime of a token minted by `/sts/exchange`. */
const EXCHANGED_TOKEN_LIFETIME_SECONDS = 600;

function discoveryDocument(ctx: RequestContext): Reply {
  const issuer = ctx.services.issuerUrl();
  return {
    body: {
      issuer,
      jwks_uri: `${issuer}${JWKS_PATH}`,
      token_endpoint: `${issuer}/sts/exchange`,
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: [ctx.services.signingKey.alg],
    },
  };
}

function keys(ctx: RequestContext): Reply {
  return { body: { keys: [ctx.services.signingKey.publicJwk] } };
}

async function exchange(ctx: RequestContext): Promise<Reply> {
  const token = clusterBearer(ctx);
  const body = await ctx.json();
  const identity = requiredUidp(body, "identity");
  const audience = optionalStringArray(body, "aud") ?? [];
  const scope = optionalString(body, "scope") ?? "";
  const cap = optionalStringArray(body, "cap") ?? [];
  const cluster = registeredCluster(ctx, identity);
  await verifyForCluster(ctx, token, cluster);
  const { signingKey, issuerUrl } = ctx.services;
  const minted = await signingKey.sign({
    issuer: issuerUrl(),
    subject: cluster.id,
    audience: audience.length > 0 ? audience : [issuerUrl()],
    issuedAt: ctx.now,
    lifetimeSeconds: EXCHANGED_TOKEN_LIFETIME_SECONDS,
    claims: { scope, cap, group: cluster.group },
  });
  return { body: { token: minted } };
}

async function heartbeat(ctx: RequestContext): Promise<Reply> {
  const token = clusterBearer(ctx);
  const body = await ctx.json();
  const clusterId = requiredUidp(body, "clusterId");
  const agentVersion = optionalString(body, "agentVersion") || undefined;
  await verifyForCluster(ctx, token, registeredCluster(ctx, clusterId));
  const { store } = ctx.services;
  const lastSeen = ctx.now.getTime();
  store.transaction(() => {
    const current = registeredCluster(ctx, clusterId);
    store.clusters.update({
      ...current,
      lastSeen,
      agentVersion: agentVersion ?? current.agentVersion,
    });
  });
  return { body: { lastSeen: formatTimestamp(lastSeen) } };
}

export const issuerRoutes: Route[] = [
  { method: "GET", path: "/.well-known/openid-configuration", handler: discoveryDocument },
  { method: "GET", path: JWKS_PATH, handler: keys },
  ...registerRoutes,
  { method: "POST", path: "/sts/exchange", handler: exchange },
  { method: "POST", path: "/auth/v1/heartbeat", handler: heartbeat },
];
