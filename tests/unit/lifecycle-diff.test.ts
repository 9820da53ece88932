import { diffConnection } from "../../provider/lifecycle/diff";
import { explainDiff } from "../../provider/lifecycle/explain-diff";
import { UNKNOWN_VALUE } from "../../provider/inputs";

import { checkedNews as news, connectionState as state } from "../support/connection-fixtures";

const NOW = new Date("2026-11-27T12:00:00Z");

describe("diffConnection", () => {
  test("unchanged inputs and cluster: no changes", () => {
    expect(diffConnection(state(), news(), NOW)).toEqual({
      changes: false,
      replaces: [],
      updates: [],
      deleteBeforeReplace: false,
    });
  });

  test("a refresh's diff, of the inputs stored with the last apply, does not compare their observations", () => {
    // Checked before the apply created the agent's namespace: its UID was still "".
    const stored = news({}, { agentNamespaceUid: "" });
    const stale = { stale: true };
    expect(diffConnection(state(), stored, NOW, stale).replaces).toEqual([]);
    expect(
      explainDiff(state(), stored, diffConnection(state(), stored, NOW, stale), stale),
    ).toBeUndefined();
    // A fresh check seeing the same is a namespace gone: replaced.
    expect(diffConnection(state(), stored, NOW).replaces).toEqual(["remoteId"]);
    // Drift found by that refresh still makes it an update, explained without a word on the
    // cluster not being checked.
    const drifted = state({ installationDrift: ["RoleBinding gulfstream/x: deleted"] });
    const sentence = explainDiff(
      drifted,
      stored,
      diffConnection(drifted, stored, NOW, stale),
      stale,
    );
    expect(sentence).toMatch(/^update in place: .*RoleBinding gulfstream\/x: deleted/);
    expect(sentence).not.toMatch(/not checked/);
  });

  test.each([
    ["group", news({ group: "fedcba9876543210fedcba9876543210fedcba98" }), ["group"]],
    ["issuer", news({}, { issuer: "https://other:6443" }), ["issuer"]],
    ["another cluster", news({}, { clusterUid: "other" }), ["clusterUid"]],
    ["namespace recreated", news({}, { agentNamespaceUid: "new-uid" }), ["remoteId"]],
    ["namespace gone", news({}, { agentNamespaceUid: "" }), ["remoteId"]],
    ["became public", news({}, { connectivity: "public" }), ["connectivity"]],
    ["rotated key", news({}, { signingKeyIds: ["kid-2"] }), ["signingKeyIds"]],
    ["key added", news({}, { signingKeyIds: ["kid-1", "kid-2"] }), ["signingKeyIds"]],
  ])("replaces when %s", (_what, n, replaces) => {
    const d = diffConnection(state(), n, NOW);
    expect(d).toMatchObject({ changes: true, replaces, deleteBeforeReplace: false });
  });

  test("a public connection is not replaced for a rotated key", () => {
    const s = state({ connectivity: "public", identityId: "", renewAt: "", uploadedKeyIds: [] });
    const d = diffConnection(
      s,
      news({}, { connectivity: "public", signingKeyIds: ["kid-2"] }),
      NOW,
    );
    expect(d.replaces).toEqual([]);
    expect(d.changes).toBe(false);
  });

  test("renewal: replaced once renewAt has passed, not a second before", () => {
    const s = state({ renewAt: "2026-11-27T12:00:00Z" });
    expect(diffConnection(s, news(), new Date("2026-11-27T11:59:59Z")).changes).toBe(false);
    expect(diffConnection(s, news(), NOW)).toMatchObject({ changes: true, replaces: ["renewAt"] });
    // Also when the cluster cannot be looked at yet (kubeconfig unknown in preview).
    expect(
      diffConnection(s, news({ kubeconfig: UNKNOWN_VALUE }, null as never), NOW).replaces,
    ).toEqual(["renewAt"]);
  });

  test("a shorter renewAfter takes effect from the identity's creation", () => {
    const n = news({ renewAfter: "7d", renewAfterSeconds: 7 * 86400 });
    // Created 2026-11-20 + 7d = 2026-11-27T12:00:00Z: due now.
    expect(diffConnection(state(), n, NOW).replaces).toEqual(["renewAt"]);
    const later = news({ renewAfter: "8d", renewAfterSeconds: 8 * 86400 });
    expect(diffConnection(state(), later, NOW)).toMatchObject({
      replaces: [],
      updates: ["renewAfter"],
    });
  });

  test.each([
    ["clusterName", { clusterName: "renamed" }],
    ["description", { description: "new" }],
    ["profiles", { profiles: ["observer"] }],
    ["enforcerOptions", { enforcerOptions: { ...state().enforcerOptions, webhookFailOpen: true } }],
    ["agentImages", { agentImages: { controlplane: "mirror.example/cp:1" } }],
    ["kubeconfig", { kubeconfig: "apiVersion: v1\nkind: Config\n# new token\n" }],
    ["context", { context: "admin" }],
    ["registrationTimeout", { registrationTimeout: "10m", registrationTimeoutSeconds: 600 }],
    ["connectivity", { connectivity: "private" }],
    ["exposeIssuerDiscovery", { exposeIssuerDiscovery: true }],
    ["platform", { platform: { ...state().platform, apiUrl: "https://api.other.example" } }],
    ["platform", { platform: { ...state().platform, issuerUrl: "https://issuer.other.example" } }],
    ["platform", { platform: { ...state().platform, caSha256: "ab".repeat(32) } }],
  ])("updates %s in place", (name, over) => {
    expect(diffConnection(state(), news(over), NOW)).toEqual({
      changes: true,
      replaces: [],
      updates: [name],
      deleteBeforeReplace: false,
    });
  });

  test("unknown inputs during preview count as changes, not replacements", () => {
    const d = diffConnection(
      state(),
      news({ kubeconfig: UNKNOWN_VALUE, group: UNKNOWN_VALUE }, null as never),
      NOW,
    );
    expect(d).toMatchObject({ changes: true, replaces: [] });
    expect(d.updates).toEqual(expect.arrayContaining(["group", "kubeconfig"]));
  });

  test("a connection whose create did not finish is completed by an update", () => {
    const d = diffConnection(state({ clusterId: "", registeredAt: "" }), news(), NOW);
    expect(d).toMatchObject({ changes: true, replaces: [], updates: ["clusterId"] });
  });

  test("drift a refresh found is updated in place, by its output's name", () => {
    const drift = ["RoleBinding gulfstream/gulfstream-secrets: deleted"];
    const d = diffConnection(state({ installationDrift: drift }), news(), NOW);
    expect(d).toEqual({
      changes: true,
      replaces: [],
      updates: ["installationDrift"],
      deleteBeforeReplace: false,
    });
    // With a replacement, the replacement applies everything again.
    const both = diffConnection(
      state({ installationDrift: drift }),
      news({}, { clusterUid: "x" }),
      NOW,
    );
    expect(both).toMatchObject({ replaces: ["clusterUid"], updates: ["installationDrift"] });
  });

  test("key order of nested inputs does not matter", () => {
    const reordered = news({
      enforcerOptions: {
        webhookFailOpen: false,
        namespaceEnforcementMode: "opt-in",
        enableCipCache: false,
      },
    });
    expect(diffConnection(state(), reordered, NOW).changes).toBe(false);
  });
});
