/**
 * The agent stand-in on a real local cluster while its API server restarts: its Secret watch
 * lists again after a 410 Gone, and reconnects and sees later changes. Each restart rotates the
 * cluster's signing key (`enforce-local rotate-key`), so these run in an environment of their own.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { BootstrapAccess } from "../../local/agent/kube";
import { SecretWatch } from "../../local/agent/secret-watch";
import { TokenSource } from "../../local/agent/token-source";
import {
  clusterOps,
  logged,
  newCode,
  startAgent,
  statusWith,
  type Cluster,
  type ClusterOps,
  type RunningAgent,
} from "../support/agent-cluster";
import { startFakeEnforceIssuer, type FakeEnforceIssuer } from "../support/fake-enforce-issuer";
import { AgentInstall } from "../support/agent-install";
import {
  emulatorPlatform,
  enforceLocalBin,
  eventually,
  startOwnEnv,
  stopOwnEnv,
  type OwnEnv,
} from "../support/env";
import { at } from "../support/fixture";

const run = promisify(execFile);

/** Rotates the cluster's signing key, which restarts its kube-apiserver on the same port. */
async function rotateKey(env: OwnEnv, cluster: string): Promise<void> {
  await run(process.execPath, [
    enforceLocalBin,
    "rotate-key",
    "--dir",
    env.dir,
    "--cluster",
    cluster,
  ]);
}

/**
 * An environment of its own without agent stand-ins: the shared one runs a stand-in on every
 * cluster, which would read the ConfigMap installed here and register at the fake issuer too.
 */
describe("agent stand-in on a real cluster (own environment, no other agent)", () => {
  let own: OwnEnv | undefined;
  let cluster: Cluster;
  let installer: AgentInstall | undefined;
  let ops: ClusterOps;

  beforeAll(async () => {
    own = await startOwnEnv(["--clusters", "1", "--no-agents"]);
    cluster = at(own.ready.clusters, 0);
    installer = await AgentInstall.connect(cluster.kubeconfig);
    ops = clusterOps(own.ready, cluster, installer);
  }, 600_000);
  afterAll(async () => {
    installer?.close();
    await stopOwnEnv(own);
  });

  describe("when the API server restarts", () => {
    let issuer: FakeEnforceIssuer | undefined;
    let agent: RunningAgent | undefined;
    afterEach(async () => {
      await agent?.stop();
      await issuer?.close();
      agent = issuer = undefined;
      await ops.deleteNamespace();
    });

    test("a watch from a version older than the API server's watch cache gets 410 and lists again", async () => {
      await ops.install(emulatorPlatform(own!.ready));
      await ops.putSecret({ code: newCode(), "cluster-name": "dev" });
      // A restarted API server fills its watch cache from a fresh list, so a
      // watch from a version older than that is answered 410 Gone.
      await rotateKey(own!, cluster.name);
      // The agent's access as runAgent builds it: the kubelet's credential mints the API token.
      const bootstrap = await BootstrapAccess.load(cluster.agentKubeconfig);
      const tokens = new TokenSource(() =>
        bootstrap.mintToken({ audience: undefined, expirationSeconds: 3607 }),
      );
      const kube = bootstrap.agentAccess(async () => {
        const minted = await tokens.current();
        return minted ? { token: minted.token } : { reason: "no ServiceAccount" };
      });
      const logs: string[] = [];
      const controller = new AbortController();
      const watch = new SecretWatch({
        kube,
        changed: () => undefined,
        log: (line) => logs.push(line),
        signal: controller.signal,
        resumeFrom: "2",
      });
      const running = watch.run();
      try {
        await eventually("the watch to list again after 410", async () =>
          watch.snapshot().synced ? true : undefined,
        );
        expect(logs).toEqual([
          "Secret gulfstream/mcp-creds: watch resourceVersion expired (410 Gone); listing again",
        ]);
        expect(watch.snapshot().secret?.metadata?.name).toBe("mcp-creds");
        // It watches on from the listed version: a later deletion is seen.
        await ops.k(["-n", "gulfstream", "delete", "secret", "mcp-creds"]);
        await eventually("the deletion to be seen", async () =>
          watch.snapshot().secret === undefined ? true : undefined,
        );
        expect(watch.snapshot().error).toBeUndefined();
      } finally {
        controller.abort();
        await running;
      }
    });

    test("the watch reconnects after an API server restart and still sees later changes", async () => {
      issuer = await startFakeEnforceIssuer(cluster);
      await ops.install(issuer.platform);
      await ops.putSecret({ code: newCode(), "cluster-name": "dev" });
      agent = startAgent(cluster);
      await statusWith(agent, { state: "registered" }, "registered");

      // Without the old key, the API token the agent holds is refused after the restart: it
      // gets a new one, as the kubelet's refresh of a projected token would bring.
      await rotateKey(own!, cluster.name);
      await logged(agent, /^Secret gulfstream\/mcp-creds: watch failed \(.*\); retrying in /);

      const code2 = newCode();
      await ops.putSecret({ code: code2, "cluster-name": "dev" });
      await eventually("registration with the code written after the restart", async () =>
        issuer!.registers().some((c) => c.body.code === code2) ? true : undefined,
      );
      await statusWith(agent, { state: "registered" }, "registered again");
    });
  });
});
