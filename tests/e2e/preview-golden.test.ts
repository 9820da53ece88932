import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { callControl } from "../../local/control-plane/control-client";
import type { EnforceSection } from "../../local/platform-services";
import {
  collapseRepeats,
  withoutUpdateRows,
  withoutWaitProgress,
  connectionPart,
  maskOutput,
  type KnownValue,
  type ResourceRef,
} from "../support/cli-output";
import {
  CONNECTION_NAME,
  createDirectoryProgram,
  type CliRun,
  type ConnectionSettings,
  type DirectoryProgram,
} from "../support/directory-program";
import {
  eventually,
  kubectl,
  type OwnEnv,
  emulatorStackConfig,
  repoRoot,
  startOwnEnv,
  stopOwnEnv,
} from "../support/env";
import { at } from "../support/fixture";
import { expectGolden } from "../support/golden";

/**
 * What a CI reviewer reads about a connection, pinned: `pulumi preview --diff`, `pulumi preview`
 * and (for a key rotation) `pulumi up`, run by the real CLI on a directory program, for each case
 * of issue 13 (create, in-place settings, group, connectivity, another cluster, key rotation,
 * renewal, agent namespace recreated). The connection's part of each output, masked, must equal
 * its file under tests/golden/; `UPDATE_GOLDEN=1` rewrites those files instead (see
 * CONTRIBUTING.md). `pulumi preview --json` is checked for the replace reasons CI bots read, and
 * no output may hold a credential. One stack, in order; mostly previews, so it stays fast. Own
 * environment: keys are rotated and namespaces deleted.
 */

const CONNECTION: ResourceRef = {
  type: "pulumi-nodejs:dynamic:EnforceClusterConnection",
  name: CONNECTION_NAME,
};
const URN = `urn:pulumi:ci::enforce-golden::${CONNECTION.type}::${CONNECTION.name}`;

/** A step of `pulumi preview --json` (the CLI's display.PreviewStep), as far as read here. */
interface PreviewStep {
  op: string;
  urn: string;
  replaceReasons?: string[];
  diffReasons?: string[];
  detailedDiff?: unknown;
}

/**
 * The replace reasons the README's "Reading a preview" table documents: the property names in
 * the first column of its rows.
 */
function documentedReplaceReasons(): string[] {
  const readme = fs.readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const section = readme.split(/^## /m).find((s) => s.startsWith("Reading a preview"));
  if (!section) throw new Error('README.md has no "## Reading a preview" section');
  return section
    .split("\n")
    .filter((line) => /^\| `/.test(line))
    .flatMap((line) => [...(line.split("|")[1] ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
}

describe("what the Pulumi CLI prints for a connection (golden files)", () => {
  let env: OwnEnv;
  let enforce: EnforceSection;
  let program: DirectoryProgram;
  /** Values replaced by named placeholders before comparing (see maskOutput). */
  const known: KnownValue[] = [];
  /** Credentials no output may contain, by what they are. */
  const credentials: Record<string, string> = {};

  beforeAll(async () => {
    env = await startOwnEnv(["--clusters", "2"]);
    enforce = env.ready.enforce as EnforceSection;
    program = await createDirectoryProgram(
      env.ready,
      "enforce-golden",
      "ci",
      emulatorStackConfig(enforce),
    );
    credentials["the platform token"] = enforce.token;
    known.push(
      [program.base, "<tmp>"],
      [env.dir, "<env>"],
      [enforce.group, "<group>"],
      [enforce.teamGroup, "<team-group>"],
      [new URL(enforce.apiUrl).host, "127.0.0.1:<enforce-port>"],
      [new URL(enforce.issuerUrl).host, "127.0.0.1:<enforce-port>"],
    );
    for (const [i, c] of env.ready.clusters.entries()) {
      const n = i + 1;
      const user = parse(fs.readFileSync(c.kubeconfig, "utf8")).users[0].user;
      credentials[`cluster-${n}'s client key`] = user["client-key-data"] as string;
      const uid = await kubectl(env.ready, c.kubeconfig, [
        ...["get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}"],
      ]);
      known.push(
        [new URL(c.issuer).host, `127.0.0.1:<cluster-${n}-port>`],
        [new URL(c.apiServer).host, `127.0.0.1:<cluster-${n}-port>`],
        [c.signingKeyId, `<cluster-${n}-kid-1>`],
        [uid, `<cluster-${n}-uid>`],
      );
    }
  }, 300_000);
  afterAll(async () => {
    program?.cleanup();
    await stopOwnEnv(env);
  });

  const cluster = (i: number) => at(env.ready.clusters, i);
  const settings = (over: Partial<ConnectionSettings> = {}): ConnectionSettings => ({
    kubeconfigPath: cluster(0).kubeconfig,
    group: enforce.group,
    registrationTimeout: "2m",
    ...over,
  });

  /** Keeps what a run printed, unmasked, in .tmp/golden-raw/ (to read when a comparison fails). */
  function keepRaw(name: string, run: CliRun): void {
    const file = path.join(
      repoRoot,
      ".tmp",
      "golden-raw",
      `${name.replace(/\.txt$/, "").replace(/\//g, "_")}.txt`,
    );
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const printed = `--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
    fs.writeFileSync(file, `$ pulumi ${run.args.join(" ")}\n${printed}`);
  }

  /** Runs `pulumi <args>`; fails if what it printed holds a credential. */
  async function cli(name: string, args: string[]): Promise<CliRun> {
    const run = await program.cli(args);
    keepRaw(name, run);
    const printed = run.stdout + run.stderr;
    const leaked = Object.entries(credentials).filter(([, value]) => printed.includes(value));
    expect(leaked.map(([what]) => `${what} in the output of pulumi ${args.join(" ")}`)).toEqual([]);
    return run;
  }

  /** Runs `pulumi <args>` and compares the connection's part, masked, with golden `name`. */
  async function golden(name: string, args: string[]): Promise<CliRun> {
    const run = await cli(name, args);
    // What varies with timing goes before masking, so that placeholders are numbered the same.
    const part = withoutUpdateRows(withoutWaitProgress(connectionPart(run, CONNECTION)));
    expectGolden(name, collapseRepeats(maskOutput(part, known)));
    return run;
  }

  /** `preview --diff` and `preview` of the declared settings, each against its golden file. */
  async function previews(scenario: string): Promise<{ diff: CliRun; plain: CliRun }> {
    const diff = await golden(`preview/${scenario}.diff.txt`, ["preview", "--diff"]);
    const plain = await golden(`preview/${scenario}.txt`, ["preview"]);
    return { diff, plain };
  }

  /** The connection's steps and diagnostics' messages in `pulumi preview --json`. */
  async function jsonPreview(scenario: string): Promise<{ steps: PreviewStep[]; said: string[] }> {
    const run = await cli(`json/${scenario}`, ["preview", "--json"]);
    const { steps, diagnostics = [] } = JSON.parse(run.stdout) as {
      steps: PreviewStep[];
      diagnostics?: Array<{ urn?: string; message: string }>;
    };
    return {
      steps: steps.filter((step) => step.urn === URN),
      said: diagnostics.filter((d) => d.urn === URN).map((d) => d.message.trim()),
    };
  }

  /** Asserts the JSON preview replaces the connection for `reason`, a documented property name. */
  async function expectJsonReplace(scenario: string, reason: string): Promise<string[]> {
    const { steps, said } = await jsonPreview(scenario);
    // Only the logical replace step: --json hides create-replacement and delete-replaced.
    expect(steps.map((s) => [s.op, s.replaceReasons])).toEqual([["replace", [reason]]]);
    // A dynamic provider sends no `diffs` and no detailed diff (docs/engine-display.md, §2-3).
    expect(steps.map((s) => [s.diffReasons, s.detailedDiff ?? null])).toEqual([[undefined, null]]);
    expect(documentedReplaceReasons()).toContain(reason);
    return said;
  }

  test("first create: the preview of a new stack, then up", async () => {
    program.declare(settings());
    await previews("create");
    await cli("up/create", ["up", "--yes"]);
    const code = await kubectl(env.ready, cluster(0).kubeconfig, [
      ...["-n", "gulfstream", "get", "secret", "mcp-creds", "-o", "jsonpath={.data.code}"],
    ]);
    const invite = Buffer.from(code, "base64").toString("utf8");
    expect(invite.length).toBeGreaterThan(10);
    credentials["the invite code"] = invite;
  });

  test("in-place setting changes: description; profiles, enforcerOptions and agentImages", async () => {
    program.declare(settings({ description: "connected by pulumi-enforce" }));
    await previews("in-place-description");
    // An update carries no reason in --json: diffReasons would be the step's `diffs`, which a
    // dynamic provider cannot send (docs/engine-display.md, §2), and UpdateStep has no `keys`.
    const { steps } = await jsonPreview("in-place-description");
    expect(
      steps.map((s) => [s.op, s.replaceReasons, s.diffReasons, s.detailedDiff ?? null]),
    ).toEqual([["update", undefined, undefined, null]]);
    program.declare(
      settings({
        profiles: ["observer"],
        enforcerOptions: { webhookFailOpen: true, namespaceEnforcementMode: "opt-out" },
        agentImages: { controlplane: "registry.example.com/mirror/controlplane:v0.1.255" },
      }),
    );
    await previews("in-place-agent-settings");
  });

  test("group change: replaced for `group`", async () => {
    program.declare(settings({ group: enforce.teamGroup }));
    await previews("group");
    await expectJsonReplace("group", "group");
  });

  test("connectivity change: private -> public", async () => {
    program.declare(settings({ connectivity: "public", exposeIssuerDiscovery: true }));
    await previews("connectivity");
  });

  test("kubeconfig pointing at the other cluster", async () => {
    program.declare(settings({ kubeconfigPath: cluster(1).kubeconfig }));
    await previews("other-cluster");
  });

  test("key rotation of a private connection: previews name both key ids in a sentence; up replaces", async () => {
    program.declare(settings());
    const { kid } = await callControl(env.ready.controlSocket, "/rotate-key", {
      cluster: cluster(0).name,
    });
    if (!kid) throw new Error("the control socket's /rotate-key answered without the new kid");
    known.push([kid, "<cluster-1-kid-2>"]);
    const { diff, plain } = await previews("key-rotation");
    // The provider's sentence, with the uploaded and the current key id: on stderr under
    // --diff, and in the Diagnostics under the connection without it.
    const sentence =
      "replace: the cluster's service account signing keys changed " +
      `(uploaded ${cluster(0).signingKeyId}, the cluster now signs with ${kid}); `;
    expect(diff.stderr).toContain(sentence);
    expect(plain.stdout).toContain(
      `Diagnostics:\n  ${CONNECTION.type} (${CONNECTION.name}):\n    ${sentence}`,
    );
    // --json carries the sentence too, as the connection's one diagnostic.
    const said = await expectJsonReplace("key-rotation", "signingKeyIds");
    expect(said).toEqual([expect.stringContaining(sentence)]);
    await golden("up/key-rotation.txt", ["up", "--yes"]);
  });

  test("renewal: once renewAfter has passed, preview proposes the replacement", async () => {
    program.declare(settings({ renewAfter: "20s" }));
    await cli("up/renew-after", ["up", "--yes"]);
    await eventually(
      "a preview proposing the renewal",
      async () => {
        const { steps } = await jsonPreview("renewal-poll");
        return steps.some((s) => s.replaceReasons?.includes("renewAt")) ? true : undefined;
      },
      120_000,
    );
    await previews("renewal");
    // Back to the default renewAfter: an update in place, and nothing due.
    program.declare(settings());
    await cli("up/renew-after-default", ["up", "--yes"]);
  });

  test("agent namespace recreated", async () => {
    const kubeconfig = cluster(0).kubeconfig;
    await kubectl(env.ready, kubeconfig, ["delete", "namespace", "gulfstream", "--wait=false"]);
    await eventually(
      "the gulfstream namespace to be gone",
      async () => {
        const left = await kubectl(env.ready, kubeconfig, [
          ...["get", "namespace", "gulfstream", "--ignore-not-found", "-o", "name"],
        ]);
        return left.trim() === "" ? true : undefined;
      },
      120_000,
    );
    await kubectl(env.ready, kubeconfig, ["create", "namespace", "gulfstream"]);
    await previews("namespace-recreated");
  });
});
