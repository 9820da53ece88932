/**
 * The tenant area: registered clusters. They are created by the agent's
 * registration (issuer area); here they are listed, updated and deleted.
 */
import { authenticate, authorize } from "./auth";
import type { Reply, RequestContext, Route } from "../http/context";
import { deleteOwned } from "./deletion";
import { invalidArgument, notFound } from "../http/errors";
import { clusterJson, readEnforcerOptions, readProfiles } from "./model";
import { parseTimestamp } from "../http/time";
import { optionalString, queryParam } from "../http/validate";

function listClusters(ctx: RequestContext): Reply {
  const principal = authenticate(ctx);
  const q = (name: string): string | undefined => queryParam(ctx.query, name);
  const id = q("id");
  const childrenOf = q("uidp.childrenOf");
  const descendantsOf = q("uidp.descendantsOf");
  if (id !== undefined) authorize(principal, id, "cluster");
  if (childrenOf !== undefined) authorize(principal, childrenOf, "group");
  if (descendantsOf !== undefined) authorize(principal, descendantsOf, "group");
  const activeSinceText = q("activeSince");
  const activeSince = activeSinceText === undefined ? undefined : parseTimestamp(activeSinceText);
  if (activeSinceText !== undefined && activeSince === undefined) {
    throw invalidArgument(
      `activeSince ${JSON.stringify(activeSinceText)} is not an RFC 3339 timestamp`,
    );
  }
  const items = ctx.services.store.clusters.list({
    scope: principal.group,
    id,
    remoteId: q("remoteId"),
    name: q("name"),
    childrenOf,
    descendantsOf,
    activeSince,
  });
  return { body: { items: items.map(clusterJson) } };
}

/** `PUT` may change name, description, profiles and enforcerOptions; other fields are ignored. */
async function updateCluster(ctx: RequestContext, id: string): Promise<Reply> {
  const principal = authenticate(ctx);
  authorize(principal, id, "cluster");
  const body = await ctx.json();
  const bodyId = optionalString(body, "id");
  if (bodyId !== undefined && bodyId !== "" && bodyId !== id) {
    throw invalidArgument(`the body's id ${bodyId} differs from the id ${id} in the path`);
  }
  const name = optionalString(body, "name");
  if (name === "") throw invalidArgument("name may not be empty");
  const description = optionalString(body, "description");
  const profiles = readProfiles(body);
  const { store } = ctx.services;
  const updated = store.transaction(() => {
    const cluster = store.clusters.get(id);
    if (!cluster) throw notFound(`cluster ${id} does not exist`);
    const next = {
      ...cluster,
      name: name ?? cluster.name,
      description: description ?? cluster.description,
      profiles: profiles ?? cluster.profiles,
      enforcerOptions: readEnforcerOptions(body, cluster.enforcerOptions),
    };
    store.clusters.update(next);
    return next;
  });
  return { body: clusterJson(updated) };
}

function deleteCluster(ctx: RequestContext, id: string): Reply {
  return deleteOwned(ctx, id, "cluster", (store) => store.clusters.delete(id));
}

export const tenantRoutes: Route[] = [
  { method: "GET", path: "/tenant/v1/clusters", handler: listClusters },
  { method: "PUT", path: "/tenant/v1/clusters/", prefix: true, handler: updateCluster },
  { method: "DELETE", path: "/tenant/v1/clusters/", prefix: true, handler: deleteCluster },
];
