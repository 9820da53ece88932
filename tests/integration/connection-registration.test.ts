import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { EnforceSection } from "../../local/platform-services";
import type { CheckedInputs } from "../../provider/lifecycle/checked";
import { PartialFailureError } from "../../provider/errors";
import { createImplementation } from "../../provider/impl";
import { KubeClient } from "../../provider/kube/client";
import {
  emulatorClient,
  emulatorContext,
  eventually,
  repoRoot,
  startOwnEnv,
  stopOwnEnv,
  type OwnEnv,
} from "../support/env";
import { flatOutputs } from "../support/connection-fixtures";
import { at } from "../support/fixture";

/**
 * Waiting for registration when the agent does not register: an environment without agent
 * stand-ins, so the test decides when (and whether) an agent runs. The timeout error must say
 * what was seen; the partially created connection is finished by the next update once an agent
 * runs.
 */
describe("EnforceClusterConnection registration wait", () => {
  let env: OwnEnv;
  let enforce: EnforceSection;
  let agent: ChildProcess | undefined;
  const progress: string[] = [];

  const platformClient = () => emulatorClient(env.ready);
  const provider = createImplementation(() =>
    emulatorContext(() => env.ready, progress, { progressEveryMs: 2000 }),
  );

  beforeAll(async () => {
    env = await startOwnEnv(["--clusters", "1", "--no-agents"]);
    enforce = env.ready.enforce as EnforceSection;
  }, 600_000);
  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent!.once("exit", r));
      agent.kill("SIGTERM");
      await exited;
    }
    await stopOwnEnv(env);
  });

  async function checked(extra: Record<string, unknown> = {}): Promise<CheckedInputs> {
    const res = await provider.check(
      {},
      {
        resourceName: "lonely",
        kubeconfig: fs.readFileSync(at(env.ready.clusters, 0).kubeconfig, "utf8"),
        group: enforce.group,
        ...extra,
      },
    );
    expect(res.failures ?? []).toEqual([]);
    return { ...res.inputs, __provider: "serialized provider" } as CheckedInputs;
  }

  test("times out saying what was seen, and the next update finishes once the agent runs", async () => {
    const kube = await KubeClient.load({ kubeconfig: at(env.ready.clusters, 0).kubeconfig });
    try {
      const creating = provider.create(await checked({ registrationTimeout: "10s" })).then(
        () => undefined,
        (err: unknown) => err,
      );
      // Report a refusal the way the agent does: a Warning Event on its StatefulSet.
      const sts = await eventually("the agent's StatefulSet", async () => {
        const res = await kube.get<{ metadata: { uid: string } }>(
          "/apis/apps/v1/namespaces/gulfstream/statefulsets/meta-controlplane",
          { accept: [404] },
        );
        return res.status === 404 ? undefined : res.body;
      });
      const now = new Date().toISOString();
      await kube.post("/api/v1/namespaces/gulfstream/events", {
        metadata: { name: `meta-controlplane.${Date.now().toString(16)}` },
        involvedObject: {
          apiVersion: "apps/v1",
          kind: "StatefulSet",
          namespace: "gulfstream",
          name: "meta-controlplane",
          uid: sts.metadata.uid,
        },
        type: "Warning",
        reason: "RegistrationRefused",
        message: "registration refused (401): the cluster's issuer is not reachable anonymously",
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        source: { component: "enforce-agent" },
      });

      const err = await creating;
      expect(err).toBeInstanceOf(PartialFailureError);
      const message = (err as Error).message;
      expect(message).toMatch(/did not register cluster "lonely" with Enforce within 10s/);
      expect(message).toContain("Secret gulfstream/mcp-creds present");
      expect(message).toContain(
        "StatefulSet gulfstream/meta-controlplane present (0/2 pods ready)",
      );
      expect(message).toContain(
        "the agent reported RegistrationRefused: registration refused (401): the cluster's issuer is not reachable anonymously",
      );
      expect(message).toContain("Enforce lists no cluster with this remoteId yet");
      expect(message).toMatch(/kubectl -n gulfstream logs statefulset\/meta-controlplane/);
      expect(message).toMatch(/raise registrationTimeout/);
      expect(progress.some((l) => l.startsWith("still waiting for the agent"))).toBe(true);

      // The agent starts: the next `up` (an update of the partial connection) completes it.
      // As enforce-local runs it: the kubelet's credential only; where the platform is, it
      // reads from what the connection installed.
      const partial = err as PartialFailureError;
      agent = spawn(
        process.execPath,
        [
          path.join(repoRoot, "dist/local/agent/main.js"),
          `--kubeconfig=${at(env.ready.clusters, 0).agentKubeconfig}`,
        ],
        { stdio: "ignore" },
      );
      const news = await checked();
      expect((await provider.diff(partial.id, partial.properties, news)).changes).toBe(true);
      const done = await provider.update(partial.id, partial.properties, news);
      expect(flatOutputs(done.outs)).toMatchObject({ inviteId: "", connectionId: partial.id });
      expect(flatOutputs(done.outs).clusterId).not.toBe("");

      const platform = platformClient();
      try {
        // Exactly one identity: the one created by the failed attempt was replaced and deleted.
        expect(
          (await platform.listIdentities({ childrenOf: enforce.group })).map((i) => i.id),
        ).toEqual([flatOutputs(done.outs).identityId]);
        await provider.delete(partial.id, done.outs);
        expect(await platform.listClusters({ descendantsOf: enforce.group })).toEqual([]);
        expect(await platform.listIdentities({ childrenOf: enforce.group })).toEqual([]);
      } finally {
        await platform.close();
      }
    } finally {
      kube.close();
    }
  });
});
