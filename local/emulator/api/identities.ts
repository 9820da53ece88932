/**
 * Static-key identities (private clusters): create, list, delete under
 * `/iam/v1/identities`. The expiration is capped at the configured maximum
 * lifetime (30 days by default, the platform's maximum).
 */
import { authenticate, authorize } from "./auth";
import type { Reply, RequestContext, Route } from "../http/context";
import { deleteOwned } from "./deletion";
import { invalidArgument, notFound } from "../http/errors";
import { checkIssuerKeys } from "./issuer-keys";
import { identityJson } from "./model";
import type { IdentityRecord } from "../store";
import { parseTimestamp } from "../http/time";
import { newChildUidp } from "../uidp";
import { optionalObject, optionalString, queryParam, requiredString } from "../http/validate";

function readExpiration(ctx: RequestContext, staticKeys: Record<string, unknown>): number {
  const now = ctx.now.getTime();
  const latest = now + ctx.services.options.identityMaxLifetimeMs;
  const text = optionalString(staticKeys, "expiration", "static.expiration");
  if (text === undefined || text === "") return latest;
  const expiration = parseTimestamp(text);
  if (expiration === undefined) {
    throw invalidArgument(`static.expiration ${JSON.stringify(text)} is not an RFC 3339 timestamp`);
  }
  if (expiration <= now) throw invalidArgument(`static.expiration ${text} is not in the future`);
  return Math.min(expiration, latest);
}

function readIssuer(ctx: RequestContext, staticKeys: Record<string, unknown>): string {
  const issuer = requiredString(staticKeys, "issuer", "static.issuer");
  let url: URL | undefined;
  try {
    url = new URL(issuer);
  } catch {
    url = undefined;
  }
  const insecureOk = ctx.services.options.allowInsecureIssuers && url?.protocol === "http:";
  if (!url || (url.protocol !== "https:" && !insecureOk)) {
    throw invalidArgument(`static.issuer ${JSON.stringify(issuer)} must be an https URL`);
  }
  return issuer;
}

async function createIdentity(ctx: RequestContext, parent: string): Promise<Reply> {
  const principal = authenticate(ctx);
  authorize(principal, parent, "group");
  const body = await ctx.json();
  const name = requiredString(body, "name");
  const description = optionalString(body, "description") ?? "";
  const staticKeys = optionalObject(body, "static");
  if (staticKeys === undefined) {
    throw invalidArgument("static is required: {issuer, subject, issuerKeys, expiration}");
  }
  const issuer = readIssuer(ctx, staticKeys);
  const subject = requiredString(staticKeys, "subject", "static.subject");
  const issuerKeys = optionalString(staticKeys, "issuerKeys", "static.issuerKeys");
  if (issuerKeys === undefined || issuerKeys === "") {
    throw invalidArgument("static.issuerKeys is required (the cluster's JWKS as a JSON string)");
  }
  checkIssuerKeys(issuerKeys);
  const identity: IdentityRecord = {
    id: newChildUidp(parent),
    parent,
    name,
    description,
    issuer,
    subject,
    issuerKeys,
    expiration: readExpiration(ctx, staticKeys),
    created: ctx.now.getTime(),
  };
  const { store } = ctx.services;
  store.transaction(() => {
    if (!store.groups.get(parent)) throw notFound(`group ${parent} does not exist`);
    store.identities.insert(identity);
  });
  return { body: identityJson(identity) };
}

function listIdentities(ctx: RequestContext): Reply {
  const principal = authenticate(ctx);
  const id = queryParam(ctx.query, "id");
  const childrenOf = queryParam(ctx.query, "uidp.childrenOf");
  const descendantsOf = queryParam(ctx.query, "uidp.descendantsOf");
  if (id !== undefined) authorize(principal, id, "identity");
  if (childrenOf !== undefined) authorize(principal, childrenOf, "group");
  if (descendantsOf !== undefined) authorize(principal, descendantsOf, "group");
  const items = ctx.services.store.identities.list({
    scope: principal.group,
    id,
    childrenOf,
    descendantsOf,
  });
  return { body: { items: items.map(identityJson) } };
}

function deleteIdentity(ctx: RequestContext, id: string): Reply {
  return deleteOwned(ctx, id, "identity", (store) => store.identities.delete(id));
}

export const identityRoutes: Route[] = [
  { method: "GET", path: "/iam/v1/identities", handler: listIdentities },
  { method: "POST", path: "/iam/v1/identities/", prefix: true, handler: createIdentity },
  { method: "DELETE", path: "/iam/v1/identities/", prefix: true, handler: deleteIdentity },
];
