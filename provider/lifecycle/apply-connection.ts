/**
 * `create` and `update`: bring the cluster and the platform in line with a connection's inputs.
 * One routine for both, because an update also finishes a create that failed half-way.
 *
 * Registration (invite, private identity, `mcp-creds`, waiting for the agent) happens when the
 * connection is new, when an earlier attempt did not finish, or when the platform lost the
 * registration; otherwise an update re-applies the manifests and the platform settings only.
 * A new connection takes over an existing installation (the replacement case): it re-labels
 * every object it applies, so the connection it replaces later deletes only what it still owns.
 *
 * Each phase is a step of its own under `./apply/`, over one {@link ConnectionRun}.
 * @module
 */

import type { LifecycleContext } from "./context";
import type { ConnectionState } from "./state";
import { applySettings } from "./apply/cluster-settings";
import { install } from "./apply/install";
import { locateInstallation } from "./apply/locate";
import { observeCluster } from "./apply/observe";
import { prepareRegistration } from "./apply/prepare";
import { pruneLeftovers } from "./apply/prune";
import { awaitRegistration } from "./apply/register";
import { retireSuperseded } from "./apply/retire";
import {
  partialFailure,
  startRun,
  type ApplyRequest,
  type ApplyStep,
  type ConnectionRun,
} from "./apply/run";

export type { ApplyRequest, ApplyStep, ConnectionRun };
export { identityName } from "./apply/identity";

/** The steps of an apply, in order. */
export const APPLY_STEPS: readonly ApplyStep[] = [
  observeCluster,
  locateInstallation,
  prepareRegistration,
  install,
  awaitRegistration,
  retireSuperseded,
  applySettings,
  pruneLeftovers,
];

/**
 * Applies a connection and resolves with its complete state. Failures before anything changed
 * reject with the cause as is; later ones with a `PartialFailureError` carrying the state
 * reached, so the engine keeps the resource and the next `up` (or `destroy`) can finish.
 * `steps` are {@link APPLY_STEPS} but for tests.
 */
export async function applyConnection(
  ctx: LifecycleContext,
  req: ApplyRequest,
  steps: readonly ApplyStep[] = APPLY_STEPS,
): Promise<ConnectionState> {
  const platform = ctx.platform();
  let run: ConnectionRun | undefined;
  try {
    run = await startRun(ctx, req, platform);
    for (const step of steps) await step(run);
    return run.state;
  } catch (err) {
    throw partialFailure(run, err);
  } finally {
    run?.kube.close();
    await platform.close();
  }
}
