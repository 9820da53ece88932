/**
 * What `pulumi-enforce uninstall` would remove, read without changing anything: the objects
 * labelled as this package's (any connection's), an installation of the agent it did not make,
 * and the registration in Enforce, found by the agent namespace's UID (the cluster's
 * `remoteId`) and the connection ids the labels name.
 * @module
 */

import { findForeignObjects } from "../../install/foreign";
import { readAgentNamespace, type AgentNamespace } from "../../install/installation";
import { CONNECTION_LABEL, MANAGED_SELECTOR } from "../../install/ownership";
import { listObjects, type FoundObject } from "../../install/uninstall";
import type { KubeClient } from "../../kube/client";
import type { Cluster, Identity, PlatformClient } from "../../platform";
import { identityName } from "../apply/identity";

/** What is in the cluster. */
export interface ClusterPlan {
  /** Objects labelled `app.kubernetes.io/managed-by=pulumi-enforce`. */
  owned: FoundObject[];
  /** The agent's objects without that label: another tool's installation. */
  foreign: FoundObject[];
  /** The agent's namespace, when it exists. */
  namespace: AgentNamespace | undefined;
  /** The connection ids the owned objects' labels name, sorted. */
  connectionIds: string[];
}

/** Reads what an uninstall would remove from the cluster. */
export async function planCluster(kube: KubeClient): Promise<ClusterPlan> {
  const [owned, foreign, namespace] = await Promise.all([
    listObjects(kube, MANAGED_SELECTOR),
    findForeignObjects(kube),
    readAgentNamespace(kube),
  ]);
  const ids = owned.map((o) => o.metadata.labels?.[CONNECTION_LABEL]);
  const connectionIds = [...new Set(ids.filter((id): id is string => !!id))].sort();
  return { owned, foreign, namespace, connectionIds };
}

/** What Enforce holds for the installation. */
export interface Registrations {
  clusters: Cluster[];
  identities: Identity[];
}

/** Ids given on the command line, for what the cluster no longer names (a rerun). */
export interface GivenIds {
  clusterIds: string[];
  identityIds: string[];
}

/**
 * The registrations to remove: clusters whose `remoteId` is the UID of the agent namespace
 * (when this package made it, or `foreign` is set), the connections' identities
 * (`pulumi-enforce-<connection id>`), and the ids given.
 */
export async function findRegistrations(
  platform: PlatformClient,
  plan: ClusterPlan,
  given: GivenIds,
  foreign: boolean,
): Promise<Registrations> {
  const ns = plan.namespace;
  const byRemoteId =
    ns && (ns.owner !== undefined || foreign)
      ? await platform.listClusters({ remoteId: ns.uid })
      : [];
  const byId = await Promise.all(given.clusterIds.map((id) => platform.listClusters({ id })));
  const names = new Set(plan.connectionIds.map(identityName));
  const wanted = (i: Identity) => names.has(i.name) || given.identityIds.includes(i.id);
  const identities =
    names.size > 0 || given.identityIds.length > 0
      ? (await platform.listIdentities()).filter(wanted)
      : [];
  return {
    clusters: uniqueById([...byRemoteId, ...byId.flat()]),
    identities: uniqueById(identities),
  };
}

function uniqueById<T extends { id: string }>(items: T[]): T[] {
  return [...new Map(items.map((i) => [i.id, i])).values()];
}
