import { AGENT_IMAGES } from "../../provider/inputs/agent-images";
import { KINDS, kindOf } from "../../provider/install/kinds";
import {
  AGENT_AUDIENCE,
  AGENT_NAMESPACE,
  AGENT_STATEFULSET,
  AGENT_SUBJECT,
} from "../../provider/install/names";
import {
  agentObjects,
  credentialsSecret,
  issuerBindingObject,
  objectKey,
  type InstallationSpec,
  type KubeObject,
} from "../../provider/install/manifests";
import { installationSpec } from "../support/connection-fixtures";
import { at } from "../support/fixture";

const spec = installationSpec;

const find = (objects: KubeObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

describe("agent manifests", () => {
  test("contain what the agent's chart installs, each of a kind with a known stage", () => {
    const objects = agentObjects(spec());
    const names = objects.map((o) => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        "Namespace /gulfstream",
        "Namespace /cosign-system",
        "ServiceAccount gulfstream/controller",
        "ClusterRole /gulfstream-rbac",
        "ClusterRoleBinding /gulfstream-rbac",
        "StatefulSet gulfstream/meta-controlplane",
        "PodDisruptionBudget gulfstream/meta-controlplane",
        "Service gulfstream/webhook",
        "Secret gulfstream/webhook-certs",
        "ConfigMap cosign-system/config-policy-controller",
        "CustomResourceDefinition /clusterimagepolicies.policy.sigstore.dev",
        "CustomResourceDefinition /trustroots.policy.sigstore.dev",
        "CustomResourceDefinition /controllers.gulfstream.dev",
        "CustomResourceDefinition /webhooks.gulfstream.dev",
        "MutatingWebhookConfiguration /enforcer.chainguard.dev",
        "ValidatingWebhookConfiguration /enforcer.chainguard.dev",
      ]),
    );
    for (const o of objects) expect(KINDS).toContain(kindOf(o));
    expect(new Set(objects.map(objectKey)).size).toBe(objects.length);
  });

  test("every object carries the connection's ownership labels", () => {
    for (const o of [...agentObjects(spec()), issuerBindingObject(spec())]) {
      expect(o.metadata.labels).toMatchObject({
        "app.kubernetes.io/managed-by": "pulumi-enforce",
        "pulumi-enforce.dev/connection": "0123456789abcdef01234567",
      });
      expect(o.metadata.annotations).toMatchObject({ "pulumi-enforce.dev/cluster-name": "prod" });
    }
  });

  test("the agent's token toward Enforce has the audience and subject the code names", () => {
    const workload = find(agentObjects(spec()), "StatefulSet", AGENT_STATEFULSET)!;
    const pod = (workload.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    const sources = (pod.volumes as { projected?: { sources: Record<string, unknown>[] } }[])
      .flatMap((v) => v.projected?.sources ?? [])
      .map((s) => s.serviceAccountToken as { path: string; audience?: string } | undefined);
    expect(sources.find((t) => t?.path === "oidc-token")?.audience).toBe(AGENT_AUDIENCE);
    expect(
      `system:serviceaccount:${workload.metadata.namespace}:${String(pod.serviceAccountName)}`,
    ).toBe(AGENT_SUBJECT);
    expect(workload.metadata.namespace).toBe(AGENT_NAMESPACE);
  });

  test("webhooks: fail closed and opt-in by default; fail open and opt-out on request", () => {
    const closed = find(
      agentObjects(spec()),
      "ValidatingWebhookConfiguration",
      "enforcer.chainguard.dev",
    )!;
    expect(closed.webhooks).toEqual([
      expect.objectContaining({
        failurePolicy: "Fail",
        timeoutSeconds: 25,
        namespaceSelector: {
          matchExpressions: [
            { key: "policy.sigstore.dev/include", operator: "In", values: ["true"] },
          ],
        },
      }),
    ]);
    const open = find(
      agentObjects(
        spec({
          enforcerOptions: {
            enableCipCache: true,
            namespaceEnforcementMode: "opt-out",
            webhookFailOpen: true,
          },
        }),
      ),
      "MutatingWebhookConfiguration",
      "enforcer.chainguard.dev",
    )!;
    expect(open.webhooks).toEqual([
      expect.objectContaining({
        failurePolicy: "Ignore",
        namespaceSelector: {
          matchExpressions: [
            { key: "policy.sigstore.dev/exclude", operator: "NotIn", values: ["true"] },
          ],
        },
      }),
    ]);
  });

  test("the observer profile installs no admission webhooks", () => {
    const kinds = agentObjects(spec({ profiles: ["observer"] })).map((o) => o.kind);
    expect(kinds).not.toContain("ValidatingWebhookConfiguration");
    expect(kinds).not.toContain("MutatingWebhookConfiguration");
    expect(kinds).toContain("StatefulSet");
  });

  test("images: pinned defaults, or the overrides by image name", () => {
    const images = (s: InstallationSpec) =>
      Object.fromEntries(
        (
          find(agentObjects(s), "StatefulSet", "meta-controlplane")!.spec as {
            template: { spec: { containers: { name: string; image: string }[] } };
          }
        ).template.spec.containers.map((c) => [c.name, c.image]),
      );
    expect(images(spec())).toEqual({
      controller: AGENT_IMAGES.controlplane.defaultReference,
      sts: AGENT_IMAGES.chainctl.defaultReference,
    });
    expect(images(spec({ agentImages: { controlplane: "mirror.example/cp:1" } }))).toEqual({
      controller: "mirror.example/cp:1",
      sts: AGENT_IMAGES.chainctl.defaultReference,
    });
  });

  test("the CIP cache option reaches the policy controller's config", () => {
    const cm = (cache: boolean) =>
      find(
        agentObjects(
          spec({ enforcerOptions: { ...spec().enforcerOptions, enableCipCache: cache } }),
        ),
        "ConfigMap",
        "config-policy-controller",
      )!.data as Record<string, string>;
    expect(cm(true)["enable-cip-cache"]).toBe("true");
    expect(cm(false)["enable-cip-cache"]).toBe("false");
  });

  test("rendering does not leak between calls (the parsed files are not mutated)", () => {
    agentObjects(spec({ enforcerOptions: { ...spec().enforcerOptions, webhookFailOpen: true } }));
    const again = find(
      agentObjects(spec()),
      "ValidatingWebhookConfiguration",
      "enforcer.chainguard.dev",
    )!;
    expect(at(again.webhooks as { failurePolicy: string }[], 0).failurePolicy).toBe("Fail");
  });

  test("mcp-creds holds the credentials base64-encoded, an empty identity for public clusters", () => {
    const secret = credentialsSecret(
      { code: "invite-code", identityId: "", clusterName: "prod", clusterDescription: "" },
      spec(),
    );
    const data = secret.data as Record<string, string>;
    const decode = (k: string) => {
      const value = data[k];
      if (value === undefined) throw new Error(`mcp-creds has no ${k}`);
      return Buffer.from(value, "base64").toString("utf8");
    };
    expect(decode("code")).toBe("invite-code");
    expect(decode("identity-uid")).toBe("");
    expect(decode("cluster-name")).toBe("prod");
    expect(secret.metadata).toMatchObject({ name: "mcp-creds", namespace: "gulfstream" });
  });

  describe("platform settings", () => {
    const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const statefulSet = (objects: KubeObject[]) =>
      find(objects, "StatefulSet", "meta-controlplane")!.spec as {
        template: {
          metadata: { annotations?: Record<string, string> };
          spec: {
            containers: {
              name: string;
              env: { name: string; value?: string; valueFrom?: unknown }[];
              volumeMounts: { name: string; mountPath: string }[];
            }[];
            volumes: { name: string; configMap?: { name: string }; projected?: unknown }[];
          };
        };
      };

    test("go into ConfigMap gulfstream/config-platform, with the CA only when one is set", () => {
      const without = find(agentObjects(spec()), "ConfigMap", "config-platform")!;
      expect(without.metadata.namespace).toBe("gulfstream");
      expect(without.data).toEqual({
        "api-url": "https://api.example",
        "issuer-url": "https://issuer.example",
      });
      const platform = { apiUrl: "https://a.example", issuerUrl: "https://i.example", ca: CA };
      const withCa = find(agentObjects(spec({ platform })), "ConfigMap", "config-platform")!;
      expect(withCa.data).toEqual({
        "api-url": "https://a.example",
        "issuer-url": "https://i.example",
        "ca.crt": CA,
      });
    });

    test("both agent containers read them: URLs from the ConfigMap, the CA as a mounted file", () => {
      const tmpl = statefulSet(agentObjects(spec())).template;
      for (const container of tmpl.spec.containers) {
        const env = Object.fromEntries(container.env.map((e) => [e.name, e]));
        expect(env.ENFORCE_API_URL?.valueFrom).toEqual({
          configMapKeyRef: { name: "config-platform", key: "api-url" },
        });
        expect(env.ENFORCE_ISSUER_URL?.valueFrom).toEqual({
          configMapKeyRef: { name: "config-platform", key: "issuer-url" },
        });
        expect(env.ENFORCE_CA_FILE?.value).toBe("/var/run/enforce/platform/ca.crt");
        expect(container.volumeMounts).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              name: "platform-ca",
              mountPath: "/var/run/enforce/platform",
            }),
          ]),
        );
      }
      expect(tmpl.spec.volumes.find((v) => v.name === "platform-ca")!.configMap).toMatchObject({
        name: "config-platform",
        optional: true,
        items: [{ key: "ca.crt", path: "ca.crt" }],
      });
    });

    test("a change of any setting changes the pod template's annotation, so the pods roll", () => {
      const digest = (platform: InstallationSpec["platform"]) =>
        statefulSet(agentObjects(spec({ platform }))).template.metadata.annotations![
          "pulumi-enforce.dev/platform-config"
        ];
      const base = spec().platform;
      const first = digest(base);
      expect(first).toMatch(/^[0-9a-f]{64}$/);
      expect(digest({ ...base })).toBe(first);
      expect(digest({ ...base, apiUrl: "https://other.example" })).not.toBe(first);
      expect(digest({ ...base, issuerUrl: "https://other.example" })).not.toBe(first);
      expect(digest({ ...base, ca: CA })).not.toBe(first);
    });
  });
});
