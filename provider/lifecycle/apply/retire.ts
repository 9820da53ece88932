/**
 * Step 6, retire what was superseded: the previous invite, the identities the agent no longer
 * uses (found by name too, so that one created by a call whose answer was lost is not left
 * behind), and, after a move to another platform, a report of what stays at the previous one.
 * @module
 */

import type { Identity } from "../../platform";
import type { ConnectionState } from "../state";
import { identityName } from "./identity";
import { takeoverOf } from "./install";
import type { ConnectionRun } from "./run";

/** Deletes the superseded invite and identities; reports what a platform move leaves behind. */
export async function retireSuperseded(run: ConnectionRun): Promise<void> {
  const { ctx, platform, previous } = run;
  const invite = staleInvite(run);
  if (invite) await platform.deleteInvite(invite);
  if (run.move.moved && previous) reportLeftBehind(run, previous);
  if (run.invite) {
    // Registered anew: identities named after this connection or the one it replaced, other
    // than the one in use, are unused, including one whose creation's answer was lost.
    const owners = [run.connectionId, predecessorOf(run)].filter((c): c is string => !!c);
    const identities = await platform.listIdentities({ childrenOf: run.inputs.group });
    for (const owner of owners) {
      for (const id of identitiesOf(owner, identities, run.state.identityId)) {
        run.superseded.add(id);
      }
    }
  }
  for (const id of run.superseded) {
    ctx.progress(`deleting identity ${id}, which the agent no longer uses`);
    await platform.deleteIdentity(id);
  }
}

/**
 * The invite of an earlier, unfinished registration that this run did not reuse; left alone
 * after a move, as the previous platform is out of this token's reach.
 */
export function staleInvite(run: ConnectionRun): string | undefined {
  const old = run.previous?.inviteId;
  return old && old !== run.invite?.id && !run.move.moved ? old : undefined;
}

/**
 * The connection whose installation this run took over and registered anew, whose identity it
 * deletes once the agent no longer uses it: normally that connection's delete does, but when it
 * was dropped from state (a refresh that found its registration gone) nothing else would.
 */
export function predecessorOf(run: ConnectionRun): string | undefined {
  const takeover = takeoverOf(run.installation.namespace, run.connectionId);
  return run.invite && takeover?.kind === "connection" ? takeover.connectionId : undefined;
}

/** The ids of `connectionId`'s identities (found by name) other than the one in use. */
export function identitiesOf(
  connectionId: string,
  identities: readonly Identity[],
  inUse: string,
): string[] {
  const name = identityName(connectionId);
  return identities.filter((i) => i.name === name && i.id !== inUse).map((i) => i.id);
}

/**
 * Says what stays registered at the platform the agent was moved away from: this connection's
 * token is for the new platform, so removing it there is left to the person running Pulumi.
 */
function reportLeftBehind(run: ConnectionRun, previous: ConnectionState): void {
  const held = [
    previous.clusterId && `cluster ${previous.clusterId}`,
    previous.identityId && `identity ${previous.identityId}`,
    previous.inviteId && `invite ${previous.inviteId}`,
  ].filter(Boolean);
  if (held.length === 0) return;
  run.ctx.progress(
    `the agent now reports to the platform at ${run.installedPlatform.apiUrl}; ${held.join(", ")} stay at the previous ` +
      `platform ${previous.platform.apiUrl}, which this token cannot reach: delete them there ` +
      "if they are no longer wanted",
  );
}
