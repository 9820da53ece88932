/**
 * Reading who holds an installation: the agent namespace (its UID is the platform's
 * `remoteId`, its labels name the owning connection) and the issuer-discovery binding.
 * @module
 */

import type { KubeClient } from "../kube/client";
import { applyObjects } from "./apply";
import { issuerBindingObject } from "./manifests";
import { AGENT_NAMESPACE, ISSUER_BINDING } from "./names";
import { ownerOf } from "./ownership";

/** The agent namespace as ownership cares about it. */
export interface AgentNamespace {
  uid: string;
  /** The owning connection's id; undefined when not installed by this package. */
  owner: string | undefined;
  terminating: boolean;
}

interface ObjectMeta {
  metadata: { uid: string; labels?: Record<string, string>; deletionTimestamp?: string };
}

/** The `gulfstream` Namespace, or undefined when it does not exist. */
export async function readAgentNamespace(kube: KubeClient): Promise<AgentNamespace | undefined> {
  const res = await kube.get<ObjectMeta>(`/api/v1/namespaces/${AGENT_NAMESPACE}`, {
    accept: [404],
  });
  if (res.status === 404) return undefined;
  return {
    uid: res.body.metadata.uid,
    owner: ownerOf(res.body.metadata),
    terminating: Boolean(res.body.metadata.deletionTimestamp),
  };
}

/**
 * Makes sure ClusterRoleBinding `public-issuer-discovery` exists. Creates it (owned by this
 * connection) when absent, takes it over from an earlier connection, and leaves a binding of
 * the same name that someone else made alone. Resolves with whether this connection owns it.
 */
export async function claimIssuerBinding(
  kube: KubeClient,
  owner: { connectionId: string; clusterName: string },
): Promise<boolean> {
  const res = await kube.get<ObjectMeta>(
    `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${ISSUER_BINDING}`,
    { accept: [404] },
  );
  if (res.status !== 404 && ownerOf(res.body.metadata) === undefined) return false;
  await applyObjects(kube, [issuerBindingObject(owner)]);
  return true;
}
