import { removalSteps, renderEnforce } from "../../provider/cli/uninstall-report";
import type { FoundObject } from "../../provider/install/uninstall";
import type { ClusterPlan } from "../../provider/lifecycle/emergency/plan";

const object = (apiVersion: string, kind: string, name: string, namespace?: string) =>
  ({ apiVersion, kind, metadata: { name, namespace, uid: `${kind}-uid` } }) as FoundObject;

describe("what pulumi-enforce uninstall prints", () => {
  test("the removal order: webhook configurations, then the workload, then the rest, then the wait", () => {
    const objects = [
      object("v1", "Namespace", "gulfstream"),
      object("apps/v1", "StatefulSet", "meta-controlplane", "gulfstream"),
      object(
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        "enforcer.chainguard.dev",
      ),
      object("v1", "ConfigMap", "config-platform", "gulfstream"),
    ];
    expect(removalSteps(objects)).toEqual([
      "  1. webhook configurations: ValidatingWebhookConfiguration enforcer.chainguard.dev",
      "  2. the workload: StatefulSet gulfstream/meta-controlplane",
      "  3. the rest: Namespace gulfstream, ConfigMap gulfstream/config-platform",
      "  then it waits until Namespace gulfstream is gone",
    ]);
  });

  test("a half-installed cluster without webhooks or workload says none for those steps", () => {
    expect(removalSteps([object("v1", "ConfigMap", "config-platform", "gulfstream")])).toEqual([
      "  1. webhook configurations: none",
      "  2. the workload: none",
      "  3. the rest: ConfigMap gulfstream/config-platform",
    ]);
  });

  test("Enforce: what was found, or why it was not looked up, with the remoteId to find it by", () => {
    const plan: ClusterPlan = {
      owned: [],
      foreign: [],
      connectionIds: [],
      namespace: { uid: "ns-uid", owner: "abc", terminating: false },
    };
    expect(renderEnforce({ notLookedUp: "ENFORCE_TOKEN is not set" }, plan)).toEqual([
      "Enforce: not looked up: ENFORCE_TOKEN is not set. The cluster's registration, if any, has remoteId ns-uid (the UID of namespace gulfstream).",
    ]);
    const none = { apiUrl: "https://api.example", registrations: { clusters: [], identities: [] } };
    expect(renderEnforce(none, plan)).toEqual([
      "Enforce (https://api.example): no registration of this installation found (remoteId ns-uid).",
    ]);
  });
});
