import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { EngineEvent } from "@pulumi/pulumi/automation";
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
  emulatorTokenClient,
  repoRoot,
  startOwnEnv,
  stopOwnEnv,
} from "../support/env";
import { at } from "../support/fixture";
import { logFilesUnder, SecretScan, type SecretHit } from "../support/secret-scan";
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
  /** The secrets in use, and what every CLI run printed and reported, for the secret scans. */
  const scan = new SecretScan();
  const printed: { source: string; text: string }[] = [];

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

  /** Whether `e` is a debug diagnostic (the automation API's type leaves that severity out). */
  const isDebug = (e: EngineEvent) => (e.diagnosticEvent?.severity as string) === "debug";

  /** Runs the engine (see runEngine), keeping what it printed and its events for the scans. */
  async function run(
    what: "up" | "preview" | "refresh",
    diff = true,
    vars: Record<string, string> = {},
    logVerbosity?: number,
  ): Promise<EngineRun> {
    const r = await runEngine(t, what, diff, vars, logVerbosity);
    printed.push({ source: `pulumi ${what}: output`, text: r.output });
    // Debug diagnostics are shown with --debug only; the engine logging test pins what they carry.
    const shown = r.events.filter((e) => !isDebug(e));
    printed.push({ source: `pulumi ${what}: engine events`, text: JSON.stringify(shown) });
    // Each up may hand the agents new invite codes: scan for them too.
    if (what === "up") await scan.collect(env.ready);
    return r;
  }

  /**
   * The secrets in use (collected now and at every scan before) found in the exported state as
   * the CLI prints it, in what every run printed (the provider's stderr among it), in the
   * events but debug diagnostics, in the engine's log files (none at the default level) and in
   * the environment's logs (emulator, agent stand-ins, API servers and their audit logs).
   */
  async function leaks(): Promise<SecretHit[]> {
    await scan.collect(env.ready);
    const state = await t.cli(["stack", "export"]);
    return [
      ...scan.scanText("pulumi stack export", state),
      ...printed.flatMap((p) => scan.scanText(p.source, p.text)),
      ...scan.scanLogs(t.logDir, env.dir),
    ];
  }
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
    const parallel = await run("preview", true, PARALLEL_DIFF);
    expect(parallel.summary).toEqual({ same: 3 });
    expect(explained(parallel, "private")).toEqual([]);

    // No secret value in the exported state, what the CLI printed, or any log; and no credential
    // in the provider code. `pulumi stack export` as a user runs it (the automation API's
    // exportStack adds --show-secrets).
    expect(await leaks()).toEqual([]);
    expect(scan.names()).toEqual(
      expect.arrayContaining([
        "cluster-1 admin client-key-data",
        "cluster-2 invite code",
        "platform token (enforce:token)",
      ]),
    );
    const state = await t.cli(["stack", "export"]);
    expect(state).toContain("ciphertext");
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

  /**
   * What @pulumi/pulumi's runtime logs at debug level, as `<Rpc> RPC finished` messages with the
   * RPC's whole answer, in the lines of `text` that hold a secret: the distinct message kinds.
   */
  function carriers(text: string): string[] {
    const kinds = scan
      .linesWithSecrets(text)
      .map((line) => /(\w+ RPC finished)/.exec(line)?.[1] ?? "another line");
    return [...new Set(kinds)];
  }

  test("engine logging: @pulumi/pulumi's debug messages carry the kubeconfig from -v=3, never the platform token or an invite code; nothing at the default level", async () => {
    // The runs so far were at the default level: no engine log at all.
    expect(logFilesUnder(t.logDir)).toEqual([]);
    const kubeconfigSecrets = [1, 2].flatMap((i) =>
      ["client-key-data", "client-certificate-data"].map((f) => `cluster-${i} admin ${f}`),
    );
    const leaked = () => [...new Set(scan.scanLogs(t.logDir).map((h) => h.secret))].sort();
    const carriedBy = () => [
      ...new Set(logFilesUnder(t.logDir).flatMap((f) => carriers(fs.readFileSync(f, "utf8")))),
    ];

    await run("preview", true, {}, 2);
    expect(logFilesUnder(t.logDir).length).toBeGreaterThan(0);
    expect(leaked()).toEqual([]);

    await run("preview", true, {}, 3);
    expect(leaked()).toEqual([...kubeconfigSecrets].sort());
    const preview = await run("preview", true, {}, 9);
    expect(preview.summary).toEqual({ same: 3 });
    const up = await run("up", true, {}, 9);
    expect(up.summary).toEqual({ same: 3 });
    // The connections' kubeconfig only, and only in the runtime's answer of RegisterResource
    // (the resource's outputs, the kubeconfig among them, are in the answer).
    expect(leaked()).toEqual([...kubeconfigSecrets].sort());
    expect(carriedBy()).toEqual(["RegisterResource RPC finished"]);
    // The same messages are debug diagnostics in the engine's events (--debug shows them).
    const debug = JSON.stringify(up.events.filter(isDebug));
    expect(carriers(debug)).toEqual(["RegisterResource RPC finished"]);
    // Everything else, at the default level, holds no secret; the -v logs are set aside.
    fs.rmSync(t.logDir, { recursive: true, force: true });
    fs.mkdirSync(t.logDir);
    expect(await leaks()).toEqual([]);
  });

  test("a rotated enforce:token: preview --diff and up change no connection; the token is not in state", async () => {
    const tokens = emulatorTokenClient(env.ready);
    const rotated = await tokens.mint().finally(() => tokens.close());
    scan.add("rotated platform token (enforce:token)", rotated);
    await t.stack.setConfig("enforce:token", { value: rotated, secret: true });

    const preview = await run("preview");
    expect(preview.summary).toEqual({ same: 3 });
    expect(preview.ops.filter((o) => o.op !== "same")).toEqual([]);
    expect(explained(preview, "private")).toEqual([]);
    expect(explained(preview, "public")).toEqual([]);
    const up = await run("up");
    expect(up.summary).toEqual({ same: 3 });
    expect(up.ops.filter((o) => o.op !== "same")).toEqual([]);
    // The state holds the new token, encrypted: in clear only with --show-secrets.
    expect(JSON.stringify(await t.stack.exportStack())).toContain(rotated);
    expect(await leaks()).toEqual([]);
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
    const parallel = await run("preview", true, PARALLEL_DIFF);
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
        const err = await run("preview", true, engineEnv).then(
          () => new Error("the preview passed"),
          (e: Error) => e,
        );
        failures.push(err.message);
        printed.push({ source: "pulumi preview (failing): output", text: err.message });
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

  test("destroy leaves nothing labelled in either cluster and nothing in Enforce, and no secret in any output or log", async () => {
    const destroyed = await t.stack.destroy();
    printed.push({ source: "pulumi destroy", text: `${destroyed.stdout}\n${destroyed.stderr}` });
    for (const i of [0, 1]) expect((await labelled(i)).map((o) => o.metadata.name)).toEqual([]);
    expect(await platform.listClusters({ descendantsOf: enforce.group })).toEqual([]);
    expect(await platform.listIdentities({ childrenOf: enforce.group })).toEqual([]);
    expect(await leaks()).toEqual([]);
  });
});
