import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import type { EnforceSection } from "../../local/platform-services";
import { listObjects } from "../../provider/install/uninstall";
import { MANAGED_SELECTOR } from "../../provider/install/ownership";
import { KubeClient } from "../../provider/kube/client";
import { PlatformClient } from "../../provider/platform";
import type { EnforceClusterConnectionArgs } from "../../sdk";
import {
  control,
  eventually,
  kubectl,
  type OwnEnv,
  emulatorStackConfig,
  repoRoot,
  startOwnEnv,
  stopOwnEnv,
} from "../support/env";
import { at } from "../support/fixture";
import {
  createTestStack,
  explained as explainedWith,
  opsOn as opsOnUrn,
  runEngine,
  type EngineRun,
  type TestStack,
} from "../support/pulumi";

/**
 * The product through the real Pulumi CLI: a stack connecting two local clusters, one public
 * (cluster-2, through exposeIssuerDiscovery) and one private (cluster-1). Each test runs the
 * engine (up, preview, refresh, destroy) and asserts on its events and on what the clusters and
 * the Enforce emulator hold. Tests build on one another, in order. Own environment, because
 * keys are rotated and namespaces deleted.
 */

type Sdk = typeof import("../../sdk");

/** Inputs of each connection, changed by the tests between runs. */
const settings: {
  private: Partial<EnforceClusterConnectionArgs>;
  public: Partial<EnforceClusterConnectionArgs>;
  /** The SDK the program uses: the repository's, or an "upgraded" copy. */
  sdk: Sdk;
} = { private: {}, public: {}, sdk: require("../../sdk") as Sdk };

describe("EnforceClusterConnection through the Pulumi CLI", () => {
  let env: OwnEnv;
  let enforce: EnforceSection;
  let platform: PlatformClient;
  let t: TestStack;
  const kubeconfigs: string[] = [];

  beforeAll(async () => {
    env = await startOwnEnv(["--clusters", "2"]);
    enforce = env.ready.enforce as EnforceSection;
    platform = new PlatformClient({
      apiUrl: enforce.apiUrl,
      token: enforce.token,
      ca: fs.readFileSync(enforce.caFile, "utf8"),
    });
    for (const c of env.ready.clusters) kubeconfigs.push(fs.readFileSync(c.kubeconfig, "utf8"));
    t = await createTestStack(env.ready, "enforce-e2e", async () => {
      const { EnforceClusterConnection } = settings.sdk;
      const priv = new EnforceClusterConnection("private", {
        kubeconfig: pulumi.secret(at(kubeconfigs, 0)),
        group: enforce.group,
        registrationTimeout: "2m",
        ...settings.private,
      });
      const pub = new EnforceClusterConnection("public", {
        kubeconfig: pulumi.secret(at(kubeconfigs, 1)),
        group: enforce.group,
        exposeIssuerDiscovery: true,
        registrationTimeout: "2m",
        ...settings.public,
      });
      return {
        privateClusterId: priv.clusterId,
        privateConnectivity: priv.connectivity,
        privateRenewAt: priv.renewAt,
        privateIdentityId: priv.identityId,
        privateSigningKeyIds: priv.signingKeyIds,
        publicClusterId: pub.clusterId,
        publicConnectivity: pub.connectivity,
        publicRemoteId: pub.remoteId,
        publicIssuer: pub.issuer,
        publicRegisteredAt: pub.registeredAt,
      };
    });
    await t.stack.setAllConfig(emulatorStackConfig(enforce));
  }, 600_000);
  afterAll(async () => {
    await t?.cleanup();
    // The "upgraded" package copy: state may name its provider until the stack is destroyed.
    fs.rmSync(path.join(repoRoot, ".tmp", "upgraded-package"), { recursive: true, force: true });
    await platform?.close();
    await stopOwnEnv(env);
  });

  const urn = (name: string) =>
    `urn:pulumi:test::enforce-e2e::pulumi-nodejs:dynamic:EnforceClusterConnection::${name}`;

  const run = (what: "up" | "preview" | "refresh", diff = true) => runEngine(t, what, diff);
  /** The engine diffing resources concurrently: the provider's checks then wait in `diff`. */
  const PARALLEL_DIFF = { PULUMI_PARALLEL_DIFF: "true" };
  const explained = (r: EngineRun, name: string) => explainedWith(r, urn(name));
  const opsOn = (ops: EngineRun["ops"], name: string) => opsOnUrn(ops, urn(name));

  async function labelled(i: number) {
    const kube = await KubeClient.load({ kubeconfig: at(env.ready.clusters, i).kubeconfig });
    try {
      return await listObjects(kube, MANAGED_SELECTOR);
    } finally {
      kube.close();
    }
  }

  /** The stack outputs the tests read (all strings), by name. */
  type Outputs = Record<
    | "privateClusterId"
    | "privateConnectivity"
    | "privateRenewAt"
    | "privateIdentityId"
    | "publicClusterId"
    | "publicConnectivity"
    | "publicRemoteId"
    | "publicIssuer",
    string
  >;

  async function outputs(): Promise<Outputs> {
    const outs = await t.stack.outputs();
    return Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, v.value])) as Outputs;
  }

  test("up connects a public and a private cluster; preview right after shows no changes; state holds no credential", async () => {
    const up = await run("up");
    expect(up.summary).toMatchObject({ create: 3 });
    // The engine showed the provider's progress while it waited.
    expect(up.stdout).toContain("waiting for the agent to register");

    const out = await outputs();
    expect(out).toMatchObject({ privateConnectivity: "private", publicConnectivity: "public" });
    expect(out.privateClusterId).toMatch(/^[0-9a-f]{40}\/[0-9a-f]{16}$/);
    expect(out.publicClusterId).toMatch(/^[0-9a-f]{40}\/[0-9a-f]{16}$/);
    expect(out.publicIssuer).toBe(at(env.ready.clusters, 1).issuer);
    expect(Date.parse(out.privateRenewAt)).toBeGreaterThan(Date.now() + 24 * 86400_000);
    expect((await platform.listClusters({ descendantsOf: enforce.group })).length).toBe(2);

    const preview = await run("preview");
    expect(preview.summary).toEqual({ same: 3 });
    expect(preview.ops.filter((o) => o.op !== "same")).toEqual([]);
    // An unchanged connection says nothing.
    expect(explained(preview, "private")).toEqual([]);
    expect(explained(preview, "public")).toEqual([]);
    const parallel = await runEngine(t, "preview", true, PARALLEL_DIFF);
    expect(parallel.summary).toEqual({ same: 3 });
    expect(explained(parallel, "private")).toEqual([]);

    // No secret value anywhere in the exported state, and no credential in the provider code.
    // `pulumi stack export` as a user runs it (the automation API's exportStack adds
    // --show-secrets).
    const state = await t.cli(["stack", "export"]);
    expect(state).toContain("ciphertext");
    const secrets: Record<string, string> = { "platform token": enforce.token };
    kubeconfigs.forEach((kc, i) => {
      const user = parse(kc).users[0].user as Record<string, string>;
      secrets[`cluster-${i + 1} client key`] = user["client-key-data"]!;
      secrets[`cluster-${i + 1} kubeconfig`] = kc;
    });
    for (const i of [0, 1]) {
      const code = await kubectl(env.ready, at(env.ready.clusters, i).kubeconfig, [
        "-n",
        "gulfstream",
        "get",
        "secret",
        "mcp-creds",
        "-o",
        "jsonpath={.data.code}",
      ]);
      secrets[`cluster-${i + 1} invite code`] = Buffer.from(code, "base64").toString("utf8");
    }
    for (const [what, value] of Object.entries(secrets)) {
      expect([what, value.length > 10, state.includes(value)]).toEqual([what, true, false]);
    }
    const deployment = (JSON.parse(state) as { deployment: unknown }).deployment as {
      resources: {
        urn: string;
        inputs?: { __provider?: string };
        outputs?: Record<string, unknown>;
      }[];
    };
    const conn = deployment.resources.find((r) => r.urn === urn("private"))!;
    const provider = conn.inputs!.__provider!;
    expect(provider.length).toBeLessThan(4000);
    for (const word of ["BEGIN", "client-key", "token:", enforce.token]) {
      expect(provider.includes(word)).toBe(false);
    }
    // The kubeconfig output is stored encrypted.
    expect(JSON.stringify(conn.outputs!.kubeconfig)).toContain("ciphertext");
  });

  test("a rotated key: preview names signingKeyIds and the key ids; up replaces without a gap; preview is clean again", async () => {
    const before = await outputs();
    const uploaded = (await t.stack.outputs()).privateSigningKeyIds?.value as string[];
    await control(env.ready, "/rotate-key", { cluster: "cluster-1" });

    const preview = await run("preview");
    const replace = preview.ops.find((o) => o.urn === urn("private") && o.op === "replace");
    expect(replace?.keys).toEqual(["signingKeyIds"]);
    expect(opsOn(preview.ops, "public")).toEqual([]);
    // Without --diff, the sentence shows in the Diagnostics section, under the connection.
    const plain = await run("preview", false);
    const [said] = explained(plain, "private");
    expect(said).toMatch(/^replace: the cluster's service account signing keys changed/);
    expect(plain.stdout).toMatch(
      /Diagnostics:\n\s+pulumi-nodejs:dynamic:EnforceClusterConnection \(private\):\n\s+replace: /,
    );
    // With diffs run concurrently, the checks wait in diff: the same replacement, the same words.
    const parallel = await runEngine(t, "preview", true, PARALLEL_DIFF);
    expect(parallel.ops.find((o) => o.urn === urn("private") && o.op === "replace")?.keys).toEqual([
      "signingKeyIds",
    ]);
    expect(explained(parallel, "private")).toEqual([said]);
    expect(opsOn(parallel.ops, "public")).toEqual([]);

    // Watch the installation through the whole replacement.
    const gaps: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const [sts, listed] = await Promise.all([
          kubectl(env.ready, at(env.ready.clusters, 0).kubeconfig, [
            "-n",
            "gulfstream",
            "get",
            "statefulset",
            "meta-controlplane",
            "--ignore-not-found",
            "-o",
            "name",
          ]),
          platform.listClusters({ id: before.privateClusterId }),
        ]);
        if (!sts.trim()) gaps.push("agent uninstalled");
        if (listed.length === 0) gaps.push("cluster unregistered");
      }
    })();
    const up = await run("up");
    watching = false;
    await watcher;
    expect(up.summary).toMatchObject({ replace: 1, same: 2 });
    expect(gaps).toEqual([]);

    const after = await outputs();
    // The preview said why, in words, with the uploaded and the new key ids.
    const now = (await t.stack.outputs()).privateSigningKeyIds?.value as string[];
    expect(now).not.toEqual(uploaded);
    const [sentence, ...more] = explained(preview, "private");
    expect(more).toEqual([]);
    expect(sentence).toContain(
      `replace: the cluster's service account signing keys changed (uploaded ${uploaded.join(", ")}, ` +
        "the cluster now signs with ",
    );
    for (const id of now) expect(sentence).toContain(id);
    expect(sentence).toContain("the agent is not reinstalled");
    expect(explained(preview, "public")).toEqual([]);
    expect(after.privateClusterId).toBe(before.privateClusterId);
    expect(after.privateIdentityId).not.toBe(before.privateIdentityId);
    const identities = await platform.listIdentities({ childrenOf: enforce.group });
    expect(identities.map((i) => i.id)).toEqual([after.privateIdentityId]);
    const clean = await run("preview");
    expect(clean.summary).toEqual({ same: 3 });
    expect(explained(clean, "private")).toEqual([]);
  });

  test('renewAfter "20s": after the window preview replaces on renewAt, and up renews', async () => {
    settings.private = { renewAfter: "20s" };
    await run("up");
    const { privateRenewAt } = await outputs();
    const renewAt = Date.parse(privateRenewAt);
    expect(renewAt).toBeLessThan(Date.now() + 21_000);

    await eventually(
      "the renewal window to pass",
      async () => (Date.now() > renewAt ? true : undefined),
      30_000,
    );
    const preview = await run("preview");
    expect(preview.ops.find((o) => o.urn === urn("private") && o.op === "replace")?.keys).toEqual([
      "renewAt",
    ]);
    const up = await run("up");
    expect(up.summary).toMatchObject({ replace: 1 });
    expect(Date.parse((await outputs()).privateRenewAt)).toBeGreaterThan(renewAt);
    settings.private = {};
    await run("up");
  });

  test("a new description is an in-place update", async () => {
    settings.public = { description: "connected by pulumi-enforce" };
    const preview = await run("preview");
    expect(opsOn(preview.ops, "public")).toEqual(["update"]);
    expect(explained(preview, "public")).toEqual([
      expect.stringContaining(
        'update in place: description (unset) -> "connected by pulumi-enforce"',
      ),
    ]);
    const up = await run("up");
    expect(up.summary).toMatchObject({ update: 1, same: 2 });
    const [cluster] = await platform.listClusters({ id: (await outputs()).publicClusterId });
    expect(cluster?.description).toBe("connected by pulumi-enforce");
  });

  test("drift: a namespace deleted by hand is noticed by refresh, and up reinstalls", async () => {
    const { publicRemoteId } = await outputs();
    await kubectl(env.ready, at(env.ready.clusters, 1).kubeconfig, [
      "delete",
      "namespace",
      "gulfstream",
      "--wait=true",
    ]);
    const refresh = await run("refresh");
    expect(refresh.summary).toMatchObject({ delete: 1 });
    const up = await run("up");
    expect(opsOn(up.ops, "public")).toEqual(["create"]);
    const { publicRemoteId: reinstalled } = await outputs();
    expect(reinstalled).not.toBe(publicRemoteId);
    expect(await platform.listClusters({ remoteId: reinstalled })).toHaveLength(1);
    // What refresh said was left behind in Enforce: the old registration.
    await platform.deleteCluster(
      at(await platform.listClusters({ remoteId: publicRemoteId }), 0).id,
    );
  });

  test("an upgraded provider (new package code) causes no replacement", async () => {
    // A copy of the built package whose provider code differs, as after `npm update`.
    const copy = path.join(repoRoot, ".tmp", "upgraded-package");
    fs.rmSync(copy, { recursive: true, force: true });
    fs.cpSync(path.join(repoRoot, "dist"), path.join(copy, "dist"), { recursive: true });
    fs.cpSync(path.join(repoRoot, "manifests"), path.join(copy, "manifests"), { recursive: true });
    const shim = path.join(copy, "dist/provider/dynamic.js");
    const code = fs.readFileSync(shim, "utf8");
    expect(code).toContain("cannot load its provider");
    fs.writeFileSync(
      shim,
      code.replace("cannot load its provider", "cannot load its provider (v2)"),
    );
    settings.sdk = require(path.join(copy, "dist/sdk")) as Sdk;
    try {
      const preview = await run("preview");
      expect(preview.ops.filter((o) => o.op !== "same")).toEqual([]);
      const up = await run("up");
      expect(up.ops.filter((o) => o.op !== "same")).toEqual([]);
    } finally {
      settings.sdk = require("../../sdk") as Sdk;
    }
  });

  test("an unreachable cluster fails the preview naming kubeconfig, whether check or diff waits for it", async () => {
    await control(env.ready, "/stop-apiserver", { cluster: "cluster-1" });
    const failures: string[] = [];
    try {
      for (const engineEnv of [{}, PARALLEL_DIFF]) {
        const err = await runEngine(t, "preview", true, engineEnv).then(
          () => new Error("the preview passed"),
          (e: Error) => e,
        );
        failures.push(err.message);
      }
    } finally {
      await control(env.ready, "/start-apiserver", { cluster: "cluster-1" });
    }
    const server = at(env.ready.clusters, 0).apiServer;
    const [inCheck = "", inDiff = ""] = failures;
    // Engine defaults: a check failure on the property.
    expect(inCheck).toMatch(
      /property kubeconfig value \{\[secret\]\} has a problem: cannot reach the Kubernetes API server/,
    );
    // PULUMI_PARALLEL_DIFF: the same reason, from diff.
    expect(inDiff).toMatch(
      /the connection's check failed: kubeconfig: .*cannot reach the Kubernetes API server/,
    );
    for (const text of failures) {
      expect(text).toContain(server);
      expect(text).toContain("Fix:");
      expect(text).not.toContain(at(kubeconfigs, 0));
      expect(text).not.toMatch(/\n\s+at /); // no stack trace
    }
    const clean = await run("preview");
    expect(clean.summary).toEqual({ same: 3 });
  });

  test("destroy leaves nothing labelled in either cluster and nothing in Enforce", async () => {
    await t.stack.destroy();
    for (const i of [0, 1]) expect((await labelled(i)).map((o) => o.metadata.name)).toEqual([]);
    expect(await platform.listClusters({ descendantsOf: enforce.group })).toEqual([]);
    expect(await platform.listIdentities({ childrenOf: enforce.group })).toEqual([]);
  });
});
