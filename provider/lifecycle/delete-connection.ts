/**
 * `delete`: uninstall what this connection still owns and unregister it. Webhook
 * configurations go first (see `../install/uninstall`). When a replacement took the
 * installation over, only this connection's own leftovers, identity and invite are removed:
 * the agent and its registration stay.
 * @module
 */

import { ClusterUnreachableError } from "../errors";
import { KubeError, KubeUnreachableError } from "../kube/errors";
import type { KubeClient } from "../kube/client";
import { readAgentNamespace } from "../install/cluster-state";
import { ownedSelector } from "../install/ownership";
import { deleteObjects, listObjects } from "../install/uninstall";
import type { LifecycleContext } from "./context";
import type { ConnectionState } from "./state";

/** Deletes a connection; tolerates everything already gone. */
export async function deleteConnection(
  ctx: LifecycleContext,
  state: ConnectionState,
): Promise<void> {
  const platform = ctx.platform();
  let kube: KubeClient | undefined;
  try {
    try {
      kube = await ctx.connect({ kubeconfig: state.kubeconfig, context: state.context });
      const namespace = await readAgentNamespace(kube);
      // The registration is this connection's unless the same installation (same namespace UID)
      // now belongs to another connection: its replacement.
      const replaced =
        namespace !== undefined &&
        namespace.uid === state.remoteId &&
        namespace.owner !== undefined &&
        namespace.owner !== state.connectionId;
      const owned = await listObjects(kube, ownedSelector(state.connectionId));
      if (owned.length > 0) {
        ctx.progress(
          `uninstalling ${owned.length} objects of connection ${state.connectionId}`,
          true,
        );
        await deleteObjects(kube, owned, { progress: ctx.progress });
      }
      if (replaced) {
        ctx.progress(
          `connection ${namespace.owner} has taken over the agent installation: leaving it and cluster ${state.clusterId} registered`,
        );
      } else if (state.clusterId) {
        ctx.progress(`unregistering cluster ${state.clusterId} from Enforce`);
        await platform.deleteCluster(state.clusterId);
      }
    } catch (err) {
      if (err instanceof KubeUnreachableError || (err instanceof KubeError && !kube)) {
        throw unreachable(state, err);
      }
      throw err;
    }
    if (state.identityId) await platform.deleteIdentity(state.identityId);
    if (state.inviteId) await platform.deleteInvite(state.inviteId);
  } finally {
    kube?.close();
    await platform.close();
  }
}

function unreachable(state: ConnectionState, cause: Error): ClusterUnreachableError {
  const registered = state.clusterId
    ? ` and unregister cluster ${state.clusterId}${state.identityId ? ` and identity ${state.identityId}` : ""} in Enforce`
    : "";
  return new ClusterUnreachableError(
    `cannot uninstall the Enforce agent from cluster "${state.clusterName}": ${cause.message} ` +
      "The connection stays in the stack. Fix: make the cluster reachable " +
      "(a current kubeconfig and credentials) and run `pulumi destroy` again. If the cluster no longer " +
      "exists, there is nothing left to uninstall in it: remove the connection from the stack with " +
      `\`pulumi state delete <urn>\`${registered}.`,
    { cause },
  );
}
