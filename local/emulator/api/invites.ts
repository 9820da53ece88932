/**
 * Group invites: `POST /iam/v1/group_invites/{group}` and
 * `DELETE /iam/v1/group_invites/{id}`. A code is shown once and stored only
 * as its SHA-256 hash.
 */
import { authenticate, authorize } from "./auth";
import type { Reply, RequestContext, Route } from "../http/context";
import { deleteOwned } from "./deletion";
import { invalidArgument, notFound } from "../http/errors";
import { inviteJson } from "./model";
import { hashSecret, newSecret } from "../secrets";
import type { InviteRecord } from "../store";
import { parseDuration } from "../http/time";
import { newChildUidp } from "../uidp";
import { optionalString } from "../http/validate";

/** Lifetime of an invite created without `ttl`. */
const DEFAULT_INVITE_TTL_MS = 600 * 1000;
/** Longest invite lifetime (the CLI's default). */
const MAX_INVITE_TTL_MS = 168 * 3600 * 1000;

const ROLE = /^[a-z][a-z0-9._-]{0,62}$/;

function readTtl(body: Record<string, unknown>): number {
  const text = optionalString(body, "ttl");
  if (text === undefined) return DEFAULT_INVITE_TTL_MS;
  const ttl = parseDuration(text);
  if (ttl === undefined) {
    throw invalidArgument(`ttl ${JSON.stringify(text)} is not a duration such as "600s"`);
  }
  if (ttl <= 0) throw invalidArgument("ttl must be positive");
  if (ttl > MAX_INVITE_TTL_MS) {
    throw invalidArgument(`ttl ${text} exceeds the maximum of 168h (${MAX_INVITE_TTL_MS / 1000}s)`);
  }
  return ttl;
}

async function createInvite(ctx: RequestContext, group: string): Promise<Reply> {
  const principal = authenticate(ctx);
  authorize(principal, group, "group");
  const body = await ctx.json();
  const ttl = readTtl(body);
  const role = optionalString(body, "role") || "viewer";
  if (!ROLE.test(role)) throw invalidArgument(`role ${JSON.stringify(role)} is not a role name`);
  const { store, signingKey } = ctx.services;
  const code = newSecret();
  const invite: InviteRecord = {
    id: newChildUidp(group),
    group,
    codeHash: hashSecret(code),
    role,
    keyId: signingKey.kid,
    expiration: ctx.now.getTime() + ttl,
    created: ctx.now.getTime(),
  };
  store.transaction(() => {
    if (!store.groups.get(group)) throw notFound(`group ${group} does not exist`);
    store.invites.insert(invite);
  });
  return { body: inviteJson(invite, code) };
}

function deleteInvite(ctx: RequestContext, id: string): Reply {
  return deleteOwned(
    ctx,
    id,
    "invite",
    (store) => store.invites.delete(id),
    `invite ${id} does not exist (already deleted?)`,
  );
}

export const inviteRoutes: Route[] = [
  { method: "POST", path: "/iam/v1/group_invites/", prefix: true, handler: createInvite },
  { method: "DELETE", path: "/iam/v1/group_invites/", prefix: true, handler: deleteInvite },
];
