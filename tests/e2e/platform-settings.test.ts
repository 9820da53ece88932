import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { readStatusFile } from "../../local/agent/agent";
import type { EmulatorSection, EnforceSection } from "../../local/platform-services";
import { KubeClient } from "../../provider/kube/client";
import { PlatformClient } from "../../provider/platform";
import { type OwnEnv, emulatorStackConfig, startOwnEnv, stopOwnEnv } from "../support/env";
import { at } from "../support/fixture";
import { createTestStack, resourceOps, type TestStack } from "../support/pulumi";

/**
 * The agent learns where Enforce is only from the connection: two emulated platforms at two
 * addresses, each with its own CA and token (serving the same group id), and one private
 * connection through the real CLI. Pointing `enforce:apiUrl`, `enforce:issuerUrl` and
 * `enforce:caFile` at one platform registers the cluster there and not at the other; pointing
 * them back is an in-place update after which the agent registers with the other platform.
 * The agent stand-in is told neither address nor CA by the environment: it reads them from the
 * ConfigMap the connection installed, so a registration at the right platform proves they
 * reached the agent through the cluster.
 */
describe("the platform settings reach the agent through the cluster", () => {
  let env: OwnEnv;
  let first: EmulatorSection;
  let second: EmulatorSection;
  let t: TestStack;

  beforeAll(async () => {
    env = await startOwnEnv(["--clusters", "1", "--emulators", "2"]);
    const enforce = env.ready.enforce as EnforceSection;
    first = enforce;
    second = enforce.others[0]!;
    expect(second.apiUrl).not.toBe(first.apiUrl);
    expect(second.group).toBe(first.group);
    const kubeconfig = fs.readFileSync(at(env.ready.clusters, 0).kubeconfig, "utf8");
    t = await createTestStack(env.ready, "enforce-platforms", async () => {
      const { EnforceClusterConnection } = require("../../sdk") as typeof import("../../sdk");
      const conn = new EnforceClusterConnection("moving", {
        kubeconfig: pulumi.secret(kubeconfig),
        group: first.group,
        registrationTimeout: "2m",
      });
      return {
        clusterId: conn.clusterId,
        connectivity: conn.connectivity,
        platform: conn.platform,
      };
    });
  }, 600_000);
  afterAll(async () => {
    await t?.cleanup();
    await stopOwnEnv(env);
  });

  const urn =
    "urn:pulumi:test::enforce-platforms::pulumi-nodejs:dynamic:EnforceClusterConnection::moving";

  async function usePlatform(p: EmulatorSection): Promise<void> {
    await t.stack.setAllConfig(emulatorStackConfig(p));
  }

  async function clustersAt(p: EmulatorSection) {
    const client = new PlatformClient({
      apiUrl: p.apiUrl,
      token: p.token,
      ca: fs.readFileSync(p.caFile, "utf8"),
    });
    try {
      return await client.listClusters({ descendantsOf: p.group });
    } finally {
      await client.close();
    }
  }

  async function installedPlatform(): Promise<{
    data: Record<string, string>;
    rolled: string | undefined;
  }> {
    const kube = await KubeClient.load({ kubeconfig: at(env.ready.clusters, 0).kubeconfig });
    try {
      const cm = await kube.get<{ data: Record<string, string> }>(
        "/api/v1/namespaces/gulfstream/configmaps/config-platform",
      );
      const sts = await kube.get<{
        spec: { template: { metadata: { annotations: Record<string, string> } } };
      }>("/apis/apps/v1/namespaces/gulfstream/statefulsets/meta-controlplane");
      return {
        data: cm.body.data,
        rolled: sts.body.spec.template.metadata.annotations["pulumi-enforce.dev/platform-config"],
      };
    } finally {
      kube.close();
    }
  }

  const agentStatus = () =>
    readStatusFile(at((env.ready.enforce as EnforceSection).agents, 0).statusFile);

  test("pointed at the second platform, the cluster registers there and not at the first", async () => {
    await usePlatform(second);
    const up = await t.stack.up();
    expect(up.summary.resourceChanges).toMatchObject({ create: 2 });
    const clusterId = up.outputs.clusterId?.value as string;
    expect(up.outputs.connectivity?.value).toBe("private");
    expect(up.outputs.platform?.value).toEqual({
      apiUrl: second.apiUrl,
      caSha256: createHash("sha256").update(fs.readFileSync(second.caFile, "utf8")).digest("hex"),
      issuerUrl: second.issuerUrl,
    });

    expect((await clustersAt(second)).map((c) => c.id)).toEqual([clusterId]);
    expect(await clustersAt(first)).toEqual([]);
    expect(agentStatus()).toMatchObject({ state: "registered", clusterId });
    const { data } = await installedPlatform();
    expect(data).toEqual({
      "api-url": second.apiUrl,
      "issuer-url": second.issuerUrl,
      "ca.crt": fs.readFileSync(second.caFile, "utf8"),
    });
  });

  test("pointed back at the first, preview shows an in-place update, and up moves the registration", async () => {
    const before = await installedPlatform();
    const left = at(await clustersAt(second), 0);
    await usePlatform(first);

    // A refresh before the move keeps the connection: the first platform cannot see a
    // registration made at the second one, which is not the same as it being gone.
    const refresh = await t.stack.refresh();
    expect(refresh.summary.resourceChanges).not.toHaveProperty("delete");
    const kept = await t.stack.outputs();
    expect(kept.clusterId?.value).toBe(left.id);
    expect(kept.platform?.value).toMatchObject({ apiUrl: second.apiUrl });

    const events: EngineEvent[] = [];
    const preview = await t.stack.preview({ diff: true, onEvent: (e) => events.push(e) });
    const ops = resourceOps(events).filter((o) => o.urn === urn);
    expect([...new Set(ops.map((o) => o.op))]).toEqual(["update"]);
    if (process.env.DUMP_PREVIEW) fs.writeFileSync(process.env.DUMP_PREVIEW, preview.stdout);
    expect(preview.changeSummary).toMatchObject({ update: 1 });
    expect(preview.stdout).toMatch(/~ platform\s*:/);
    expect(preview.stdout).toContain(first.apiUrl);

    const up = await t.stack.up();
    expect(up.summary.resourceChanges).toMatchObject({ update: 1 });
    expect(up.summary.resourceChanges).not.toHaveProperty("replace");
    const clusterId = up.outputs.clusterId?.value as string;
    expect(up.outputs.platform?.value).toMatchObject({ apiUrl: first.apiUrl });
    expect((await clustersAt(first)).map((c) => c.id)).toEqual([clusterId]);
    expect(agentStatus()).toMatchObject({ state: "registered", clusterId });
    // The agent was not reinstalled: the same namespace (remoteId), its settings rolled.
    const registered = at(await clustersAt(first), 0);
    expect(registered.remoteId).toBe(left.remoteId);
    const after = await installedPlatform();
    expect(after.data["api-url"]).toBe(first.apiUrl);
    expect(after.data["ca.crt"]).toBe(fs.readFileSync(first.caFile, "utf8"));
    expect(after.rolled).not.toBe(before.rolled);
    // What stays at the platform it left is said, not silently orphaned.
    expect(up.stdout).toContain(`cluster ${left.id}`);
    expect(up.stdout).toContain(`stay at the previous platform ${second.apiUrl}`);

    const again = await t.stack.preview();
    expect(again.changeSummary).toEqual({ same: 2 });
  });

  test("destroy unregisters at the platform it is configured for and leaves the cluster clean", async () => {
    await t.stack.destroy();
    expect(await clustersAt(first)).toEqual([]);
    const kube = await KubeClient.load({ kubeconfig: at(env.ready.clusters, 0).kubeconfig });
    try {
      const ns = await kube.get("/api/v1/namespaces/gulfstream", { accept: [404] });
      expect(ns.status).toBe(404);
    } finally {
      kube.close();
    }
  });
});
