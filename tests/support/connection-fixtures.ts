/**
 * One connection as the unit tiers describe it: its stored state and the checked inputs a
 * `check` of the same intent produces. The diff, explain and lifecycle-step tests start from
 * these and override what their case changes.
 */
import { UNKNOWN_VALUE, isInputProperty, type NormalizedInputs } from "../../provider/inputs";
import type { InstallationSpec } from "../../provider/install/manifests";
import { checkedInputs, type Observed } from "../../provider/lifecycle/checked";
import type { ConnectionState } from "../../provider/lifecycle/state";

/** The stored state of a registered private connection in group `0123…4567`. */
export function connectionState(over: Partial<ConnectionState> = {}): ConnectionState {
  return {
    agentImages: {},
    clusterId: "0123456789abcdef0123456789abcdef01234567/0123456789abcdef",
    clusterName: "prod",
    clusterUid: "kube-system-uid",
    connectionId: "aaaaaaaaaaaaaaaaaaaaaaaa",
    connectivity: "private",
    enforcerOptions: {
      enableCipCache: false,
      namespaceEnforcementMode: "opt-in",
      webhookFailOpen: false,
    },
    exposeIssuerDiscovery: false,
    group: "0123456789abcdef0123456789abcdef01234567",
    identityCreatedAt: "2026-11-20T12:00:00Z",
    identityExpiresAt: "2026-12-20T12:00:00Z",
    identityId: "0123456789abcdef0123456789abcdef01234567/1111111111111111",
    installationDrift: [],
    inviteId: "",
    issuer: "https://127.0.0.1:6443",
    kubeconfig: "apiVersion: v1\nkind: Config\n",
    ownsIssuerBinding: false,
    platform: { apiUrl: "https://api.example", issuerUrl: "https://issuer.example", caSha256: "" },
    profiles: ["enforcer"],
    registeredAt: "2026-11-20T12:00:05Z",
    registrationTimeout: "5m",
    registrationTimeoutSeconds: 300,
    remoteId: "gulfstream-uid",
    renewAfter: "25d",
    renewAfterSeconds: 25 * 86400,
    renewAt: "2026-12-15T12:00:00Z",
    requestedConnectivity: "auto",
    resourceUrn: "",
    signingKeyIds: ["kid-1"],
    uploadedKeyIds: ["kid-1"],
    ...over,
  };
}

/**
 * Checked inputs of the same intent as `base`, as `check` builds them, with what check observed
 * (matching `base` unless `observed` says otherwise; `null`: not observed, as in a preview with
 * unknown inputs). `over` changes inputs by their input names (`connectivity` is the requested
 * one); any other key it has replaces that key of the checked inputs.
 */
export function checkedNews(
  over: Record<string, unknown> = {},
  observed: Partial<Observed> | null = {},
  base: ConnectionState = connectionState(),
): Record<string, unknown> {
  const s = base;
  const inputs: Record<string, unknown> = {
    agentImages: s.agentImages,
    clusterName: s.clusterName,
    connectivity: s.requestedConnectivity,
    enforcerOptions: s.enforcerOptions,
    exposeIssuerDiscovery: s.exposeIssuerDiscovery,
    group: s.group,
    kubeconfig: s.kubeconfig,
    profiles: s.profiles,
    registrationTimeout: s.registrationTimeout,
    registrationTimeoutSeconds: s.registrationTimeoutSeconds,
    renewAfter: s.renewAfter,
    renewAfterSeconds: s.renewAfterSeconds,
  };
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(over)) {
    const input = isInputProperty(key.replace(/Seconds$/, ""));
    (input ? inputs : rest)[key] = value;
  }
  const seen: Observed | typeof UNKNOWN_VALUE =
    observed === null
      ? UNKNOWN_VALUE
      : {
          activeKeyId: s.signingKeyIds[0] ?? "",
          agentNamespaceUid: s.remoteId,
          clusterUid: s.clusterUid,
          connectivity: s.connectivity,
          issuer: s.issuer,
          jwksUri: "",
          signingKeyIds: s.signingKeyIds,
          ...observed,
        };
  const checked = checkedInputs(
    inputs as unknown as NormalizedInputs,
    seen,
    s.platform,
    s.resourceUrn,
  );
  return { __provider: "code", ...checked, ...rest };
}

/**
 * Stored outputs with what state keeps under `__state` lifted to the top level, for reading
 * them in tests (the provider still gets the outputs as stored).
 */
export function flatOutputs(outs: unknown): Record<string, unknown> {
  const o = outs as Record<string, unknown>;
  return { ...o, ...(o.__state as Record<string, unknown> | undefined) };
}

/** What an installation of the fixtures' connection is rendered from. */
export function installationSpec(over: Partial<InstallationSpec> = {}): InstallationSpec {
  return {
    connectionId: "0123456789abcdef01234567",
    clusterName: "prod",
    profiles: ["enforcer"],
    enforcerOptions: {
      enableCipCache: false,
      namespaceEnforcementMode: "opt-in",
      webhookFailOpen: false,
    },
    agentImages: {},
    platform: { apiUrl: "https://api.example", issuerUrl: "https://issuer.example" },
    ...over,
  };
}
