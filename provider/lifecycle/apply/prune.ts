/**
 * Step 8, prune: delete whatever this connection owns in the cluster that the inputs no longer
 * ask for (e.g. webhooks after a switch to the observer profile, the issuer binding once
 * `exposeIssuerDiscovery` is off).
 * @module
 */

import { ownedSelector } from "../../install/ownership";
import { deleteObjects, listObjects, notIn } from "../../install/uninstall";
import type { ConnectionRun } from "./run";

/** Deletes the connection's objects whose keys are not in `run.wanted`. */
export async function pruneLeftovers(run: ConnectionRun): Promise<void> {
  const { kube, ctx } = run;
  const stale = notIn(await listObjects(kube, ownedSelector(run.connectionId)), run.wanted);
  if (stale.length > 0) await deleteObjects(kube, stale, { progress: ctx.progress });
}
