/**
 * One connection as the unit tiers describe it: its stored state and the checked inputs a
 * `check` of the same intent produces. The diff, explain and lifecycle-step tests start from
 * these and override what their case changes.
 */
import { UNKNOWN_VALUE } from "../../provider/inputs";
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
 * Checked inputs of the same intent as `base`, with what check observed (matching `base`
 * unless `observed` says otherwise; `null`: not observed, as in a preview with unknown inputs).
 */
export function checkedNews(
  over: Record<string, unknown> = {},
  observed: Record<string, unknown> | null = {},
  base: ConnectionState = connectionState(),
): Record<string, unknown> {
  const s = base;
  return {
    __provider: "code",
    agentImages: s.agentImages,
    clusterName: s.clusterName,
    connectivity: s.requestedConnectivity,
    enforcerOptions: s.enforcerOptions,
    exposeIssuerDiscovery: s.exposeIssuerDiscovery,
    group: s.group,
    kubeconfig: s.kubeconfig,
    platform: s.platform,
    profiles: s.profiles,
    registrationTimeout: s.registrationTimeout,
    registrationTimeoutSeconds: s.registrationTimeoutSeconds,
    renewAfter: s.renewAfter,
    renewAfterSeconds: s.renewAfterSeconds,
    resourceUrn: s.resourceUrn,
    observed:
      observed === null
        ? UNKNOWN_VALUE
        : {
            activeKeyId: s.signingKeyIds[0] ?? "",
            agentNamespaceUid: s.remoteId,
            clusterUid: s.clusterUid,
            connectivity: s.connectivity,
            issuer: s.issuer,
            signingKeyIds: s.signingKeyIds,
            ...observed,
          },
    ...over,
  };
}
