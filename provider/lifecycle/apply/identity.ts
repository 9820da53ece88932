/**
 * The static-key identity a private connection's agent registers with: created from the
 * cluster's JWKS, named after the connection so that a later connection can find it.
 * @module
 */

import { verifyKeysToUpload } from "../../checks/cluster-checks";
import { KeysUnreadableError, PrerequisiteError } from "../../errors";
import { AGENT_SUBJECT } from "../../install/names";
import { renewalTime, rfc3339, type ConnectionState } from "../state";
import type { ConnectionRun } from "./run";

/** The platform's maximum lifetime of a static-key identity; it caps longer requests itself. */
const IDENTITY_LIFETIME_MS = 30 * 24 * 3600 * 1000;

/** The name of a connection's identity, by which a later connection finds it. */
export function identityName(connectionId: string): string {
  return `pulumi-enforce-${connectionId}`;
}

/**
 * Uploads the cluster's discovery document and JWKS as a static-key identity, after verifying
 * once more that the JWKS verifies the token the cluster issues.
 */
export async function createIdentity(run: ConnectionRun): Promise<void> {
  const { ctx, inputs, state, facts } = run;
  const jwks = facts?.jwks;
  if (!facts || !jwks) throw new KeysUnreadableError(state.issuer);
  const mismatch = await verifyKeysToUpload(facts);
  if (mismatch) throw new PrerequisiteError([mismatch]);
  const now = ctx.now();
  const identity = await run.platform.createIdentity(inputs.group, {
    name: identityName(state.connectionId),
    description: `Agent of cluster "${inputs.clusterName}" (pulumi-enforce connection ${state.connectionId})`,
    issuer: state.issuer,
    subject: AGENT_SUBJECT,
    issuerKeys: jwks,
    expiration: new Date(now.getTime() + IDENTITY_LIFETIME_MS),
  });
  state.identityId = identity.id;
  state.uploadedKeyIds = [...state.signingKeyIds];
  state.identityCreatedAt = rfc3339(now);
  state.identityExpiresAt =
    identity.static?.expiration ?? rfc3339(now.getTime() + IDENTITY_LIFETIME_MS);
  state.renewAt = renewalTime(
    state.identityCreatedAt,
    inputs.renewAfterSeconds,
    state.identityExpiresAt,
  );
  ctx.progress(
    `uploaded the cluster's signing keys (${state.signingKeyIds.join(", ")}), which verify the ` +
      `token it issues now (key ${facts.activeKeyId}), as identity ${identity.id}; renewal due ${state.renewAt}`,
  );
}

/** A public connection has no identity: the platform verifies its tokens anonymously. */
export function clearIdentity(state: ConnectionState): void {
  Object.assign(state, {
    identityId: "",
    identityCreatedAt: "",
    identityExpiresAt: "",
    renewAt: "",
    uploadedKeyIds: [],
  });
}
