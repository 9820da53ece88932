/**
 * Step 2, locate the installation: who holds the agent namespace, where the platform has it
 * registered, and from that whether the agent registers again in this run.
 * @module
 */

import { NamespaceTerminatingError, RegisteredElsewhereError } from "../../errors";
import type { Cluster } from "../../platform";
import { readAgentNamespace } from "../../install/installation";
import { isCredentialsDrift } from "../../install/drift";
import { AGENT_NAMESPACE, CREDS_SECRET } from "../../install/names";
import type { ConnectionState } from "../state";
import type { ConnectionRun, Installation } from "./run";

/**
 * Reads the agent namespace and its registrations, decides {@link mustRegister}, and refuses an
 * installation that another tool registered in another group, or a namespace being deleted.
 */
export async function locateInstallation(run: ConnectionRun): Promise<void> {
  const namespace = await readAgentNamespace(run.kube);
  const registrations = namespace
    ? await run.platform.listClusters({ remoteId: namespace.uid })
    : [];
  const found = installationOf(namespace, registrations, run.inputs.group);
  run.installation = found;
  run.register = mustRegister(run.previous, found, run.move.changed);
  if (run.register && credentialsDrifted(run.previous)) {
    run.ctx.progress(
      `Secret ${AGENT_NAMESPACE}/${CREDS_SECRET} was changed outside Pulumi and its invite code ` +
        "was used once and not kept: the agent registers again with a new invite, to restore it",
    );
  }
  const foreign = foreignRegistration(found, run.register);
  if (foreign) throw registeredElsewhere(found, foreign);
  if (namespace?.terminating) {
    throw new NamespaceTerminatingError(AGENT_NAMESPACE);
  }
}

/** The namespace with its registration in `group` and one in another group, if any. */
export function installationOf(
  namespace: Installation["namespace"],
  registrations: readonly Cluster[],
  group: string,
): Installation {
  return {
    namespace,
    current: registrations.find((c) => c.group === group),
    elsewhere: registrations.find((c) => c.group !== group),
  };
}

/**
 * Whether the agent registers (again): when the connection is new or an earlier attempt did not
 * finish (no cluster id), when the platform lost or moved the registration, when the agent
 * namespace is not the one registered, when the agent is told of another platform, or when a
 * refresh found Secret `mcp-creds` changed (only a new invite restores it).
 */
export function mustRegister(
  previous: ConnectionState | undefined,
  found: Installation,
  platformChanged: boolean,
): boolean {
  return (
    platformChanged ||
    credentialsDrifted(previous) ||
    !previous?.clusterId ||
    found.current?.id !== previous.clusterId ||
    found.namespace?.uid !== previous.remoteId
  );
}

/**
 * The registration in another group that blocks registering: one made by an installation that
 * pulumi-enforce did not make (its namespace has no owner). A pulumi-enforce installation's
 * registration elsewhere is moved instead (see `prepareRegistration`).
 */
export function foreignRegistration(found: Installation, register: boolean): Cluster | undefined {
  const { elsewhere, namespace } = found;
  return elsewhere && register && namespace?.owner === undefined ? elsewhere : undefined;
}

/** Whether the last refresh found Secret `mcp-creds` changed outside Pulumi. */
function credentialsDrifted(previous: ConnectionState | undefined): boolean {
  return (previous?.installationDrift ?? []).some(isCredentialsDrift);
}

function registeredElsewhere(found: Installation, elsewhere: Cluster): RegisteredElsewhereError {
  const fix =
    `set group to "${elsewhere.group}" to adopt that installation, or uninstall it first ` +
    `("chainctl cluster uninstall --cluster ${elsewhere.id}").`;
  return new RegisteredElsewhereError(
    `the agent already installed in this cluster (namespace ${AGENT_NAMESPACE}, remoteId ${found.namespace?.uid}) ` +
      `is registered with Enforce as cluster ${elsewhere.id} in group ${elsewhere.group}, by an installation ` +
      `pulumi-enforce did not make (e.g. "chainctl cluster install"). Fix: ${fix}`,
    { fix, remoteId: found.namespace?.uid, clusterId: elsewhere.id, group: elsewhere.group },
  );
}
