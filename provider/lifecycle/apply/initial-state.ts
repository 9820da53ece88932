/**
 * The state an apply starts from, and the normalized inputs it is built from.
 * @module
 */

import type { CheckedInputs } from "../../check";
import type { NormalizedInputs } from "../../inputs";
import type { ConnectionState } from "../state";

/** The state an apply starts from: the inputs, plus what an earlier apply created. */
export function initialState(
  connectionId: string,
  inputs: NormalizedInputs,
  previous: ConnectionState | undefined,
): ConnectionState {
  const { connectivity, ...rest } = inputs;
  return {
    ...rest,
    connectionId,
    requestedConnectivity: connectivity,
    connectivity: previous?.connectivity ?? "private",
    issuer: previous?.issuer ?? "",
    signingKeyIds: previous?.signingKeyIds ?? [],
    uploadedKeyIds: previous?.uploadedKeyIds ?? [],
    clusterUid: previous?.clusterUid ?? "",
    remoteId: previous?.remoteId ?? "",
    clusterId: previous?.clusterId ?? "",
    registeredAt: previous?.registeredAt ?? "",
    identityId: previous?.identityId ?? "",
    identityCreatedAt: previous?.identityCreatedAt ?? "",
    identityExpiresAt: previous?.identityExpiresAt ?? "",
    renewAt: previous?.renewAt ?? "",
    inviteId: previous?.inviteId ?? "",
    ownsIssuerBinding: previous?.ownsIssuerBinding ?? false,
    platform: previous?.platform ?? { apiUrl: "", caSha256: "", issuerUrl: "" },
    resourceUrn: previous?.resourceUrn ?? "",
  };
}

/** The normalized inputs inside checked inputs (dropping `observed` and the engine's keys). */
export function normalizedOf(checked: CheckedInputs | Record<string, unknown>): NormalizedInputs {
  const c = checked as CheckedInputs;
  const inputs: NormalizedInputs = {
    agentImages: c.agentImages,
    clusterName: c.clusterName,
    connectivity: c.connectivity,
    enforcerOptions: c.enforcerOptions,
    exposeIssuerDiscovery: c.exposeIssuerDiscovery,
    group: c.group,
    kubeconfig: c.kubeconfig,
    profiles: c.profiles,
    registrationTimeout: c.registrationTimeout,
    registrationTimeoutSeconds: c.registrationTimeoutSeconds,
    renewAfter: c.renewAfter,
    renewAfterSeconds: c.renewAfterSeconds,
  };
  if (c.context !== undefined) inputs.context = c.context;
  if (c.description !== undefined) inputs.description = c.description;
  return inputs;
}
