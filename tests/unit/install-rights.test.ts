import { KINDS } from "../../provider/install/kinds";
import { agentObjectNames } from "../../provider/install/manifests";
import { describeRight, installRights, OBJECT_VERBS } from "../../provider/install/rights";
import { splitFix } from "../../provider/util/errors";
import { KubeUnreachableError } from "../../provider/kube/errors";

describe("the rights an installation needs", () => {
  const rights = installRights().map(describeRight);

  test("each verb on each object the manifests hold, in its namespace or cluster-wide", () => {
    expect(rights).toEqual(
      expect.arrayContaining([
        "create customresourcedefinitions.apiextensions.k8s.io (cluster-wide)",
        "patch namespaces (cluster-wide)",
        "delete validatingwebhookconfigurations.admissionregistration.k8s.io (cluster-wide)",
        "get statefulsets.apps in namespace gulfstream",
        "create secrets in namespace gulfstream",
        "patch roles.rbac.authorization.k8s.io in namespace cosign-system",
      ]),
    );
    // Every namespaced object of the manifests is covered in its own namespace.
    for (const object of agentObjectNames()) {
      const ns = object.metadata.namespace;
      const where = ns ? ` in namespace ${ns}` : " (cluster-wide)";
      const covered = rights.some((r) => r.startsWith("create ") && r.endsWith(where));
      expect(covered).toBe(true);
    }
  });

  test("a cluster-wide list of every kind an installation may contain, as uninstall lists them", () => {
    expect(rights.filter((r) => r.startsWith("list "))).toHaveLength(KINDS.length);
    expect(
      rights.filter((r) => r.startsWith("list ")).every((r) => r.endsWith("(cluster-wide)")),
    ).toBe(true);
  });

  test("no right twice; only the verbs listed", () => {
    expect(new Set(rights).size).toBe(rights.length);
    const verbs = new Set(installRights().map((r) => r.verb));
    expect([...verbs].sort()).toEqual([...OBJECT_VERBS, "list"].sort());
  });
});

describe("splitFix", () => {
  test("the message without the fix it ends with, and the fix", () => {
    const err = new KubeUnreachableError("https://127.0.0.1:1", "connection refused");
    const { what, fix } = splitFix(err);
    expect(what).toBe(
      "cannot reach the Kubernetes API server at https://127.0.0.1:1: connection refused",
    );
    expect(fix).toBe(err.fix);
  });

  test("an error without a fix is left whole", () => {
    expect(splitFix(new Error("boom"))).toEqual({ what: "boom", fix: undefined });
  });
});
