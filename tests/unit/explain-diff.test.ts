import { UNKNOWN_VALUE } from "../../provider/inputs";
import { diffConnection } from "../../provider/lifecycle/diff";
import { explainDiff } from "../../provider/lifecycle/explain-diff";
import type { ConnectionState } from "../../provider/lifecycle/state";

import { checkedNews as news, connectionState as state } from "../support/connection-fixtures";

const NOW = new Date("2026-11-27T12:00:00Z");

/** The sentence for `olds` and `n`, through the real diff. */
function explain(n: Record<string, unknown>, olds: ConnectionState = state(), now = NOW) {
  return explainDiff(olds, n, diffConnection(olds, n, now));
}

const SAME_INSTALLATION =
  "the agent is not reinstalled: the new connection takes it over, and the old connection's delete leaves it in place";

describe("explainDiff", () => {
  test("an unchanged connection: nothing to say", () => {
    expect(explain(news())).toBeUndefined();
    const pub = state({ connectivity: "public", identityId: "", renewAt: "", uploadedKeyIds: [] });
    // A rotated key of a public connection changes nothing either.
    expect(explain(news({}, { signingKeyIds: ["kid-2"] }, pub), pub)).toBeUndefined();
  });

  test("a rotated key: the uploaded and the new key ids; a new identity; the agent stays", () => {
    const n = news({}, { activeKeyId: "kid-2", signingKeyIds: ["kid-2"] });
    expect(explain(n)).toBe(
      "replace: the cluster's service account signing keys changed (uploaded kid-1, the cluster " +
        "now signs with kid-2); up registers the agent anew with a new identity " +
        `holding the cluster's current keys; ${SAME_INSTALLATION}.`,
    );
  });

  test("a passed renewal: the renewAt that passed", () => {
    const olds = state({ renewAt: "2026-11-27T11:00:00Z" });
    expect(explain(news({}, {}, olds), olds)).toBe(
      "replace: the renewal time 2026-11-27T11:00:00Z has passed (the identity is renewed: a new " +
        "one is uploaded and the agent registers again); up registers the agent anew with a new " +
        `identity holding the cluster's current keys; ${SAME_INSTALLATION}.`,
    );
    // A shorter renewAfter: the renewal time it gives.
    const shorter = news({ renewAfter: "7d", renewAfterSeconds: 7 * 86400 });
    expect(explain(shorter)).toContain("the renewal time 2026-11-27T12:00:00Z has passed");
  });

  test("a new group: old and new group", () => {
    const n = news({ group: "fedcba9876543210fedcba9876543210fedcba98" });
    expect(explain(n)).toBe(
      'replace: group "0123456789abcdef0123456789abcdef01234567" -> ' +
        '"fedcba9876543210fedcba9876543210fedcba98" (the cluster is registered anew under the ' +
        'other group); up registers the agent anew in group "fedcba9876543210fedcba9876543210fedcba98" ' +
        `with a new identity holding the cluster's current keys; ${SAME_INSTALLATION}.`,
    );
  });

  test("another resolved connectivity: old and new", () => {
    const n = news({}, { connectivity: "public" });
    expect(explain(n)).toBe(
      'replace: the resolved connectivity "private" -> "public" (the agent proves the cluster\'s ' +
        `identity another way); up registers the agent anew; ${SAME_INSTALLATION}.`,
    );
  });

  test("a kubeconfig naming another cluster: issuer and clusterUid, old -> new", () => {
    const n = news(
      { kubeconfig: "apiVersion: v1\nkind: Config\n# other\n" },
      { issuer: "https://10.0.0.1:6443", clusterUid: "other-uid", agentNamespaceUid: "" },
    );
    expect(explain(n)).toBe(
      'replace: the service account issuer "https://127.0.0.1:6443" -> "https://10.0.0.1:6443" ' +
        "(another issuer is another cluster); the kube-system namespace's UID (clusterUid) " +
        '"kube-system-uid" -> "other-uid" (another kube-system namespace is another cluster); ' +
        "also kubeconfig changed " +
        "(not shown: it may hold credentials); up installs the agent in the cluster the kubeconfig " +
        "now names and registers it with a new identity holding the cluster's current keys; " +
        "then the old connection's delete uninstalls the agent from the cluster its stored " +
        "kubeconfig reaches and unregisters cluster " +
        "0123456789abcdef0123456789abcdef01234567/0123456789abcdef.",
    );
    // The issuer alone.
    expect(explain(news({}, { issuer: "https://10.0.0.1:6443" }))).toMatch(
      /^replace: the service account issuer "https:\/\/127\.0\.0\.1:6443" -> "https:\/\/10\.0\.0\.1:6443"/,
    );
  });

  test("a recreated agent namespace: old and new remoteId", () => {
    expect(explain(news({}, { agentNamespaceUid: "new-uid" }))).toBe(
      'replace: the agent namespace\'s UID (remoteId) "gulfstream-uid" -> "new-uid" (the agent\'s ' +
        "namespace was created again: the installation is another one); up installs the agent " +
        "again and registers it anew with a new identity holding the cluster's current keys" +
        "; then the old connection's delete removes what it still owns and unregisters " +
        "cluster 0123456789abcdef0123456789abcdef01234567/0123456789abcdef.",
    );
  });

  test("a deleted agent namespace: the remoteId that is gone", () => {
    expect(explain(news({}, { agentNamespaceUid: "" }))).toMatch(
      /^replace: the agent namespace \(remoteId "gulfstream-uid"\) no longer exists; up installs the agent again/,
    );
  });

  test("several reasons: one sentence", () => {
    const olds = state({ renewAt: "2026-11-27T11:00:00Z" });
    const n = news(
      { group: "fedcba9876543210fedcba9876543210fedcba98", description: "new" },
      { activeKeyId: "kid-2", signingKeyIds: ["kid-2", "kid-3"] },
      olds,
    );
    const sentence = explain(n, olds)!;
    expect(sentence.match(/\./g)?.length).toBeGreaterThan(0);
    expect(sentence).toMatch(/^replace: /);
    expect(sentence).toContain(
      "uploaded kid-1, the cluster now signs with kid-2 and publishes kid-2, kid-3",
    );
    expect(sentence).toContain("the renewal time 2026-11-27T11:00:00Z has passed");
    expect(sentence).toContain('group "0123456789abcdef0123456789abcdef01234567" -> "fedcba98');
    expect(sentence).toContain('also description (unset) -> "new"');
    expect(sentence.split("\n")).toHaveLength(1);
  });

  test.each([
    [
      { description: "after" },
      'description (unset) -> "after" (a setting of the cluster\'s record in Enforce)',
    ],
    [{ clusterName: "renamed" }, 'clusterName "prod" -> "renamed"'],
    [{ profiles: ["observer"] }, 'profiles ["enforcer"] -> ["observer"]'],
    [
      { enforcerOptions: { ...state().enforcerOptions, webhookFailOpen: true } },
      "enforcerOptions.webhookFailOpen false -> true (the agent's manifests are applied again, and the cluster's record updated)",
    ],
    [
      { agentImages: { controlplane: "mirror.example/cp:1" } },
      'agentImages.controlplane (unset) -> "mirror.example/cp:1" (the agent\'s manifests are applied again)',
    ],
    [
      { registrationTimeout: "10m", registrationTimeoutSeconds: 600 },
      'registrationTimeout "5m" -> "10m" (it only bounds the next wait for registration)',
    ],
    [{ exposeIssuerDiscovery: true }, "exposeIssuerDiscovery false -> true"],
    [
      { connectivity: "private" },
      'requestedConnectivity (the connectivity input) "auto" -> "private" (only what it resolves to counts',
    ],
    [{ renewAfter: "20d", renewAfterSeconds: 20 * 86400 }, 'renewAfter "25d" -> "20d"'],
    [
      { platform: { ...state().platform, apiUrl: "https://api.other.example" } },
      'platform.apiUrl "https://api.example" -> "https://api.other.example" (the agent\'s platform settings: installed again, and the agent registers there anew)',
    ],
    [
      { platform: { ...state().platform, issuerUrl: "https://issuer.other.example" } },
      'platform.issuerUrl "https://issuer.example" -> "https://issuer.other.example"',
    ],
    [
      { platform: { ...state().platform, caSha256: "ab".repeat(32) } },
      "platform CA certificate changed",
    ],
  ])("an in-place update: old -> new (%j)", (over, change) => {
    const sentence = explain(news(over));
    expect(sentence).toMatch(/^update in place: /);
    expect(sentence).toContain(change);
    expect(sentence).toMatch(/; the agent is not reinstalled\.$/);
  });

  test("a description change, whole sentence", () => {
    const olds = state({ description: "before" });
    expect(explain(news({ description: "after" }, {}, olds), olds)).toBe(
      'update in place: description "before" -> "after" (a setting of the cluster\'s record in ' +
        "Enforce); the agent is not reinstalled.",
    );
  });

  test("kubeconfig and context: changed, without their values", () => {
    const n = news({ kubeconfig: "apiVersion: v1\nkind: Config\n# rotated\n", context: "admin" });
    expect(explain(n)).toBe(
      "update in place: context changed (not shown: it may hold credentials), and still names the " +
        "same cluster; kubeconfig changed (not shown: it may hold credentials), and still names " +
        "the same cluster; the agent is not reinstalled.",
    );
  });

  test("a connection whose create did not finish", () => {
    const olds = state({ clusterId: "", registeredAt: "" });
    expect(explain(news({}, {}, olds), olds)).toBe(
      "update in place: the connection's creation did not finish: up completes it and the agent " +
        "registers.",
    );
  });

  test("drift found by refresh: the objects and fields, and that up restores them", () => {
    const olds = state({
      installationDrift: [
        "MutatingWebhookConfiguration enforcer.chainguard.dev: webhooks[0].failurePolicy is Ignore, want Fail",
        "RoleBinding gulfstream/gulfstream-secrets: deleted",
      ],
    });
    expect(explain(news({}, {}, olds), olds)).toBe(
      "update in place: 2 of the agent's objects changed outside Pulumi: " +
        "MutatingWebhookConfiguration enforcer.chainguard.dev: webhooks[0].failurePolicy is Ignore, want Fail; " +
        "RoleBinding gulfstream/gulfstream-secrets: deleted; " +
        "up restores them (it applies them again; the agent keeps running).",
    );
    // With a setting's change too.
    const both = explain(news({ description: "d" }, {}, olds), olds)!;
    expect(both).toMatch(
      /^update in place: description \(unset\) -> "d" .*; 2 of the agent's objects/,
    );
    expect(both).toMatch(/; the agent is not reinstalled\.$/);
  });

  test("drift of mcp-creds: the keys only; up registers again with a new invite and identity", () => {
    const olds = state({ installationDrift: ["Secret gulfstream/mcp-creds: key code emptied"] });
    expect(explain(news({}, {}, olds), olds)).toBe(
      "update in place: 1 of the agent's objects changed outside Pulumi: " +
        "Secret gulfstream/mcp-creds: key code emptied; up restores them (it applies them again; " +
        "the agent keeps running, and rewrites Secret gulfstream/mcp-creds: the agent registers " +
        "again with a new invite and a new identity).",
    );
  });

  test("drift with a replacement: the replacement restores it too", () => {
    const olds = state({
      installationDrift: ["RoleBinding gulfstream/gulfstream-secrets: deleted"],
    });
    const sentence = explain(news({}, { clusterUid: "other" }, olds), olds)!;
    expect(sentence).toMatch(/^replace: /);
    expect(sentence).toContain(
      "also restores what changed outside Pulumi: RoleBinding gulfstream/gulfstream-secrets: deleted",
    );
  });

  test("unknown inputs during preview: what cannot be known yet", () => {
    const n = news({ kubeconfig: UNKNOWN_VALUE }, null);
    expect(explain(n)).toBe(
      "update in place: not known until up: kubeconfig (e.g. from a resource created in the same " +
        "stack); the cluster is not checked in this preview: whether it is another cluster, its " +
        "signing keys rotated or its agent namespace was recreated (each would replace the " +
        "connection) is decided by up.",
    );
    const group = explain(news({ group: UNKNOWN_VALUE, description: "d" }));
    expect(group).toContain("not known until up: group");
    expect(group).toContain(
      'if group is no longer "0123456789abcdef0123456789abcdef01234567", up replaces the connection',
    );
    expect(group).toContain('description (unset) -> "d"');
    expect(group).not.toContain(UNKNOWN_VALUE);
    // Unknown inside a value.
    const images = explain(news({ agentImages: { controlplane: UNKNOWN_VALUE } }))!;
    expect(images).toContain("not known until up: agentImages");
    expect(images).not.toContain(UNKNOWN_VALUE);
  });

  test("no sentence carries a credential", () => {
    const TOKEN = "eyJhbGciOiJSUzI1NiJ9.leaktest-bearer-token-9f8e7d";
    const CLIENT_KEY = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tbGVha3Rlc3Q=";
    const INVITE_ID = "0123456789abcdef0123456789abcdef01234567/invite-leaktest";
    const kubeconfig = (server: string) =>
      [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{name: c, cluster: {server: "${server}"}}]`,
        "contexts: [{name: secret-context-leaktest, context: {cluster: c, user: u}}]",
        "current-context: secret-context-leaktest",
        `users: [{name: u, user: {token: ${TOKEN}, client-key-data: ${CLIENT_KEY}}}]`,
      ].join("\n");
    const olds = state({
      kubeconfig: kubeconfig("https://old.example:6443"),
      context: "secret-context-leaktest",
      inviteId: INVITE_ID,
      clusterId: "",
    });
    const variants: Record<string, unknown>[] = [
      {},
      { kubeconfig: kubeconfig("https://new.example:6443"), context: "other-secret-context" },
      { kubeconfig: UNKNOWN_VALUE, description: "x" },
      { group: "fedcba9876543210fedcba9876543210fedcba98", description: "y" },
    ];
    const observations: (Record<string, unknown> | null)[] = [
      {},
      null,
      { activeKeyId: "kid-2", signingKeyIds: ["kid-2"] },
      { clusterUid: "other", issuer: "https://other", agentNamespaceUid: "" },
    ];
    const sentences: string[] = [];
    for (const over of variants) {
      for (const observed of observations) {
        const sentence = explain(news(over, observed, olds), olds);
        if (sentence) sentences.push(sentence);
      }
    }
    expect(sentences.length).toBe(variants.length * observations.length);
    for (const sentence of sentences) {
      for (const secret of [
        TOKEN,
        CLIENT_KEY,
        INVITE_ID,
        "invite-leaktest",
        "secret-context-leaktest",
        "other-secret-context",
        "old.example",
        "new.example",
        "apiVersion",
        UNKNOWN_VALUE,
      ]) {
        expect([secret, sentence.includes(secret)]).toEqual([secret, false]);
      }
    }
  });
});
