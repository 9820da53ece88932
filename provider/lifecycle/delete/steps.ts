/**
 * The steps of `delete` over one {@link DeletionRun}: find whether a replacement took the
 * installation over, uninstall what this connection owns, unregister the cluster (unless the
 * replacement holds it), and delete the identity and invite (and any identity named after the
 * connection that a lost answer kept out of its state).
 * @module
 */

import { KubeError, KubeUnreachableError } from "../../kube/errors";
import type { KubeClient } from "../../kube/client";
import type { PlatformClient } from "../../platform";
import { readAgentNamespace, type AgentNamespace } from "../../install/installation";
import { AGENT_NAMESPACE } from "../../install/names";
import { ownedSelector } from "../../install/ownership";
import { deleteObjects, listObjects } from "../../install/uninstall";
import { assertNoWebhooksInto } from "../../install/webhooks";
import type { LifecycleContext } from "../context";
import type { ConnectionState } from "../state";
import { identitiesOf } from "../apply/retire";

/** One `delete` in progress. */
export interface DeletionRun {
  readonly ctx: LifecycleContext;
  /** The stored state of the connection being deleted. */
  readonly state: ConnectionState;
  readonly platform: PlatformClient;
  /** The cluster's client, once connected. */
  kube?: KubeClient;
}

/**
 * The cluster part of a delete: uninstalls this connection's objects, proves no webhook is left
 * calling into the agent's namespace, then unregisters the cluster unless a replacement took the
 * installation over.
 */
export async function uninstall(run: DeletionRun): Promise<void> {
  const { ctx, state } = run;
  const kube = await ctx.connect({ kubeconfig: state.kubeconfig, context: state.context });
  run.kube = kube;
  const replacement = replacementOf(await readAgentNamespace(kube), state);
  await uninstallOwned(run, kube);
  await proveNoWebhookLeft(kube);
  await unregisterCluster(run, replacement);
}

/**
 * Once the agent's namespace is gone, proves that no webhook configuration (ours or anyone's)
 * still calls a Service in it. While the namespace exists, another installation holds it (a
 * replacement, or one made since), and its webhooks have their backend.
 */
async function proveNoWebhookLeft(kube: KubeClient): Promise<void> {
  if (await readAgentNamespace(kube)) return;
  await assertNoWebhooksInto(kube, AGENT_NAMESPACE);
}

/**
 * The connection that took the installation over, if any: the registration is this
 * connection's unless the same installation (same namespace UID) now belongs to another one.
 */
export function replacementOf(
  namespace: AgentNamespace | undefined,
  state: ConnectionState,
): string | undefined {
  if (!namespace || namespace.uid !== state.remoteId) return undefined;
  const owner = namespace.owner;
  return owner !== undefined && owner !== state.connectionId ? owner : undefined;
}

/** Deletes every object labelled as this connection's, webhook configurations first. */
async function uninstallOwned(run: DeletionRun, kube: KubeClient): Promise<void> {
  const { ctx, state } = run;
  const owned = await listObjects(kube, ownedSelector(state.connectionId));
  if (owned.length === 0) return;
  ctx.progress(`uninstalling ${owned.length} objects of connection ${state.connectionId}`, true);
  await deleteObjects(kube, owned, { progress: ctx.progress });
}

/** Unregisters the cluster, or leaves it to the `replacement` that took it over. */
export async function unregisterCluster(
  run: DeletionRun,
  replacement: string | undefined,
): Promise<void> {
  const { ctx, state } = run;
  if (replacement) {
    ctx.progress(
      `connection ${replacement} has taken over the agent installation: leaving it and cluster ${state.clusterId} registered`,
    );
  } else if (state.clusterId) {
    ctx.progress(`unregistering cluster ${state.clusterId} from Enforce`);
    await run.platform.deleteCluster(state.clusterId);
  }
}

/**
 * Deletes the connection's identity and invite (a replacement has its own), and any other
 * identity named after the connection: one whose creation took effect on the platform but whose
 * answer was lost (a dropped connection, a 500) is in no state, and nothing else would find it.
 */
export async function deleteCredentials(run: DeletionRun): Promise<void> {
  const { ctx, platform, state } = run;
  if (state.identityId) await platform.deleteIdentity(state.identityId);
  const identities = await platform.listIdentities({ childrenOf: state.group });
  for (const id of identitiesOf(state.connectionId, identities, state.identityId)) {
    ctx.progress(
      `deleting identity ${id}, created for this connection by a call whose answer was lost`,
    );
    await platform.deleteIdentity(id);
  }
  if (state.inviteId) await platform.deleteInvite(state.inviteId);
}

/**
 * Whether a failure of the cluster part means the cluster is out of reach: a network failure,
 * or any Kubernetes error before a client was made (e.g. a kubeconfig that no longer loads).
 */
export function isUnreachable(err: unknown, connected: boolean): boolean {
  return err instanceof KubeUnreachableError || (err instanceof KubeError && !connected);
}
