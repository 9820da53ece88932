import {
  credentialsDrift,
  installationDrift,
  isCredentialsDrift,
  listDrift,
  objectDrift,
  restoreHow,
  type LiveObject,
} from "../../provider/install/drift";
import { agentObjects, credentialsSecret, type KubeObject } from "../../provider/install/manifests";
import { installationSpec } from "../support/connection-fixtures";

/**
 * The drift comparison (provider/install/drift.ts): the agent's real manifests against "live"
 * copies that carry what an API server adds, then edited as a person would by hand.
 */

const spec = installationSpec();

const desired = () => agentObjects(spec);

/** A live copy of `object` with what the API server and other managers add beside our fields. */
function served(object: KubeObject): LiveObject {
  const live = structuredClone(object) as LiveObject & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  live.metadata = {
    ...live.metadata,
    uid: "uid-1",
    resourceVersion: "42",
    managedFields: [{ manager: "pulumi-enforce" }],
    labels: { ...(live.metadata.labels as object), "added-by": "someone-else" },
  };
  if (live.kind === "MutatingWebhookConfiguration") {
    for (const w of live.webhooks)
      Object.assign(w, { matchPolicy: "Equivalent", objectSelector: {} });
    live.webhooks[0].clientConfig.caBundle = "LS0tLS1CRUdJTi==";
  }
  if (live.kind === "StatefulSet") {
    const pod = live.spec.template.spec;
    pod.dnsPolicy = "ClusterFirst";
    for (const c of pod.containers) {
      c.terminationMessagePath = "/dev/termination-log";
      for (const p of c.ports ?? []) p.protocol = "TCP";
    }
    // A container another manager added: not ours to remove.
    pod.containers.push({ name: "sidecar", image: "sidecar:1" });
    live.status = { replicas: 2 };
  }
  // The aggregation controller fills the aggregated ClusterRole's empty rules.
  if (live.kind === "ClusterRole" && live.aggregationRule) {
    live.rules = [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }];
  }
  if (live.kind === "Service")
    Object.assign(live.spec, { clusterIP: "10.0.0.7", type: "ClusterIP" });
  return live;
}

/** The live copies of `objects` with `edit` applied to the one of `kind` and `name`. */
function liveWith(
  objects: KubeObject[],
  kind: string,
  name: string,
  edit: (o: LiveObject & Record<string, any>) => void, // eslint-disable-line @typescript-eslint/no-explicit-any
): LiveObject[] {
  return objects.map(served).map((o) => {
    if (o.kind === kind && o.metadata.name === name) edit(o);
    return o;
  });
}

describe("installationDrift", () => {
  test("an installation as applied, with what the API server and others added: no drift", () => {
    const objects = desired();
    expect(installationDrift(objects, objects.map(served))).toEqual([]);
  });

  test("a webhook's failurePolicy flipped to Ignore", () => {
    const objects = desired();
    const live = liveWith(
      objects,
      "MutatingWebhookConfiguration",
      "enforcer.chainguard.dev",
      (o) => {
        o.webhooks[0].failurePolicy = "Ignore";
      },
    );
    expect(installationDrift(objects, live)).toEqual([
      "MutatingWebhookConfiguration enforcer.chainguard.dev: webhooks[0].failurePolicy is Ignore, want Fail",
    ]);
  });

  test("a RoleBinding deleted", () => {
    const objects = desired();
    const live = objects
      .map(served)
      .filter((o) => !(o.kind === "RoleBinding" && o.metadata.namespace === "gulfstream"));
    expect(installationDrift(objects, live)).toEqual([
      "RoleBinding gulfstream/gulfstream-secrets: deleted",
    ]);
  });

  test("a container's image changed, named by its position in the desired list", () => {
    const objects = desired();
    let want = "";
    const live = liveWith(objects, "StatefulSet", "meta-controlplane", (o) => {
      const c = o.spec.template.spec.containers.find((x: { name: string }) => x.name === "sts");
      want = c.image;
      c.image = "registry.example/evil:1";
    });
    expect(installationDrift(objects, live)).toEqual([
      `StatefulSet gulfstream/meta-controlplane: spec.template.spec.containers[1].image is registry.example/evil:1, want ${want}`,
    ]);
  });

  test("a label of ours removed, an entry added to an atomic list, a defaulted field changed", () => {
    const objects = desired();
    const live = liveWith(objects, "RoleBinding", "gulfstream-secrets", (o) => {
      if (o.metadata.namespace !== "cosign-system") return;
      delete (o.metadata.labels as Record<string, string>)["pulumi-enforce.dev/connection"];
      o.subjects.push({ kind: "ServiceAccount", name: "intruder", namespace: "default" });
    });
    expect(installationDrift(objects, live)).toEqual([
      "RoleBinding cosign-system/gulfstream-secrets: metadata.labels[pulumi-enforce.dev/connection] is unset, want 0123456789abcdef01234567",
      "RoleBinding cosign-system/gulfstream-secrets: subjects has 2 entries, want 1",
    ]);
  });

  test("lists of plain values are compared whole; an object being deleted says so", () => {
    const objects = desired();
    const live = liveWith(objects, "Role", "gulfstream-secrets", (o) => {
      if (o.metadata.namespace !== "gulfstream") return;
      o.rules[0].verbs = ["*"];
      o.metadata.deletionTimestamp = "2026-12-01T00:00:00Z";
    });
    expect(installationDrift(objects, live)).toEqual([
      "Role gulfstream/gulfstream-secrets: being deleted",
      'Role gulfstream/gulfstream-secrets: rules[0].verbs is ["*"], want ["get","list","watch","create","update","patch"]',
    ]);
  });

  test("a value too long to read in a line is only said to differ", () => {
    const objects = desired();
    const live = liveWith(objects, "ConfigMap", "config-platform", (o) => {
      o.data["api-url"] = `https://${"x".repeat(250)}.example`;
    });
    expect(installationDrift(objects, live)).toEqual([
      "ConfigMap gulfstream/config-platform: data[api-url] differs",
    ]);
  });

  test("many differences in one object are capped, and the rest counted", () => {
    const objects = desired();
    const live = liveWith(objects, "ConfigMap", "config-leader-election", (o) => {
      o.data = { "lease-duration": "1s", "renew-deadline": "1s", "retry-period": "1s" };
      o.metadata.labels = {};
      o.metadata.annotations = {};
    });
    const lines = installationDrift(objects, live);
    expect(lines).toHaveLength(5);
    expect(lines.filter((l) => l.endsWith("more fields differ"))).toEqual([
      "ConfigMap gulfstream/config-leader-election: 2 more fields differ",
    ]);
  });
});

describe("Secrets: keys only, never a value", () => {
  const creds = credentialsSecret(
    {
      code: "invite-code-secret-123",
      identityId: "group/identity",
      clusterName: "prod",
      clusterDescription: "",
    },
    spec,
  );

  test("a Secret whose data differs names the keys", () => {
    const want: KubeObject = {
      ...structuredClone(creds),
      metadata: { ...creds.metadata, name: "other" },
    };
    const live = served(want) as LiveObject & { data: Record<string, string> };
    live.data.code = Buffer.from("another-secret-value").toString("base64");
    live.data["cluster-name"] = "";
    delete live.data["identity-uid"];
    const lines = objectDrift(want, live);
    expect(lines).toEqual([
      "key cluster-name emptied",
      "key code changed",
      "key identity-uid removed",
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/secret-value|invite-code|YW5vdGhlc/);
  });

  test("mcp-creds: emptied, deleted, or naming another identity", () => {
    const expected = { identityId: "group/identity" };
    expect(credentialsDrift(served(creds), expected)).toEqual([]);
    const emptied = { ...served(creds), data: {} };
    expect(credentialsDrift(emptied, expected)).toEqual([
      "Secret gulfstream/mcp-creds: key code removed",
      "Secret gulfstream/mcp-creds: key cluster-name removed",
      "Secret gulfstream/mcp-creds: key identity-uid removed or emptied",
    ]);
    const blank = { ...served(creds), data: { ...(creds.data as object), code: "" } };
    expect(credentialsDrift(blank, expected)).toEqual([
      "Secret gulfstream/mcp-creds: key code emptied",
    ]);
    expect(credentialsDrift(served(creds), { identityId: "group/other" })).toEqual([
      "Secret gulfstream/mcp-creds: key identity-uid changed",
    ]);
    // A public connection has no identity to check.
    expect(credentialsDrift(emptied, { identityId: "" })).toHaveLength(2);
    expect(credentialsDrift(undefined, expected)).toEqual(["Secret gulfstream/mcp-creds: deleted"]);
    for (const line of credentialsDrift(emptied, expected))
      expect(isCredentialsDrift(line)).toBe(true);
    expect(isCredentialsDrift("Secret gulfstream/webhook-certs: deleted")).toBe(false);
  });
});

test("listDrift and restoreHow: what a sentence says", () => {
  const lines = Array.from({ length: 12 }, (_, i) => `ConfigMap gulfstream/c${i}: deleted`);
  expect(listDrift(lines.slice(0, 2))).toBe(
    "ConfigMap gulfstream/c0: deleted; ConfigMap gulfstream/c1: deleted",
  );
  expect(listDrift(lines)).toMatch(/c9: deleted; and 2 more$/);
  expect(restoreHow({ connectivity: "private" }, lines)).toBe(
    "it applies them again; the agent keeps running",
  );
  expect(restoreHow({ connectivity: "private" }, ["Secret gulfstream/mcp-creds: deleted"])).toBe(
    "it applies them again; the agent keeps running, and rewrites Secret gulfstream/mcp-creds: " +
      "the agent registers again with a new invite and a new identity",
  );
  expect(restoreHow({ connectivity: "public" }, ["Secret gulfstream/mcp-creds: deleted"])).toMatch(
    /with a new invite$/,
  );
});
