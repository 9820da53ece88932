/**
 * Step 3, prepare the registration: when the agent registers again, move a registration of
 * another group out of the way, give a private cluster a new identity (a public one none), and
 * create the invite; otherwise only the renewal time follows the inputs.
 * @module
 */

import { MAX_INVITE_TTL_SECONDS } from "../../platform";
import type { NormalizedInputs } from "../../inputs";
import { renewalTime, type ConnectionState } from "../state";
import { clearIdentity, createIdentity } from "./identity";
import type { ConnectionRun } from "./run";

/** Prepares what the agent registers with, or refreshes the renewal time when it does not. */
export async function prepareRegistration(run: ConnectionRun): Promise<void> {
  if (!run.register) {
    refreshRenewal(run.state, run.inputs);
    return;
  }
  await unregisterElsewhere(run);
  if (run.state.connectivity === "private") {
    run.changed = true;
    await createIdentity(run);
  } else {
    clearIdentity(run.state);
  }
  const superseded = supersededIdentity(run.previous, run.state.identityId, run.move.moved);
  if (superseded) run.superseded.add(superseded);
  run.changed = true;
  const created = await run.platform.createInvite(run.inputs.group, {
    ttlSeconds: inviteTtl(run.inputs),
  });
  run.invite = { id: created.id, code: created.code };
  run.state.inviteId = created.id;
}

/**
 * Unregisters this installation's registration in another group (a pulumi-enforce installation
 * whose group changed): the agent stays installed and registers in the new group.
 */
async function unregisterElsewhere(run: ConnectionRun): Promise<void> {
  const { elsewhere } = run.installation;
  if (!elsewhere) return;
  run.ctx.progress(
    `moving cluster registration ${elsewhere.id} from group ${elsewhere.group} to ${run.inputs.group}: ` +
      "unregistering it there first (the agent stays installed and keeps enforcing)",
  );
  run.changed = true;
  await run.platform.deleteCluster(elsewhere.id);
}

/**
 * The previous identity, once the agent registers with another one (or none, when public):
 * superseded, unless the platform moved, whose token cannot reach the previous platform's.
 */
export function supersededIdentity(
  previous: ConnectionState | undefined,
  identityId: string,
  moved: boolean,
): string | undefined {
  const old = previous?.identityId;
  return old && old !== identityId && !moved ? old : undefined;
}

/** Without a new identity, a private connection's renewal follows the `renewAfter` input. */
function refreshRenewal(state: ConnectionState, inputs: NormalizedInputs): void {
  if (state.connectivity !== "private" || !state.identityCreatedAt) return;
  state.renewAt = renewalTime(
    state.identityCreatedAt,
    inputs.renewAfterSeconds,
    state.identityExpiresAt,
  );
}

/** Invite lifetime: the registration timeout plus a margin, within the platform's limits. */
export function inviteTtl(inputs: NormalizedInputs): number {
  return Math.min(MAX_INVITE_TTL_SECONDS, Math.max(900, inputs.registrationTimeoutSeconds + 600));
}
