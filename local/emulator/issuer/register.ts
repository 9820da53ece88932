/**
 * `POST /auth/v1/register`: the agent connects its cluster with an invite
 * code. The cluster token is verified (static keys or anonymous discovery),
 * then the cluster is created in the invite's group or re-registered there.
 */
import { clusterBearer, usableIdentity, verifyClusterToken } from "./cluster-auth";
import type { Reply, RequestContext, Route } from "../http/context";
import {
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  permissionDenied,
} from "../http/errors";
import {
  DEFAULT_ENFORCER_OPTIONS,
  DEFAULT_PROFILES,
  readEnforcerOptions,
  readProfiles,
} from "../api/model";
import { hashSecret } from "../secrets";
import type { ClusterRecord, IdentityRecord, InviteRecord } from "../store";
import { formatTimestamp } from "../http/time";
import { isSameOrDescendantOf, newChildUidp } from "../uidp";
import { optionalString, optionalUidp, requiredString } from "../http/validate";

interface RegisterRequest {
  code: string;
  remoteId: string;
  clusterName: string | undefined;
  clusterDescription: string;
  identityId: string | undefined;
  agentVersion: string | undefined;
  body: Record<string, unknown>;
}

function readRequest(body: Record<string, unknown>): RegisterRequest {
  const identityId = optionalUidp(body, "identityId");
  readProfiles(body);
  readEnforcerOptions(body, DEFAULT_ENFORCER_OPTIONS);
  return {
    code: requiredString(body, "code"),
    remoteId: requiredString(body, "remoteId"),
    clusterName: optionalString(body, "clusterName") || undefined,
    clusterDescription: optionalString(body, "clusterDescription") ?? "",
    identityId,
    agentVersion: optionalString(body, "agentVersion") || undefined,
    body,
  };
}

/** The invite a code belongs to: 403 when unknown, 412 when expired. Never echoes the code. */
function usableInvite(ctx: RequestContext, code: string): InviteRecord {
  const invite = ctx.services.store.invites.byCodeHash(hashSecret(code));
  if (!invite) {
    throw permissionDenied(
      "the invite code is not valid (unknown or deleted): create a new invite for the group",
    );
  }
  if (invite.expiration <= ctx.now.getTime()) {
    throw failedPrecondition(
      `the invite code expired at ${formatTimestamp(invite.expiration)}: create a new invite ` +
        `for group ${invite.group}`,
    );
  }
  return invite;
}

function checkIdentityGroup(identity: IdentityRecord, invite: InviteRecord): void {
  if (!isSameOrDescendantOf(invite.group, identity.parent)) {
    throw permissionDenied(
      `identity ${identity.id} belongs to group ${identity.parent}, which does not contain the ` +
        `invite's group ${invite.group}: create the identity in that group or one of its ancestors`,
    );
  }
}

/** Creates or re-registers the cluster, re-checking the invite inside the transaction. */
function commit(
  ctx: RequestContext,
  request: RegisterRequest,
  issuer: string,
  inviteId: string,
): ClusterRecord {
  const { store } = ctx.services;
  const now = ctx.now.getTime();
  return store.transaction(() => {
    const invite = usableInvite(ctx, request.code);
    if (invite.id !== inviteId)
      throw permissionDenied("the invite code changed during registration");
    const existing = store.clusters.byRemoteId(request.remoteId);
    if (existing && existing.group !== invite.group) {
      throw alreadyExists(
        `a cluster with remoteId ${request.remoteId} is already registered in another group: ` +
          `delete it there (find it with GET /tenant/v1/clusters?remoteId=${encodeURIComponent(request.remoteId)}) ` +
          `before registering it in group ${invite.group}`,
      );
    }
    if (existing) {
      const updated: ClusterRecord = {
        ...existing,
        issuer,
        identityId: request.identityId ?? "",
        registered: now,
        lastSeen: now,
        agentVersion: request.agentVersion ?? existing.agentVersion,
      };
      store.clusters.update(updated);
      return updated;
    }
    if (request.clusterName === undefined) {
      throw invalidArgument("clusterName is required to register a new cluster");
    }
    const created: ClusterRecord = {
      id: newChildUidp(invite.group),
      group: invite.group,
      remoteId: request.remoteId,
      issuer,
      identityId: request.identityId ?? "",
      name: request.clusterName,
      description: request.clusterDescription,
      registered: now,
      lastSeen: now,
      version: "",
      agentVersion: request.agentVersion ?? "",
      profiles: readProfiles(request.body) ?? DEFAULT_PROFILES,
      enforcerOptions: readEnforcerOptions(request.body, DEFAULT_ENFORCER_OPTIONS),
    };
    store.clusters.insert(created);
    return created;
  });
}

async function register(ctx: RequestContext): Promise<Reply> {
  const token = clusterBearer(ctx);
  const request = readRequest(await ctx.json());
  // Authenticate first (401), then authorize with the invite (403/412).
  const identity = request.identityId ? usableIdentity(ctx, request.identityId) : undefined;
  const verified = await verifyClusterToken(ctx, token, identity);
  const invite = usableInvite(ctx, request.code);
  if (identity) checkIdentityGroup(identity, invite);
  const cluster = commit(ctx, request, verified.issuer, invite.id);
  ctx.services.logger(`registered cluster ${cluster.id} in group ${cluster.group}`);
  return { body: { identity: cluster.id, group: cluster.group, clusterId: cluster.id } };
}

export const registerRoutes: Route[] = [
  { method: "POST", path: "/auth/v1/register", handler: register },
];
