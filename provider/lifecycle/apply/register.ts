/**
 * Step 5, await the registration: with an invite, write the agent's credentials and wait until
 * the agent registered with them; the invite is deleted once used.
 * @module
 */

import { applyObjects } from "../../install/apply";
import { waitForRegistration } from "../../install/registration";
import type { ConnectionRun } from "./run";

/** Writes the credentials Secret and waits for the registration, when this run registers. */
export async function awaitRegistration(run: ConnectionRun): Promise<void> {
  const { ctx, platform, kube, inputs, state, invite, secret } = run;
  if (!invite || !secret) return;
  const before = (await platform.listClusters({ remoteId: state.remoteId })).find(
    (c) => c.group === inputs.group,
  );
  const since = ctx.now();
  await applyObjects(kube, [secret]);
  const cluster = await waitForRegistration({
    platform,
    kube,
    clusterName: inputs.clusterName,
    group: inputs.group,
    remoteId: state.remoteId,
    identityId: state.identityId,
    previousRegistered: before?.registered,
    since,
    timeoutMs: inputs.registrationTimeoutSeconds * 1000,
    progress: ctx.progress,
    pollMs: ctx.registrationPollMs,
    progressEveryMs: ctx.progressEveryMs,
    now: () => ctx.now().getTime(),
  });
  state.clusterId = cluster.id;
  state.registeredAt = cluster.registered;
  // mcp-creds holds what the agent registered with: whatever drift it had is gone.
  state.installationDrift = [];
  await platform.deleteInvite(invite.id);
  state.inviteId = "";
}
