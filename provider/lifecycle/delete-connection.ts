/**
 * `delete`: uninstall what this connection still owns and unregister it. Webhook
 * configurations go first (see `../install/uninstall`). When a replacement took the
 * installation over, only this connection's own leftovers, identity and invite are removed:
 * the agent and its registration stay. The steps are in `./delete/steps`.
 * @module
 */

import { ClusterUnreachableError } from "../errors";
import type { LifecycleContext } from "./context";
import { deleteCredentials, isUnreachable, uninstall, type DeletionRun } from "./delete/steps";
import { registrationIdsOf, type ConnectionState } from "./state";

/** Deletes a connection; tolerates everything already gone. */
export async function deleteConnection(
  ctx: LifecycleContext,
  state: ConnectionState,
): Promise<void> {
  const run: DeletionRun = { ctx, state, platform: ctx.platform() };
  try {
    await uninstall(run).catch((err: unknown) => {
      throw isUnreachable(err, run.kube !== undefined) ? unreachable(state, err as Error) : err;
    });
    await deleteCredentials(run);
  } finally {
    run.kube?.close();
    await run.platform.close();
  }
}

function unreachable(state: ConnectionState, cause: Error): ClusterUnreachableError {
  const registered = state.clusterId
    ? ` and unregister cluster ${state.clusterId}${state.identityId ? ` and identity ${state.identityId}` : ""} in Enforce`
    : "";
  const fix =
    "make the cluster reachable (a current kubeconfig and credentials) and run `pulumi destroy` " +
    "again. If the cluster no longer exists, there is nothing left to uninstall in it: remove the " +
    `connection from the stack with \`pulumi state delete <urn>\`${registered}.`;
  return new ClusterUnreachableError(
    `cannot uninstall the Enforce agent from cluster "${state.clusterName}": ${cause.message} ` +
      `The connection stays in the stack. Fix: ${fix}`,
    { cause, fix, ...registrationIdsOf(state) },
  );
}
