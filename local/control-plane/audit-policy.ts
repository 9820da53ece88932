/**
 * Audit policy of the local API servers: every request at Metadata level, once
 * (at ResponseComplete), except health probes and the controller manager's own
 * traffic, so the log shows what clients such as the provider did, in order.
 */
export const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: None
    users: ["system:kube-controller-manager", "system:apiserver"]
  - level: None
    nonResourceURLs: ["/readyz*", "/livez*", "/healthz*"]
  - level: Metadata
`;
