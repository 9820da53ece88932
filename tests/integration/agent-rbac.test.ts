import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readStatusFile, type AgentStatus } from "../../local/agent/agent";
import type { EnforceSection } from "../../local/platform-services";
import type { CheckedInputs } from "../../provider/lifecycle/checked";
import { createImplementation } from "../../provider/impl";
import {
  emulatorClient,
  emulatorContext,
  eventually,
  kubectl,
  repoRoot,
  startOwnEnv,
  stopOwnEnv,
  type OwnEnv,
} from "../support/env";
import { flatOutputs } from "../support/connection-fixtures";
import { at } from "../support/fixture";

/**
 * The installed RBAC decides what the agent may do: the stand-in acts with the agent's own
 * ServiceAccount token, so a rule missing from the Role the connection installed stops it from
 * registering, and restoring the rule by hand lets it register without a reinstall. Its own
 * environment without stand-ins, so that the test decides when the agent starts.
 */
describe("the agent acts with the rights the connection installed", () => {
  let env: OwnEnv;
  let enforce: EnforceSection;
  let agent: ChildProcess | undefined;
  let agentDir: string;
  const progress: string[] = [];

  const provider = createImplementation(() =>
    emulatorContext(() => env.ready, progress, { progressEveryMs: 5000 }),
  );
  const cluster = () => at(env.ready.clusters, 0);
  const k = (args: string[], input?: string) =>
    kubectl(env.ready, cluster().kubeconfig, args, input);

  beforeAll(async () => {
    env = await startOwnEnv(["--clusters", "1", "--no-agents"]);
    enforce = env.ready.enforce as EnforceSection;
    agentDir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-rbac-"));
  }, 600_000);
  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent!.once("exit", r));
      agent.kill("SIGTERM");
      await exited;
    }
    if (agentDir) fs.rmSync(agentDir, { recursive: true, force: true });
    await stopOwnEnv(env);
  });

  const statusFile = () => path.join(agentDir, "status.json");
  const logFile = () => path.join(agentDir, "agent.log");
  const status = (): AgentStatus | undefined => readStatusFile(statusFile());

  /** Replaces the rules of the installed Role gulfstream-secrets, as an operator would by hand. */
  const setSecretRules = (rules: unknown[]) =>
    k([
      "-n",
      "gulfstream",
      "patch",
      "role",
      "gulfstream-secrets",
      "--type=json",
      "-p",
      JSON.stringify([{ op: "replace", path: "/rules", value: rules }]),
    ]);

  /** The stand-in as enforce-local starts it: the bootstrap kubeconfig and nothing else. */
  function startAgent(): void {
    const out = fs.openSync(logFile(), "a");
    agent = spawn(
      process.execPath,
      [
        path.join(repoRoot, "dist/local/agent/main.js"),
        `--kubeconfig=${cluster().agentKubeconfig}`,
        `--status-file=${statusFile()}`,
        "--heartbeat-seconds=5",
      ],
      { stdio: ["ignore", out, out] },
    );
    fs.closeSync(out);
  }

  test("without the Role's rule for mcp-creds the agent reports the 403; with it restored it registers", async () => {
    const res = await provider.check(
      {},
      {
        resourceName: "rbac",
        kubeconfig: fs.readFileSync(cluster().kubeconfig, "utf8"),
        group: enforce.group,
        registrationTimeout: "3m",
      },
    );
    expect(res.failures ?? []).toEqual([]);
    const creating = provider.create({
      ...res.inputs,
      __provider: "serialized provider",
    } as CheckedInputs);
    creating.catch(() => undefined);

    // Once the connection wrote mcp-creds, take the Secrets rule out of the installed Role.
    await eventually("Secret gulfstream/mcp-creds", async () =>
      (
        await k([
          "-n",
          "gulfstream",
          "get",
          "secret",
          "mcp-creds",
          "--ignore-not-found",
          "-o",
          "name",
        ])
      ).trim()
        ? true
        : undefined,
    );
    const role = JSON.parse(
      await k(["-n", "gulfstream", "get", "role", "gulfstream-secrets", "-o", "json"]),
    ) as {
      rules: { resources: string[]; verbs: string[] }[];
    };
    expect(role.rules).toEqual([
      expect.objectContaining({
        resources: ["secrets"],
        verbs: expect.arrayContaining(["list", "watch"]),
      }),
    ]);
    await setSecretRules([]);

    startAgent();
    const refused = await eventually(
      "the agent to report that it may not read mcp-creds",
      async () => {
        const s = status();
        return s?.state === "error" && s.reason.includes("403") ? s : undefined;
      },
      90_000,
    );
    expect(refused.reason).toMatch(/^cannot list Secret gulfstream\/mcp-creds: .*403/);
    expect(refused.reason).toContain("system:serviceaccount:gulfstream:controller");
    const log = fs.readFileSync(logFile(), "utf8");
    expect(log).toMatch(/Secret gulfstream\/mcp-creds: watch failed \(.*403.*\)/);
    expect((await enforceClusters()).length).toBe(0);

    // Restored by hand, as an operator would: no reinstall, the agent retries and registers.
    await setSecretRules(role.rules);
    const created = await creating;
    expect(flatOutputs(created.outs)).toMatchObject({ inviteId: "" });
    const registered = await eventually("the agent to register", async () => {
      const s = status();
      return s?.state === "registered" ? s : undefined;
    });
    expect(registered.clusterId).toBe(flatOutputs(created.outs).clusterId as string);
    expect(await enforceClusters()).toMatchObject([{ id: registered.clusterId }]);
    // Nothing was installed again: only one apply of the Role, by the connection.
    expect(progress.filter((l) => l.startsWith("applying "))).toHaveLength(1);

    await provider.delete(created.id, created.outs);
  });

  async function enforceClusters() {
    const platform = emulatorClient(env.ready);
    try {
      return await platform.listClusters({ descendantsOf: enforce.group });
    } finally {
      await platform.close();
    }
  }
});
