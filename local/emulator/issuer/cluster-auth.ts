/**
 * Authenticating an agent by its cluster's service-account token, shared by
 * register, exchange and heartbeat. Verification refusals become 401, or 503
 * with Retry-After when the issuer is only temporarily unavailable.
 */
import { CLUSTER_AUDIENCE } from "../verification/cluster-claims";
import type { RequestContext } from "../http/context";
import { failedPrecondition, notFound, unauthenticated, unavailable } from "../http/errors";
import type { ClusterRecord, IdentityRecord } from "../store";
import { formatTimestamp } from "../http/time";
import { VerificationError } from "../verification/verification-error";
import {
  verifyWithDiscovery,
  verifyWithIdentity,
  type VerifiedToken,
} from "../verification/verify";

const RETRY_AFTER_SECONDS = 5;

/** The cluster token of an issuer call, or 401. */
export function clusterBearer(ctx: RequestContext): string {
  if (ctx.bearer === undefined) {
    throw unauthenticated(
      "the request has no bearer token: send Authorization: Bearer <the cluster's " +
        `service-account token for audience ${CLUSTER_AUDIENCE}>`,
    );
  }
  return ctx.bearer;
}

/** An identity a cluster may authenticate with now: 404 when missing, 412 when expired. */
export function usableIdentity(ctx: RequestContext, id: string): IdentityRecord {
  const identity = ctx.services.store.identities.get(id);
  if (!identity) {
    throw notFound(
      `identity ${id} does not exist: upload the cluster's issuer keys as an identity and ` +
        "register with its id",
    );
  }
  if (identity.expiration <= ctx.now.getTime()) {
    throw failedPrecondition(
      `identity ${id} expired at ${formatTimestamp(identity.expiration)}: upload the cluster's ` +
        "current issuer keys as a new identity and register the cluster again with it",
    );
  }
  return identity;
}

function asApiError(error: unknown): unknown {
  if (!(error instanceof VerificationError)) return error;
  if (error.retryable) return unavailable(error.message, RETRY_AFTER_SECONDS, error);
  return unauthenticated(error.message, error);
}

/** Verifies with a static-key identity, or by anonymous discovery when there is none. */
export async function verifyClusterToken(
  ctx: RequestContext,
  token: string,
  identity: IdentityRecord | undefined,
  expectedIssuer?: string,
): Promise<VerifiedToken> {
  try {
    return identity
      ? await verifyWithIdentity(token, identity, ctx.now)
      : await verifyWithDiscovery(token, ctx.services.discovery, ctx.now, expectedIssuer);
  } catch (error) {
    throw asApiError(error);
  }
}

/** Verifies a token the way `cluster`'s last registration was verified. */
export async function verifyForCluster(
  ctx: RequestContext,
  token: string,
  cluster: ClusterRecord,
): Promise<VerifiedToken> {
  const identity = cluster.identityId ? usableIdentity(ctx, cluster.identityId) : undefined;
  return verifyClusterToken(ctx, token, identity, cluster.issuer);
}

/** The registered cluster `id`, or 404 telling the agent to register. */
export function registeredCluster(ctx: RequestContext, id: string): ClusterRecord {
  const cluster = ctx.services.store.clusters.get(id);
  if (!cluster) {
    throw notFound(`cluster ${id} is not registered (deleted?): register the cluster again`);
  }
  return cluster;
}
