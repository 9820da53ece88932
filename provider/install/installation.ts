/**
 * Reading who holds an installation in the cluster: the agent namespace (its UID is the
 * platform's `remoteId`, its labels name the owning connection) and the issuer-discovery
 * binding. Reads only; applying is `./apply`'s.
 * @module
 */

import type { KubeClient } from "../kube/client";
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
 * Whether a connection may own ClusterRoleBinding `public-issuer-discovery`: when it is absent
 * (the connection creates it) or made by a connection (an earlier one, whose binding this one
 * takes over), not when someone else made a binding of that name, which is left alone. The
 * binding itself is applied with the agent's objects.
 */
export async function mayOwnIssuerBinding(kube: KubeClient): Promise<boolean> {
  const res = await kube.get<ObjectMeta>(
    `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${ISSUER_BINDING}`,
    { accept: [404] },
  );
  return res.status === 404 || ownerOf(res.body.metadata) !== undefined;
}
