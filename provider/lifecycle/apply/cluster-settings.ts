/**
 * Step 7, apply the settings: name, description, profiles and enforcer options on the
 * platform's cluster record, updated only when they differ.
 * @module
 */

import { RegistrationLostError } from "../../errors";
import type { Cluster } from "../../platform";
import { withSettings } from "../cluster-record";
import type { ConnectionRun } from "./run";

/** Puts the inputs' settings on the cluster record; records when the agent registered. */
export async function applySettings(run: ConnectionRun): Promise<void> {
  const { ctx, platform, state, inputs } = run;
  const [cluster] = await platform.listClusters({ id: state.clusterId });
  if (!cluster) {
    throw new RegistrationLostError(state.clusterId);
  }
  const next = withSettings(cluster, {
    clusterName: inputs.clusterName,
    description: inputs.description ?? "",
    profiles: inputs.profiles,
    enforcerOptions: inputs.enforcerOptions,
  });
  let result: Cluster = cluster;
  if (next) {
    ctx.progress(`updating the settings of cluster ${cluster.id} in Enforce`);
    result = await platform.updateCluster(next);
  }
  state.registeredAt = result.registered;
}
