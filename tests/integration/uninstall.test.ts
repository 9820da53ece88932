import * as fs from "node:fs";
import type { EnforceSection } from "../../local/platform-services";
import { WebhookLeftError } from "../../provider/errors";
import { createImplementation } from "../../provider/impl";
import { applyObjects } from "../../provider/install/apply";
import { agentObjects } from "../../provider/install/manifests";
import { MANAGED_SELECTOR, newConnectionId } from "../../provider/install/ownership";
import { listObjects } from "../../provider/install/uninstall";
import { webhooksInto } from "../../provider/install/webhooks";
import { KubeClient } from "../../provider/kube/client";
import type { CheckedInputs } from "../../provider/lifecycle/checked";
import type { PlatformClient } from "../../provider/platform";
import {
  emulatorClient,
  emulatorContext,
  emulatorPlatform,
  eventually,
  kubectl,
  startOwnEnv,
  stopOwnEnv,
  type OwnEnv,
} from "../support/env";
import { flatOutputs } from "../support/connection-fixtures";
import { runPulumiEnforce, type BinRun } from "../support/bin";
import { at } from "../support/fixture";

/**
 * `pulumi-enforce uninstall` and `doctor`'s check for webhooks without a backend, through the
 * bin, against a cluster of its own (real API server and controllers, the emulator, the agent
 * stand-in): a half-installed cluster, a registered connection whose Pulumi state is gone,
 * `delete`'s proof that no webhook is left, and a webhook orphaned by deleting the agent's
 * StatefulSet by hand.
 */
describe("pulumi-enforce uninstall and webhooks without a backend", () => {
  let env: OwnEnv;
  let enforce: EnforceSection;
  let platform: PlatformClient;
  const progress: string[] = [];
  const provider = createImplementation(() => emulatorContext(() => env.ready, progress));
  const kc = () => at(env.ready.clusters, 0).kubeconfig;

  beforeAll(async () => {
    env = await startOwnEnv(["--clusters", "1"]);
    enforce = env.ready.enforce as EnforceSection;
    platform = emulatorClient(env.ready);
  }, 600_000);
  afterAll(async () => {
    await platform?.close();
    await stopOwnEnv(env);
  });

  /** Runs the bin; `platformEnv` sets the emulator's ENFORCE_* settings, else none is set. */
  async function cli(args: string[], platformEnv = true): Promise<BinRun> {
    const childEnv = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith("ENFORCE_")),
    );
    if (platformEnv) {
      Object.assign(childEnv, {
        ENFORCE_API_URL: enforce.apiUrl,
        ENFORCE_TOKEN: enforce.token,
        ENFORCE_CA_FILE: enforce.caFile,
      });
    }
    return runPulumiEnforce(args, childEnv);
  }
  const uninstall = (args: string[] = [], platformEnv = true) =>
    cli(["uninstall", "--kubeconfig", kc(), ...args], platformEnv);

  async function withKube<T>(fn: (kube: KubeClient) => Promise<T>): Promise<T> {
    const kube = await KubeClient.load({ kubeconfig: kc() });
    try {
      return await fn(kube);
    } finally {
      kube.close();
    }
  }
  const labelled = () =>
    withKube(async (kube) =>
      (await listObjects(kube, MANAGED_SELECTOR)).map((o) => `${o.kind} ${o.metadata.name}`),
    );
  const namespaceUid = async (name = "gulfstream") => {
    const out = await kubectl(env.ready, kc(), [
      "get",
      "namespace",
      name,
      "--ignore-not-found",
      "-o",
      "jsonpath={.metadata.uid}",
    ]);
    return out.trim() || undefined;
  };

  /** The agent's objects as a create applies them before the registration (no `mcp-creds`). */
  async function halfInstall(): Promise<void> {
    const objects = agentObjects({
      connectionId: newConnectionId(),
      clusterName: "half",
      profiles: ["enforcer"],
      enforcerOptions: {
        enableCipCache: false,
        namespaceEnforcementMode: "opt-in",
        webhookFailOpen: false,
      },
      agentImages: {},
      platform: emulatorPlatform(env.ready),
    });
    await withKube((kube) => applyObjects(kube, objects));
  }

  /** A webhook configuration another tool made, calling into `gulfstream`, without our labels. */
  const FOREIGN_WEBHOOK = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: other-tool.example.com
webhooks:
  - name: other-tool.example.com
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: Ignore
    clientConfig:
      service: { name: webhook, namespace: gulfstream, path: /validate }
    rules:
      - { apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps] }
`;

  /** Deletes by the pulumi-enforce client, in the API server's audit log, from line `from` on. */
  function deletesSince(from: number): string[] {
    return fs
      .readFileSync(at(env.ready.clusters, 0).auditLog, "utf8")
      .split("\n")
      .slice(from)
      .filter((l) => l.trim() !== "")
      .map(
        (l) =>
          JSON.parse(l) as {
            verb: string;
            stage: string;
            userAgent?: string;
            objectRef?: { resource?: string; name?: string };
          },
      )
      .filter(
        (e) =>
          e.verb === "delete" &&
          e.stage === "ResponseComplete" &&
          e.userAgent?.startsWith("pulumi-enforce"),
      )
      .map((e) => `${e.objectRef?.resource}/${e.objectRef?.name}`);
  }
  const auditLines = () =>
    fs.readFileSync(at(env.ready.clusters, 0).auditLog, "utf8").split("\n").length - 1;

  test("a half-installed cluster: the dry run changes nothing, --yes removes webhooks first, a foreign webhook is named, reruns finish and are idempotent", async () => {
    await halfInstall();
    await kubectl(env.ready, kc(), ["apply", "-f", "-"], FOREIGN_WEBHOOK);
    const uid = await namespaceUid();
    const before = await labelled();
    expect(before).toEqual(expect.arrayContaining(["StatefulSet meta-controlplane"]));
    const mark = auditLines();

    const dry = await uninstall();
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      "1. webhook configurations: MutatingWebhookConfiguration enforcer.chainguard.dev, ValidatingWebhookConfiguration enforcer.chainguard.dev",
    );
    expect(dry.stdout).toContain("2. the workload: StatefulSet gulfstream/meta-controlplane");
    expect(dry.stdout).toContain("3. the rest: ");
    expect(dry.stdout).toContain("Namespace gulfstream");
    expect(dry.stdout).toContain(
      "objects of an agent installation pulumi-enforce did not make (no such label): ValidatingWebhookConfiguration other-tool.example.com. They are left alone: --include-foreign removes them too.",
    );
    expect(dry.stdout).toContain(
      `Enforce (${enforce.apiUrl}): no registration of this installation found (remoteId ${uid}).`,
    );
    expect(dry.stdout).toContain("Dry run: nothing was changed.");
    expect(dry.stdout + dry.stderr).not.toContain(enforce.token);
    // Nothing changed: the same objects, no delete sent.
    expect(await labelled()).toEqual(before);
    expect(deletesSince(mark)).toEqual([]);

    // Without the platform settings it says it will not unregister.
    const noPlatform = await uninstall([], false);
    expect(noPlatform.code).toBe(0);
    expect(noPlatform.stdout).toContain(
      "Enforce: not looked up: ENFORCE_TOKEN is not set, so nothing is unregistered from Enforce.",
    );
    expect(noPlatform.stdout).toContain(`remoteId ${uid}`);

    // --yes removes ours, webhooks first, and then refuses to report success: the foreign
    // webhook still calls into the namespace that is gone.
    const yes = await uninstall(["--yes"]);
    expect(yes.code).toBe(1);
    expect(yes.stderr).toContain(
      "ValidatingWebhookConfiguration other-tool.example.com still call",
    );
    expect(yes.stderr).toContain(
      "kubectl delete validatingwebhookconfiguration other-tool.example.com",
    );
    expect(yes.stdout).toContain("Namespace gulfstream is gone");
    expect(await labelled()).toEqual([]);
    expect(await namespaceUid()).toBeUndefined();
    const order = deletesSince(mark);
    const at_ = (what: string) => order.findIndex((d) => d.startsWith(what));
    expect(at_("validatingwebhookconfigurations/enforcer")).toBeGreaterThanOrEqual(0);
    expect(at_("mutatingwebhookconfigurations/enforcer")).toBeGreaterThanOrEqual(0);
    expect(at_("statefulsets/")).toBeGreaterThan(at_("validatingwebhookconfigurations/enforcer"));
    expect(at_("statefulsets/")).toBeGreaterThan(at_("mutatingwebhookconfigurations/enforcer"));
    expect(at_("namespaces/gulfstream")).toBeGreaterThan(at_("statefulsets/"));
    expect(order).not.toContain("validatingwebhookconfigurations/other-tool.example.com");

    // The rerun with --include-foreign finishes; one more changes nothing and succeeds.
    const foreign = await uninstall(["--yes", "--include-foreign"]);
    expect(foreign.stderr).toBe("");
    expect(foreign.code).toBe(0);
    expect(foreign.stdout).toContain("--include-foreign: they are removed too.");
    expect(foreign.stdout).toContain(
      "checked: no webhook configuration calls a Service in namespace gulfstream",
    );
    expect(await withKube((kube) => webhooksInto(kube, "gulfstream"))).toEqual([]);
    const again = await uninstall(["--yes"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`No object carries ${MANAGED_SELECTOR}.`);
    expect(again.stdout).toContain("nothing to remove from the cluster");
    expect(again.stdout).toContain("Done.");
  });

  /** Checks and creates a private connection through the provider; resolves with its outputs. */
  async function connect(name: string): Promise<{ id: string; outs: Record<string, unknown> }> {
    const res = await provider.check(
      {},
      {
        __provider: "serialized provider",
        resourceName: name,
        kubeconfig: fs.readFileSync(kc(), "utf8"),
        group: enforce.group,
        registrationTimeout: "90s",
      },
    );
    expect(res.failures ?? []).toEqual([]);
    const inputs = { ...res.inputs, __provider: "serialized provider" } as CheckedInputs;
    const created = await provider.create(inputs);
    return { id: created.id, outs: created.outs as Record<string, unknown> };
  }

  test("a registered connection whose Pulumi state is gone: uninstall removes it from the cluster and unregisters it", async () => {
    const { outs } = await connect("stateless");
    const o = flatOutputs(outs) as Record<string, string>;
    expect(o.identityId).not.toBe("");
    // The state is dropped here, as `pulumi stack rm --force` would: only the cluster knows.
    const res = await uninstall(["--yes"]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`cluster ${o.clusterId} ("stateless", group ${enforce.group}`);
    expect(res.stdout).toContain(`unregistered cluster ${o.clusterId} ("stateless") from Enforce`);
    expect(res.stdout).toContain(`deleted identity ${o.identityId}`);
    expect(res.stdout + res.stderr).not.toContain(enforce.token);
    expect(await labelled()).toEqual([]);
    expect(await platform.listClusters({ remoteId: o.remoteId })).toEqual([]);
    expect(await platform.listIdentities({ childrenOf: enforce.group })).toEqual([]);

    const again = await uninstall(["--yes"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(
      `Enforce (${enforce.apiUrl}): no registration of this installation found.`,
    );
  });

  test("delete does not report success while a webhook configuration still calls into gulfstream", async () => {
    const { id, outs } = await connect("proof");
    await kubectl(env.ready, kc(), ["apply", "-f", "-"], FOREIGN_WEBHOOK);
    const err = await provider.delete(id, outs).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WebhookLeftError);
    expect((err as WebhookLeftError).code).toBe("ERR_INSTALL_WEBHOOK_LEFT");
    expect((err as Error).message).toContain(
      "Fix: delete them (kubectl delete validatingwebhookconfiguration other-tool.example.com)",
    );
    expect(await labelled()).toEqual([]);
    await kubectl(env.ready, kc(), [
      "delete",
      "validatingwebhookconfiguration",
      "other-tool.example.com",
    ]);
    // The next destroy finishes: the registration it had not removed yet goes now.
    await provider.delete(id, outs);
    expect(await platform.listClusters({ remoteId: flatOutputs(outs).remoteId as string })).toEqual(
      [],
    );
  });

  test("doctor finds the agent's fail-closed webhooks without a backend once its StatefulSet is deleted by hand, with the namespaces they block and the command that removes them", async () => {
    await halfInstall();
    await kubectl(env.ready, kc(), ["create", "namespace", "team-a"]);
    await kubectl(env.ready, kc(), [
      "label",
      "namespace",
      "team-a",
      "policy.sigstore.dev/include=true",
    ]);
    await kubectl(env.ready, kc(), ["create", "namespace", "team-b"]);
    for (const ns of ["team-a", "team-b"]) {
      await eventually(
        `the default ServiceAccount of ${ns}`,
        async () =>
          (
            await kubectl(env.ready, kc(), [
              "-n",
              ns,
              "get",
              "serviceaccount",
              "default",
              "--ignore-not-found",
              "-o",
              "name",
            ])
          ).trim() || undefined,
      );
    }
    // Local clusters run no kubelet, so no pod gets ready and no EndpointSlice controller runs:
    // publish the slice a ready agent pod would have, owned by that pod, so that the garbage
    // collector removes it with the pod when the StatefulSet goes.
    const pod = await eventually(
      "the statefulset controller to create the agent's pod",
      async () => {
        const out = await kubectl(env.ready, kc(), [
          "-n",
          "gulfstream",
          "get",
          "pod",
          "meta-controlplane-0",
          "--ignore-not-found",
          "-o",
          "jsonpath={.metadata.uid}",
        ]);
        return out.trim() || undefined;
      },
    );
    await kubectl(env.ready, kc(), ["apply", "-f", "-"], endpointSlice(pod));

    const healthy = await cli(["doctor", "--kubeconfig", kc(), "--json"]);
    expect(JSON.parse(healthy.stdout).webhooks).toEqual({ withoutBackend: [] });
    expect((await cli(["doctor", "--kubeconfig", kc()])).stdout).toContain(
      "[ok]   admission webhooks: every fail-closed webhook has a ready backend",
    );

    await kubectl(env.ready, kc(), [
      "-n",
      "gulfstream",
      "delete",
      "statefulset",
      "meta-controlplane",
      "--wait=false",
    ]);
    const report = await eventually("doctor to find the webhooks without a backend", async () => {
      const res = await cli(["doctor", "--kubeconfig", kc(), "--json"]);
      const r = JSON.parse(res.stdout) as { webhooks: { withoutBackend: unknown[] } };
      return r.webhooks.withoutBackend.length > 0 ? { code: res.code, r } : undefined;
    });
    expect(report.code).toBe(1);
    const common = {
      configuration: "enforcer.chainguard.dev",
      name: "enforcer.chainguard.dev",
      failurePolicy: "Fail",
      service: { namespace: "gulfstream", name: "webhook" },
      ours: true,
      reason: "Service gulfstream/webhook has no ready endpoints",
      namespaces: ["team-a"],
    };
    expect(report.r.webhooks.withoutBackend).toEqual([
      expect.objectContaining({
        ...common,
        kind: "MutatingWebhookConfiguration",
        removeCommand: "kubectl delete mutatingwebhookconfiguration enforcer.chainguard.dev",
      }),
      expect.objectContaining({
        ...common,
        kind: "ValidatingWebhookConfiguration",
        removeCommand: "kubectl delete validatingwebhookconfiguration enforcer.chainguard.dev",
      }),
    ]);
    const text = await cli(["doctor", "--kubeconfig", kc()]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      "Problem (webhookBackend): ValidatingWebhookConfiguration enforcer.chainguard.dev (webhook enforcer.chainguard.dev) calls Service gulfstream/webhook, which has no ready endpoints; with failurePolicy Fail the API server refuses every request it matches in the namespaces it selects: team-a.",
    );
    expect(text.stdout).toContain(
      "Fix: if the tool that installed it is gone, remove it: kubectl delete validatingwebhookconfiguration enforcer.chainguard.dev",
    );

    // The outage is real: a pod in team-a is refused, one in team-b is not.
    const podIn = (ns: string) =>
      kubectl(env.ready, kc(), [
        "-n",
        ns,
        "run",
        "probe",
        "--image=registry.example/probe",
        "--dry-run=server",
      ]);
    await expect(podIn("team-a")).rejects.toThrow(/failed calling webhook/);
    await podIn("team-b");
    // The commands doctor gave remove it, and the pod is admitted again.
    await kubectl(env.ready, kc(), [
      "delete",
      "mutatingwebhookconfiguration",
      "enforcer.chainguard.dev",
    ]);
    await kubectl(env.ready, kc(), [
      "delete",
      "validatingwebhookconfiguration",
      "enforcer.chainguard.dev",
    ]);
    const after = await cli(["doctor", "--kubeconfig", kc(), "--json"]);
    expect(JSON.parse(after.stdout).webhooks).toEqual({ withoutBackend: [] });
    await podIn("team-a");
    expect((await uninstall(["--yes"])).code).toBe(0);
  });
});

/** The EndpointSlice of Service gulfstream/webhook with pod `podUid` as its one ready endpoint. */
function endpointSlice(podUid: string): string {
  return JSON.stringify({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: "webhook-ready",
      namespace: "gulfstream",
      labels: { "kubernetes.io/service-name": "webhook" },
      ownerReferences: [
        { apiVersion: "v1", kind: "Pod", name: "meta-controlplane-0", uid: podUid },
      ],
    },
    addressType: "IPv4",
    endpoints: [
      {
        addresses: ["10.0.1.10"],
        conditions: { ready: true },
        targetRef: {
          kind: "Pod",
          namespace: "gulfstream",
          name: "meta-controlplane-0",
          uid: podUid,
        },
      },
    ],
    ports: [{ name: "https-webhook", port: 8443, protocol: "TCP" }],
  });
}
