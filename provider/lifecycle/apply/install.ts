/**
 * Step 4, install: apply the agent's objects labelled as this connection's. Applying them is
 * also the takeover: an installation held by another connection (the one this one replaces) or
 * made by another tool becomes this connection's, and the other connection's `delete` later
 * removes only what it still owns.
 * @module
 */

import { ManifestError } from "../../errors";
import { applyObjects } from "../../install/apply";
import { isCredentialsDrift } from "../../install/drift";
import { mayOwnIssuerBinding, type AgentNamespace } from "../../install/installation";
import {
  agentObjects,
  credentialsSecret,
  issuerBindingObject,
  objectKey,
} from "../../install/manifests";
import { AGENT_NAMESPACE } from "../../install/names";
import { ownerOf, type ConnectionRun } from "./run";

/** Whose installation a run takes over. */
export type Takeover =
  /** Another connection's (the one being replaced). */
  | { kind: "connection"; connectionId: string }
  /** One that pulumi-enforce did not make (e.g. `chainctl cluster install`). */
  | { kind: "foreign" };

/** The takeover, when the agent namespace exists and is not this connection's. */
export function takeoverOf(
  namespace: AgentNamespace | undefined,
  connectionId: string,
): Takeover | undefined {
  if (!namespace || namespace.owner === connectionId) return undefined;
  return namespace.owner === undefined
    ? { kind: "foreign" }
    : { kind: "connection", connectionId: namespace.owner };
}

/**
 * Applies the agent's objects (and the issuer binding when this connection may own it), and
 * records the agent namespace's UID (the platform's `remoteId`) and the platform installed.
 */
export async function install(run: ConnectionRun): Promise<void> {
  const { ctx, kube, inputs, state } = run;
  const takeover = takeoverOf(run.installation.namespace, run.connectionId);
  if (takeover) {
    ctx.progress(
      takeover.kind === "connection"
        ? `taking over the agent installation of connection ${takeover.connectionId}`
        : `adopting the agent installation already in the cluster (not made by pulumi-enforce)`,
    );
  }
  run.changed = true;
  const owner = ownerOf(run);
  state.ownsIssuerBinding = inputs.exposeIssuerDiscovery ? await mayOwnIssuerBinding(kube) : false;
  const objects = agentObjects({
    ...inputs,
    connectionId: run.connectionId,
    platform: run.agentPlatform,
  });
  if (state.ownsIssuerBinding) objects.push(issuerBindingObject(owner));
  ctx.progress(`applying ${objects.length} agent objects (server-side apply)`, true);
  const applied = await applyObjects(kube, objects);
  // Applied again, whatever changed outside Pulumi is restored; mcp-creds once re-registered.
  state.installationDrift = state.installationDrift.filter(isCredentialsDrift);
  const agentNamespace = applied.get(
    objectKey({ apiVersion: "v1", kind: "Namespace", metadata: { name: AGENT_NAMESPACE } }),
  );
  if (!agentNamespace)
    throw new ManifestError(`manifests: namespace ${AGENT_NAMESPACE} is missing`);
  state.remoteId = agentNamespace.metadata.uid;
  state.platform = run.installedPlatform;
  run.secret = credentialsSecret(
    {
      code: run.invite?.code ?? "",
      identityId: state.identityId,
      clusterName: inputs.clusterName,
      clusterDescription: inputs.description ?? "",
    },
    owner,
  );
  run.wanted = [...objects.map(objectKey), objectKey(run.secret)];
}
