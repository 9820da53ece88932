import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import type { EnforceSection } from "../../local/platform-services";
import { PlatformClient } from "../../provider/platform";
import { EnforceClusterConnection } from "../../sdk";
import {
  eventually,
  kubectl,
  type OwnEnv,
  emulatorStackConfig,
  startOwnEnv,
  stopOwnEnv,
} from "../support/env";
import { at } from "../support/fixture";
import {
  createTestStack,
  explained,
  loggedWith,
  opsOn,
  runEngine,
  type EngineRun,
  type TestStack,
} from "../support/pulumi";

/**
 * Drift of what a connection installed, through the real Pulumi CLI: an object edited or deleted
 * by hand (kubectl) is found by `pulumi refresh`, named (object and field) by `pulumi preview
 * --diff` with an update, and restored by `pulumi up`, after which the preview is clean. One
 * private connection on one cluster; tests build on one another, in order. Own environment,
 * because the installation is edited.
 */

const NAME = "drifting";
const URN = `urn:pulumi:test::enforce-drift::pulumi-nodejs:dynamic:EnforceClusterConnection::${NAME}`;
const WEBHOOK = "MutatingWebhookConfiguration enforcer.chainguard.dev";
const ROLE_BINDING = "RoleBinding gulfstream/gulfstream-secrets";

describe("drift of a connection's installation, through the Pulumi CLI", () => {
  let env: OwnEnv;
  let enforce: EnforceSection;
  let platform: PlatformClient;
  let t: TestStack;
  let kubeconfig: string;

  beforeAll(async () => {
    env = await startOwnEnv(["--clusters", "1"]);
    enforce = env.ready.enforce as EnforceSection;
    platform = new PlatformClient({
      apiUrl: enforce.apiUrl,
      token: enforce.token,
      ca: fs.readFileSync(enforce.caFile, "utf8"),
    });
    kubeconfig = fs.readFileSync(at(env.ready.clusters, 0).kubeconfig, "utf8");
    t = await createTestStack(env.ready, "enforce-drift", async () => {
      const conn = new EnforceClusterConnection(NAME, {
        kubeconfig: pulumi.secret(kubeconfig),
        group: enforce.group,
        registrationTimeout: "2m",
      });
      return {
        clusterId: conn.clusterId,
        identityId: conn.identityId,
        registeredAt: conn.registeredAt,
      };
    });
    await t.stack.setAllConfig(emulatorStackConfig(enforce));
  }, 600_000);
  afterAll(async () => {
    await t?.cleanup();
    await platform?.close();
    await stopOwnEnv(env);
  });

  const run = (what: "up" | "preview" | "refresh") => runEngine(t, what);
  const k = (args: string[]) => kubectl(env.ready, at(env.ready.clusters, 0).kubeconfig, args);
  /** A field of a live object, through `kubectl get -o jsonpath`. */
  const field = (args: string[], path: string) => k([...args, "-o", `jsonpath=${path}`]);
  const failurePolicy = () =>
    field(
      ["get", "mutatingwebhookconfiguration", "enforcer.chainguard.dev"],
      "{.webhooks[0].failurePolicy}",
    );
  const controllerImage = () =>
    field(
      ["-n", "gulfstream", "get", "statefulset", "meta-controlplane"],
      '{.spec.template.spec.containers[?(@.name=="controller")].image}',
    );
  const credsData = async () =>
    JSON.parse(
      (await field(["-n", "gulfstream", "get", "secret", "mcp-creds"], "{.data}")) || "{}",
    ) as Record<string, string>;
  const stackOutputs = async () =>
    Object.fromEntries(
      Object.entries(await t.stack.outputs()).map(([key, v]) => [key, v.value as string]),
    );

  /** What refresh said about drift, once. */
  function refreshSaid(r: EngineRun): string {
    const said = loggedWith(r, URN).filter((m) => m.startsWith(`connection "${NAME}": `));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain("`pulumi up` restores them");
    return said[0]!;
  }

  /**
   * Refresh, then `preview --diff`: an update of the connection, whose sentence names each of
   * `expected` (object and field); resolves with the sentence.
   */
  async function refreshThenPreview(expected: string[]): Promise<string> {
    const refresh = await run("refresh");
    const noticed = refreshSaid(refresh);
    for (const line of expected) expect(noticed).toContain(line);
    for (const said of explained(refresh, URN)) expect(said).toMatch(/^update in place: /);
    const preview = await run("preview");
    expect(opsOn(preview.ops, URN)).toEqual(["update"]);
    const [sentence, ...more] = explained(preview, URN);
    expect(more).toEqual([]);
    expect(sentence).toMatch(
      /^update in place: \d+ of the agent's objects changed outside Pulumi: /,
    );
    for (const line of expected) expect(sentence).toContain(line);
    expect(sentence).toContain("up restores them");
    return sentence!;
  }

  /** `up` updates the connection in place; the preview after it is clean. */
  async function upRestores(): Promise<void> {
    const up = await run("up");
    expect(up.summary).toMatchObject({ update: 1 });
    const clean = await run("preview");
    expect(opsOn(clean.ops, URN)).toEqual([]);
    expect(explained(clean, URN)).toEqual([]);
  }

  test("up connects the cluster; a refresh right after finds no drift, and the preview is clean", async () => {
    const up = await run("up");
    expect(up.summary).toMatchObject({ create: 2 });
    expect(await failurePolicy()).toBe("Fail");
    const refresh = await run("refresh");
    expect(loggedWith(refresh, URN).filter((m) => m.startsWith(`connection "${NAME}": `))).toEqual(
      [],
    );
    // Nor does refresh's own diff, of the inputs stored before the agent's namespace existed,
    // explain a change that is not there.
    expect(explained(refresh, URN)).toEqual([]);
    const preview = await run("preview");
    expect(opsOn(preview.ops, URN)).toEqual([]);
  });

  test("a webhook's failurePolicy flipped to Ignore and a RoleBinding deleted: named by the preview, restored by up", async () => {
    await k([
      "patch",
      "mutatingwebhookconfiguration",
      "enforcer.chainguard.dev",
      "--type=json",
      "-p",
      JSON.stringify([{ op: "replace", path: "/webhooks/0/failurePolicy", value: "Ignore" }]),
    ]);
    await k(["-n", "gulfstream", "delete", "rolebinding", "gulfstream-secrets"]);
    expect(await failurePolicy()).toBe("Ignore");

    await refreshThenPreview([
      `${WEBHOOK}: webhooks[0].failurePolicy is Ignore, want Fail`,
      `${ROLE_BINDING}: deleted`,
    ]);
    // A preview does not change the cluster.
    expect(await failurePolicy()).toBe("Ignore");

    await upRestores();
    expect(await failurePolicy()).toBe("Fail");
    const subjects = await field(
      ["-n", "gulfstream", "get", "rolebinding", "gulfstream-secrets"],
      "{.subjects[0].name}",
    );
    expect(subjects).toBe("controller");
  });

  test("a container's image changed: named with the image it should run, restored by up", async () => {
    const pinned = await controllerImage();
    const uid = await field(
      ["-n", "gulfstream", "get", "statefulset", "meta-controlplane"],
      "{.metadata.uid}",
    );
    await k([
      "-n",
      "gulfstream",
      "set",
      "image",
      "statefulset/meta-controlplane",
      "controller=registry.example/not-the-agent:1",
    ]);
    await refreshThenPreview([
      "StatefulSet gulfstream/meta-controlplane: spec.template.spec.containers[0].image is " +
        `registry.example/not-the-agent:1, want ${pinned}`,
    ]);
    await upRestores();
    expect(await controllerImage()).toBe(pinned);
    // Restored in place: the agent's workload was not recreated.
    expect(
      await field(
        ["-n", "gulfstream", "get", "statefulset", "meta-controlplane"],
        "{.metadata.uid}",
      ),
    ).toBe(uid);
  });

  test("mcp-creds emptied: named by key, never by value; up registers the agent again with a new invite and identity", async () => {
    const before = await stackOutputs();
    const old = await credsData();
    const oldCode = Buffer.from(old.code ?? "", "base64").toString("utf8");
    expect(oldCode.length).toBeGreaterThan(10);
    await k([
      "-n",
      "gulfstream",
      "patch",
      "secret",
      "mcp-creds",
      "--type=json",
      "-p",
      JSON.stringify([{ op: "replace", path: "/data", value: {} }]),
    ]);
    expect(await credsData()).toEqual({});

    const sentence = await refreshThenPreview([
      "Secret gulfstream/mcp-creds: key code removed",
      "Secret gulfstream/mcp-creds: key cluster-name removed",
    ]);
    expect(sentence).toContain("the agent registers again with a new invite and a new identity");

    const up = await run("up");
    expect(up.summary).toMatchObject({ update: 1 });
    // No credential in anything the CLI printed.
    for (const text of [sentence, up.output]) {
      expect(text.includes(oldCode)).toBe(false);
      expect(text.includes(old.code!)).toBe(false);
    }
    const after = await stackOutputs();
    expect(after.clusterId).toBe(before.clusterId);
    expect(after.identityId).not.toBe(before.identityId);
    const restored = await credsData();
    const text = (key: string) => Buffer.from(restored[key] ?? "", "base64").toString("utf8");
    expect(text("code").length).toBeGreaterThan(10);
    expect(text("code")).not.toBe(oldCode);
    expect(text("cluster-name")).toBe(NAME);
    expect(text("identity-uid")).toBe(after.identityId);
    // The agent registered with it, and the identity it no longer uses is gone.
    const [cluster] = await platform.listClusters({ id: after.clusterId });
    expect(Date.parse(cluster!.registered)).toBeGreaterThan(Date.parse(before.registeredAt!));
    await eventually("the superseded identity to be deleted", async () => {
      const ids = (await platform.listIdentities({ childrenOf: enforce.group })).map((i) => i.id);
      return ids.length === 1 && ids[0] === after.identityId ? true : undefined;
    });
    const clean = await run("preview");
    expect(opsOn(clean.ops, URN)).toEqual([]);
  });
});
