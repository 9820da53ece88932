import type { EnforceSection } from "../../local/platform-services";
import type { FaultClient } from "../../local/platform";
import { listObjects } from "../../provider/install/uninstall";
import { MANAGED_SELECTOR } from "../../provider/install/ownership";
import { KubeClient } from "../../provider/kube/client";
import type { PlatformClient } from "../../provider/platform";
import { createDirectoryProgram, type DirectoryProgram } from "../support/directory-program";
import {
  emulatorClient,
  emulatorFaultClient,
  emulatorStackConfig,
  startOwnEnv,
  stopOwnEnv,
  type OwnEnv,
} from "../support/env";
import { at } from "../support/fixture";
import { SecretScan } from "../support/secret-scan";

/**
 * A platform outage longer than the retry bound, through the real Pulumi CLI: `pulumi up` fails
 * within a bound and says what happened and what to do, the `up` after the outage converges,
 * and `pulumi destroy` (failing during a second outage, then succeeding) leaves nothing behind.
 * The outage is injected into the real emulator (`--fault-injection`); the provider's client and
 * retry policy are the real ones. Last, the secret scan: no secret in state, output or logs.
 */
describe("a platform outage through the CLI", () => {
  let env: OwnEnv;
  let enforce: EnforceSection;
  let program: DirectoryProgram;
  let faults: FaultClient;
  let platform: PlatformClient;
  /** The secrets in use, and what every CLI run printed (failures included), for the scan. */
  const scan = new SecretScan();
  const printed: { source: string; text: string }[] = [];

  beforeAll(async () => {
    env = await startOwnEnv(["--clusters", "1", "--fault-injection"]);
    enforce = env.ready.enforce as EnforceSection;
    faults = emulatorFaultClient(env.ready);
    platform = emulatorClient(env.ready);
    program = await createDirectoryProgram(
      env.ready,
      "enforce-faults",
      "test",
      emulatorStackConfig(enforce),
    );
    program.declare({
      kubeconfigPath: at(env.ready.clusters, 0).kubeconfig,
      group: enforce.group,
      registrationTimeout: "2m",
    });
  }, 600_000);
  afterAll(async () => {
    await faults?.clear();
    await faults?.close();
    await platform?.close();
    program?.cleanup();
    await stopOwnEnv(env);
  });

  /** Runs the CLI, keeping what it printed for the secret scan. */
  async function cli(args: string[]): Promise<void> {
    const r = await program.cli(args);
    printed.push({ source: `pulumi ${args[0]}`, text: `${r.stdout}\n${r.stderr}` });
  }

  /** Runs the CLI expecting it to fail; resolves with what it printed. */
  async function failing(args: string[]): Promise<string> {
    const err = await program.cli(args).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    printed.push({ source: `pulumi ${args[0]} (failed)`, text: (err as Error).message });
    return (err as Error).message;
  }

  /** An outage of the platform API (not the issuer the agent talks to) for ten minutes. */
  async function outage(rule: { status: 503 } | { drop: true }): Promise<void> {
    await faults.set({ ...rule, path: "/iam/", forSeconds: 600 });
    await faults.set({ ...rule, path: "/tenant/", forSeconds: 600 });
  }

  test("up fails during an outage, with what happened and what to do", async () => {
    await outage({ status: 503 });
    const started = Date.now();
    const out = await failing(["up", "--yes", "--skip-preview"]);
    // The retry policy's bound (5 attempts, backoff under 8 s) plus the CLI's own start.
    expect(Date.now() - started).toBeLessThan(90_000);
    expect(out).toMatch(
      /createIdentity: the Enforce platform answered POST \/iam\/v1\/identities\/\S+ with HTTP 503 \(Unavailable\) after 5 attempts: "injected fault \(rule \d+\)"\. The platform is failing or unavailable; run again later\./,
    );
    expect(out).toContain("* ERR_PLATFORM_HTTP: createIdentity: ");
    // And what to do, as the CLI prints it.
    expect(out).toContain(
      "* The connection was partly created and is kept in the stack: run `pulumi up` again",
    );
    // The engine kept the partly created connection, for the next up (or destroy) to finish.
    const exported = JSON.parse((await program.cli(["stack", "export"])).stdout) as {
      deployment: { resources?: { type: string }[] };
    };
    expect(exported.deployment.resources?.map((r) => r.type)).toContain(
      "pulumi-nodejs:dynamic:EnforceClusterConnection",
    );
    expect(out).not.toContain(enforce.token);
    expect(out).not.toMatch(/\n\s+at /); // no stack trace
  }, 300_000);

  test("after the outage, up converges and a preview shows no change", async () => {
    await faults.clear();
    await cli(["up", "--yes", "--skip-preview"]);
    // The invite code in the cluster, while it is there.
    await scan.collect(env.ready);
    const clusters = await platform.listClusters({ descendantsOf: enforce.group });
    expect(clusters).toHaveLength(1);
    expect(await platform.listIdentities({ childrenOf: enforce.group })).toHaveLength(1);
    // Fails (non-zero exit) on any change.
    await cli(["preview", "--expect-no-changes"]);
  }, 300_000);

  test("destroy fails during an outage and keeps the connection, then cleans up after it", async () => {
    await outage({ drop: true });
    const out = await failing(["destroy", "--yes", "--skip-preview"]);
    expect(out).toMatch(
      /deleteCluster: could not reach the Enforce platform at \S+ \(DELETE \/tenant\/v1\/clusters\/\S+\) after 5 attempts/,
    );
    await faults.clear();
    expect(await platform.listClusters({ descendantsOf: enforce.group })).toHaveLength(1);
    await cli(["destroy", "--yes", "--skip-preview"]);
    expect(await platform.listClusters({ descendantsOf: enforce.group })).toEqual([]);
    expect(await platform.listIdentities({ childrenOf: enforce.group })).toEqual([]);
    const kube = await KubeClient.load({ kubeconfig: at(env.ready.clusters, 0).kubeconfig });
    try {
      expect(await listObjects(kube, MANAGED_SELECTOR)).toEqual([]);
    } finally {
      kube.close();
    }
  }, 300_000);

  test("no secret in the state, in what any run printed, or in any log of the environment", async () => {
    await scan.collect(env.ready);
    expect(scan.names()).toEqual(
      expect.arrayContaining(["cluster-1 invite code", "platform token (enforce:token)"]),
    );
    const state = (await program.cli(["stack", "export"])).stdout;
    expect([
      ...scan.scanText("pulumi stack export", state),
      ...printed.flatMap((p) => scan.scanText(p.source, p.text)),
      ...scan.scanLogs(program.logDir, env.dir),
    ]).toEqual([]);
    // The failures and the emulator's log (with its injected faults) were among what was read.
    expect(printed.map((p) => p.source)).toContain("pulumi destroy (failed)");
  });
});
