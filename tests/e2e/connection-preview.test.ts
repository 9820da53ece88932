import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { parse } from "yaml";
import { USER_AGENT } from "../../provider/kube/client";
import { EnforceClusterConnection, type EnforceClusterConnectionArgs } from "../../sdk";
import { eventually, kubectl, sharedEnv } from "../support/env";
import { at } from "../support/fixture";
import { createTestStack, resourceOps, type TestStack } from "../support/pulumi";

/**
 * `pulumi preview` of stacks with an EnforceClusterConnection, through the real CLI: the
 * provider is serialized by the program, loaded by the CLI's dynamic-provider process (through
 * the absolute path the shim captured) and runs `check` against a local cluster.
 */

const env = sharedEnv();
const cluster = at(env.clusters, 0);
const GROUP = "0123456789abcdef0123456789abcdef01234567";
const kubeconfigContents = fs.readFileSync(cluster.kubeconfig, "utf8");
const clientKey: string = parse(kubeconfigContents).users[0].user["client-key-data"];

/**
 * A stand-in for a cluster created in the same stack (an EKS cluster, say): its kubeconfig output
 * is only known once it is created, so during preview it is unknown.
 */
const fakeClusterProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: { path: string }) {
    const contents = require("node:fs").readFileSync(inputs.path, "utf8");
    return { id: "fake-cluster", outs: { path: inputs.path, kubeconfig: contents } };
  },
};

class FakeCluster extends pulumi.dynamic.Resource {
  declare readonly kubeconfig: pulumi.Output<string>;
  constructor(name: string, args: { path: string }) {
    super(fakeClusterProvider, name, { ...args, kubeconfig: undefined }, {});
  }
}

/** What the stack's program declares; each test sets it before running the CLI. */
let declare: () => void = () => undefined;

describe("preview of an EnforceClusterConnection through the Pulumi CLI", () => {
  let t: TestStack;

  beforeAll(async () => {
    t = await createTestStack(env, "connection-preview", async () => {
      declare();
    });
  });
  afterAll(async () => t && (await t.cleanup()));

  const connection = (args: Partial<EnforceClusterConnectionArgs> = {}) =>
    new EnforceClusterConnection("conn", {
      kubeconfig: pulumi.secret(kubeconfigContents),
      group: GROUP,
      ...args,
    });

  test("with a known kubeconfig, preview succeeds and reports a create; the kubeconfig is never shown", async () => {
    declare = () => connection();
    const events: EngineEvent[] = [];
    const preview = await t.stack.preview({ onEvent: (e) => events.push(e) });
    expect(preview.changeSummary).toEqual({ create: 2 });
    expect(new Set(resourceOps(events).map((r) => `${r.op} ${r.urn}`))).toEqual(
      new Set([
        "create urn:pulumi:test::connection-preview::pulumi-nodejs:dynamic:EnforceClusterConnection::conn",
      ]),
    );
    // The check ran for real in the CLI's provider process: its observations are in the plan.
    const planned = events
      .map((e) => e.resourcePreEvent?.metadata)
      .find((m) => m?.type === "pulumi-nodejs:dynamic:EnforceClusterConnection")?.new?.inputs;
    expect(planned).toMatchObject({
      clusterName: "conn",
      connectivity: "private",
      issuer: cluster.issuer,
      requestedConnectivity: "auto",
    });
    // The kubeconfig is shown as a secret only. (Debug diagnostics are left out: @pulumi/pulumi
    // logs each RegisterResource response, secrets included, at debug level.)
    const shown =
      JSON.stringify(events.filter((e) => (e.diagnosticEvent?.severity as string) !== "debug")) +
      preview.stdout +
      preview.stderr;
    expect(shown).toContain('"ciphertext":"[secret]"');
    expect(shown).not.toContain(clientKey);
  });

  test("with a kubeconfig not known until a cluster in the same stack is created, preview succeeds without contacting any cluster", async () => {
    declare = () => {
      const created = new FakeCluster("cluster", { path: cluster.kubeconfig });
      connection({ kubeconfig: created.kubeconfig });
    };
    const marker = randomUUID();
    await kubectl(env, cluster.kubeconfig, ["get", "--raw", `/version?marker=${marker}`]);
    const events: EngineEvent[] = [];
    const preview = await t.stack.preview({ onEvent: (e) => events.push(e) });
    expect(preview.changeSummary).toEqual({ create: 3 });
    const planned = events
      .map((e) => e.resourcePreEvent?.metadata)
      .find((m) => m?.type === "pulumi-nodejs:dynamic:EnforceClusterConnection")?.new?.inputs;
    // check passed the unknown through and left its observations unknown too.
    const unknown = pulumi.runtime.unknownValue;
    expect(planned).toMatchObject({
      clusterName: "conn",
      clusterUid: unknown,
      connectivity: unknown,
      issuer: unknown,
      signingKeyIds: unknown,
    });

    // Nothing from the provider reached the cluster after the marker.
    await kubectl(env, cluster.kubeconfig, ["get", "--raw", `/version?marker=${marker}-end`]);
    const after = await eventually("the end marker in the audit log", async () => {
      const lines = fs.readFileSync(cluster.auditLog, "utf8").split("\n");
      const start = lines.findIndex((l) => l.includes(`marker=${marker}"`));
      const end = lines.findIndex((l) => l.includes(`marker=${marker}-end"`));
      return end < 0 ? undefined : lines.slice(start + 1, end);
    });
    expect(after.filter((l) => l.includes(`"userAgent":"${USER_AGENT}`))).toEqual([]);
  });

  test("invalid input fails the preview, naming the property and the fix", async () => {
    declare = () => connection({ group: "not-a-uidp", renewAfter: "40d" });
    const failure = await t.stack.preview().then(
      () => "preview succeeded",
      (err: Error) => err.message,
    );
    expect(failure).toContain("property group value");
    expect(failure).toContain("40 lowercase hex digits");
    expect(failure).toContain("property renewAfter value");
  });

  test("a failure on the kubeconfig shows it as a secret, never its contents", async () => {
    const secret = `fake-token-${randomUUID()}`;
    const broken = `apiVersion: v1\nkind: Config\nusers:\n  - name: u\n    user: { token: ${secret} }\n`;
    declare = () => connection({ kubeconfig: broken });
    const failure = await t.stack.preview().then(
      () => "preview succeeded",
      (err: Error) => err.message,
    );
    expect(failure).toContain("property kubeconfig value");
    expect(failure).toContain("has no 'clusters'");
    expect(failure).not.toContain(secret);
  });

  test('asking for connectivity "public" on a private cluster fails the preview with the binding command', async () => {
    declare = () => connection({ connectivity: "public" });
    const failure = await t.stack.preview().then(
      () => "preview succeeded",
      (err: Error) => err.message,
    );
    expect(failure).toContain("property connectivity value");
    expect(failure).toContain("kubectl create clusterrolebinding public-issuer-discovery");
  });
});
