/**
 * `read` (refresh): what became of the connection. When the agent namespace or the platform
 * registration is gone, the connection is reported missing (an empty id), so the next
 * `pulumi up` creates it again; otherwise the registration's fields are refreshed from the
 * platform, and the agent's objects are compared with what was applied (`installationDrift`, see
 * `./read-drift`). The signing key ids are not refreshed: state keeps those the connection was
 * applied with, so that a preview shows a rotation as old and new key ids.
 * @module
 */

import { ClusterUnreachableError } from "../errors";
import { KubeError } from "../kube/errors";
import type { KubeClient } from "../kube/client";
import type { Cluster } from "../platform";
import { readAgentNamespace } from "../install/installation";
import { AGENT_NAMESPACE } from "../install/names";
import type { LifecycleContext } from "./context";
import { settingsOf } from "./cluster-record";
import { detectDrift } from "./read-drift";
import { registrationIdsOf, type ConnectionState } from "./state";

/** Refreshed state, or `undefined` when the connection no longer exists. */
export async function readConnection(
  ctx: LifecycleContext,
  state: ConnectionState,
): Promise<ConnectionState | undefined> {
  // A connection whose creation did not finish has nothing registered to compare with yet.
  if (!state.clusterId) return state;
  const platform = ctx.platform();
  let kube: KubeClient | undefined;
  try {
    kube = await connect(ctx, state);
    if (!(await agentNamespaceStands(ctx, kube, state))) return undefined;
    if (registeredElsewhere(ctx, state)) return state;
    const [cluster] = await platform.listClusters({ id: state.clusterId });
    if (!registrationStands(ctx, state, cluster)) return undefined;
    return await refresh(ctx, kube, state, cluster);
  } finally {
    kube?.close();
    await platform.close();
  }
}

/** A client of the connection's cluster. @throws ClusterUnreachableError if it cannot connect. */
async function connect(ctx: LifecycleContext, state: ConnectionState): Promise<KubeClient> {
  try {
    return await ctx.connect({ kubeconfig: state.kubeconfig, context: state.context });
  } catch (err) {
    throw unreachable(state, err as Error);
  }
}

/**
 * Whether the agent's namespace is still the one this connection created (same UID) and not
 * being deleted; when not, says so: the connection is reported deleted.
 * @throws ClusterUnreachableError if the cluster cannot be read.
 */
async function agentNamespaceStands(
  ctx: LifecycleContext,
  kube: KubeClient,
  state: ConnectionState,
): Promise<boolean> {
  const namespace = await readAgentNamespace(kube).catch((err: Error) => {
    throw err instanceof KubeError ? unreachable(state, err) : err;
  });
  if (namespace && namespace.uid === state.remoteId && !namespace.terminating) return true;
  ctx.progress(
    `the agent's namespace ${AGENT_NAMESPACE} ${namespace ? "was replaced or is being deleted" : "is gone"}: ` +
      `reporting connection "${state.clusterName}" as deleted; \`pulumi up\` installs it again. ` +
      `Its old registration, cluster ${state.clusterId}, is left in Enforce: delete it there once the new one is up.`,
  );
  return false;
}

/**
 * Whether the connection is registered at a platform other than the one configured now (its
 * settings changed since): this platform cannot see that registration, so the state is kept as
 * it is, and the next `up` moves the agent here.
 */
function registeredElsewhere(ctx: LifecycleContext, state: ConnectionState): boolean {
  const configured = ctx.agentPlatform().apiUrl;
  if (!state.platform.apiUrl || state.platform.apiUrl === configured) return false;
  ctx.progress(
    `connection "${state.clusterName}" is registered at ${state.platform.apiUrl}, not at the ` +
      `configured platform ${configured}: keeping it as it is; \`pulumi up\` moves the agent there`,
  );
  return true;
}

/**
 * Whether the platform still lists the connection's cluster, for the same agent namespace; when
 * not, says so: the connection is reported deleted.
 */
function registrationStands(
  ctx: LifecycleContext,
  state: ConnectionState,
  cluster: Cluster | undefined,
): cluster is Cluster {
  if (cluster && cluster.remoteId === state.remoteId) return true;
  ctx.progress(
    `cluster ${state.clusterId} is no longer registered with Enforce: reporting connection ` +
      `"${state.clusterName}" as deleted; \`pulumi up\` registers it again (the agent stays installed meanwhile)`,
  );
  return false;
}

/**
 * The state with what may have changed outside Pulumi read back: the registration's settings
 * from the platform, the drift of the agent's objects (kept when it cannot be told).
 */
async function refresh(
  ctx: LifecycleContext,
  kube: KubeClient,
  state: ConnectionState,
  cluster: Cluster,
): Promise<ConnectionState> {
  const drift = await detectDrift(ctx, kube, state).catch((err: Error) => {
    throw err instanceof KubeError ? unreachable(state, err) : err;
  });
  const settings = settingsOf(cluster);
  const refreshed: ConnectionState = {
    ...state,
    installationDrift: drift ?? state.installationDrift,
    registeredAt: cluster.registered,
    clusterName: settings.clusterName,
    profiles: settings.profiles,
    enforcerOptions: settings.enforcerOptions,
  };
  if (settings.description || state.description !== undefined) {
    refreshed.description = settings.description;
  }
  return refreshed;
}

function unreachable(state: ConnectionState, cause: Error): ClusterUnreachableError {
  const fix = "make the cluster reachable and refresh again; the stored state is unchanged.";
  return new ClusterUnreachableError(
    `cannot refresh connection "${state.clusterName}": ${cause.message} Fix: ${fix}`,
    { cause, fix, ...registrationIdsOf(state) },
  );
}
