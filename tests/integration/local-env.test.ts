import { execFile, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { get } from "../../local/control-plane/probe";
import {
  enforceLocalBin,
  eventually,
  jwtHeader,
  kubectl,
  sharedEnv,
  startOwnEnv,
  stopOwnEnv,
  type OwnEnv,
} from "../support/env";
import { at } from "../support/fixture";

const run = promisify(execFile);

describe("enforce-local: the shared two-cluster environment", () => {
  const env = sharedEnv();

  test.each([0, 1])(
    "cluster %i is a real kube-apiserver 1.36+ with https issuer discovery",
    async (i) => {
      const c = at(env.clusters, i);
      const version = JSON.parse(await kubectl(env, c.kubeconfig, ["get", "--raw", "/version"]));
      expect(version.major).toBe("1");
      expect(Number(version.minor)).toBeGreaterThanOrEqual(36);
      expect(version.gitVersion).toMatch(/^v1\.\d+\.\d+/);

      const discovery = JSON.parse(
        await kubectl(env, c.kubeconfig, ["get", "--raw", "/.well-known/openid-configuration"]),
      );
      expect(discovery.issuer).toBe(c.issuer);
      expect(discovery.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(discovery.jwks_uri).toBe(`${c.apiServer}/openid/v1/jwks`);
    },
  );

  test("each agent stand-in is given only its API server, the cluster CA and a kubelet's bootstrap credential", async () => {
    const { stdout } = await run("ps", ["-eo", "args"]);
    const standIns = stdout
      .split("\n")
      .filter((l) => l.includes(path.join("local", "agent", "main.js")) && l.includes(env.dir));
    expect(standIns).toHaveLength(env.clusters.length);
    for (const c of env.clusters) {
      const line = standIns.find((l) => l.includes(c.agentKubeconfig));
      // No platform URL, no CA file, no admin kubeconfig: only how to reach the API server.
      expect(
        line
          ?.split(" ")
          .slice(2)
          .map((a) => a.replace(/=.*/, "")),
      ).toEqual(["--kubeconfig", "--status-file", "--heartbeat-seconds"]);
      const kc = parse(fs.readFileSync(c.agentKubeconfig, "utf8")) as {
        clusters: { cluster: { server: string } }[];
        users: { user: Record<string, string> }[];
      };
      expect(kc.clusters.map((x) => x.cluster.server)).toEqual([c.apiServer]);
      expect(kc.users).toHaveLength(1);
      const { user } = at(kc.users, 0);
      expect(Object.keys(user).sort()).toEqual(["client-certificate-data", "client-key-data"]);
      const cert = new crypto.X509Certificate(
        Buffer.from(user["client-certificate-data"]!, "base64"),
      );
      expect(cert.subject).toBe("CN=enforce-local:agent-kubelet");
      // What a kubelet may do for the agent's pod, and nothing else.
      const can = async (...args: string[]) =>
        (
          await kubectl(env, c.agentKubeconfig, ["auth", "can-i", ...args]).catch(
            (err: { stdout?: string }) => err.stdout ?? "",
          )
        ).trim();
      expect(await can("get", "statefulsets/meta-controlplane", "-n", "gulfstream")).toBe("yes");
      expect(
        await can(
          "create",
          "serviceaccounts/controller",
          "--subresource=token",
          "-n",
          "gulfstream",
        ),
      ).toBe("yes");
      expect(
        await can("create", "serviceaccounts/default", "--subresource=token", "-n", "gulfstream"),
      ).toBe("no");
      expect(await can("list", "statefulsets", "-n", "gulfstream")).toBe("no");
      expect(await can("patch", "statefulsets/meta-controlplane", "-n", "gulfstream")).toBe("no");
      expect(await can("get", "secrets", "-n", "gulfstream")).toBe("no");
      expect(await can("get", "configmaps", "-n", "gulfstream")).toBe("no");
    }
  });

  test("a TokenRequest for a service account returns a token signed by a published key", async () => {
    const c = at(env.clusters, 0);
    const token = (
      await kubectl(env, c.kubeconfig, ["create", "token", "default", "--audience", "gulfstream"])
    ).trim();
    const jwks = JSON.parse(await kubectl(env, c.kubeconfig, ["get", "--raw", "/openid/v1/jwks"]));
    const kids = jwks.keys.map((k: { kid: string }) => k.kid);
    expect(kids).toContain(jwtHeader(token).kid);
    const claims = JSON.parse(Buffer.from(at(token.split("."), 1), "base64url").toString());
    expect(claims.aud).toEqual(["gulfstream"]);
    expect(claims.sub).toBe("system:serviceaccount:default:default");
  });

  test("anonymous discovery is refused until public-issuer-discovery exists, and allowed after", async () => {
    const c = at(env.clusters, 1);
    const ca = fs.readFileSync(c.caFile);
    const url = `${c.issuer}/.well-known/openid-configuration`;
    expect((await get(url, { ca })).status).toBe(403);
    await kubectl(env, c.kubeconfig, [
      "create",
      "clusterrolebinding",
      "public-issuer-discovery",
      "--clusterrole=system:service-account-issuer-discovery",
      "--group=system:unauthenticated",
    ]);
    try {
      const res = await eventually("anonymous discovery to be allowed", async () => {
        const r = await get(url, { ca });
        return r.status === 200 ? r : undefined;
      });
      expect(JSON.parse(res.body).issuer).toBe(c.issuer);
    } finally {
      await kubectl(env, c.kubeconfig, ["delete", "clusterrolebinding", "public-issuer-discovery"]);
    }
    await eventually("anonymous discovery to be refused again", async () =>
      (await get(url, { ca })).status === 403 ? true : undefined,
    );
  });

  test("a deleted namespace holding objects finishes terminating; a new one gets its default service account", async () => {
    const c = at(env.clusters, 0);
    const ns = `ns-${Date.now()}`;
    await kubectl(env, c.kubeconfig, ["create", "namespace", ns]);
    await eventually(
      "the default service account",
      async () =>
        (
          await kubectl(env, c.kubeconfig, [
            "-n",
            ns,
            "get",
            "serviceaccount",
            "default",
            "-o",
            "name",
          ])
        ).trim() || undefined,
    );
    await kubectl(env, c.kubeconfig, [
      "-n",
      ns,
      "create",
      "configmap",
      "data",
      "--from-literal=a=b",
    ]);
    await kubectl(env, c.kubeconfig, ["-n", ns, "create", "serviceaccount", "worker"]);
    await kubectl(env, c.kubeconfig, ["delete", "namespace", ns, "--wait=false"]);
    await eventually(
      "the namespace to be gone",
      async () => {
        const out = await kubectl(env, c.kubeconfig, [
          "get",
          "namespaces",
          "-o",
          "jsonpath={.items[*].metadata.name}",
        ]);
        return out.split(" ").includes(ns) ? undefined : true;
      },
      90000,
    );
  });

  test("owner references cascade: deleting the owner removes its dependents", async () => {
    const c = at(env.clusters, 0);
    const owner = `owner-${Date.now()}`;
    await kubectl(env, c.kubeconfig, ["-n", "default", "create", "configmap", owner]);
    const uid = (
      await kubectl(env, c.kubeconfig, [
        "-n",
        "default",
        "get",
        "configmap",
        owner,
        "-o",
        "jsonpath={.metadata.uid}",
      ])
    ).trim();
    const dependent = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: `${owner}-dep`,
        namespace: "default",
        ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: owner, uid }],
      },
    };
    await kubectl(env, c.kubeconfig, ["apply", "-f", "-"], JSON.stringify(dependent));
    await kubectl(env, c.kubeconfig, ["-n", "default", "delete", "configmap", owner]);
    await eventually("the dependent to be collected", async () => {
      const out = await kubectl(env, c.kubeconfig, [
        "-n",
        "default",
        "get",
        "configmaps",
        "-o",
        "name",
      ]);
      return out.includes(`${owner}-dep`) ? undefined : true;
    });
  });
});

describe("enforce-local: key rotation and shutdown (own environment)", () => {
  let own: OwnEnv | undefined;
  afterEach(async () => {
    await stopOwnEnv(own);
    own = undefined;
  });

  test("rotate-key changes the kid in the JWKS and in tokens minted afterwards; --keep-old keeps both", async () => {
    own = await startOwnEnv(["--clusters", "1"]);
    const c = at(own.ready.clusters, 0);
    const kids = async () =>
      JSON.parse(
        await kubectl(own!.ready, c.kubeconfig, ["get", "--raw", "/openid/v1/jwks"]),
      ).keys.map((k: { kid: string }) => k.kid) as string[];
    const tokenKid = async () =>
      jwtHeader((await kubectl(own!.ready, c.kubeconfig, ["create", "token", "default"])).trim())
        .kid;

    const before = await kids();
    expect(before).toEqual([c.signingKeyId]);
    expect(await tokenKid()).toBe(before[0]);

    const { stdout } = await run(process.execPath, [
      enforceLocalBin,
      "rotate-key",
      "--dir",
      own.dir,
      "--cluster",
      c.name,
    ]);
    const rotated = stdout.trim();
    expect(rotated).not.toBe(before[0]);
    expect(await kids()).toEqual([rotated]);
    expect(await tokenKid()).toBe(rotated);
    const ready = JSON.parse(fs.readFileSync(path.join(own.dir, "ready.json"), "utf8"));
    expect(ready.clusters[0].signingKeyId).toBe(rotated);

    const { stdout: again } = await run(process.execPath, [
      enforceLocalBin,
      "rotate-key",
      "--dir",
      own.dir,
      "--cluster",
      c.name,
      "--keep-old",
    ]);
    expect(await kids()).toEqual([rotated, again.trim()]);
    expect(await tokenKid()).toBe(again.trim());
  });

  test("rotate-key names the clusters when given an unknown one", async () => {
    own = await startOwnEnv(["--clusters", "1"]);
    await expect(
      run(process.execPath, [enforceLocalBin, "rotate-key", "--dir", own.dir, "--cluster", "nope"]),
    ).rejects.toThrow(/no cluster named "nope"; clusters: cluster-1/);
  });

  test.each(["down", "SIGTERM"])(
    "stopping with %s leaves no process and no listening port behind",
    async (how) => {
      own = await startOwnEnv(["--clusters", "2"]);
      const pids = JSON.parse(fs.readFileSync(path.join(own.dir, "pids.json"), "utf8")) as number[];
      // etcd + 2 × (kube-apiserver + kube-controller-manager + agent stand-in) + the Enforce emulator
      expect(pids.length).toBe(8);
      const ports = [
        ...own.ready.clusters.map((c) => Number(new URL(c.apiServer).port)),
        Number(new URL((own.ready.enforce as { apiUrl: string }).apiUrl).port),
      ];
      if (how === "down") {
        await run(process.execPath, [enforceLocalBin, "down", "--dir", own.dir]);
      } else {
        own.child.kill("SIGTERM");
      }
      await eventually("the up process to exit", async () =>
        own!.child.exitCode !== null || own!.child.signalCode !== null ? true : undefined,
      );
      // Exited by itself (code 0), not killed by the signal's default action.
      expect({ code: own.child.exitCode, signal: own.child.signalCode }).toEqual({
        code: 0,
        signal: null,
      });
      for (const pid of pids) expect(processAlive(pid)).toBe(false);
      const { stdout } = await run("ps", ["-eo", "args"]);
      expect(stdout.split("\n").filter((l) => l.includes(own!.dir))).toEqual([]);
      for (const port of ports) {
        await expect(get(`https://127.0.0.1:${port}/readyz`, {}, 2000)).rejects.toThrow(
          /ECONNREFUSED/,
        );
      }
      expect(fs.existsSync(path.join(own.dir, "ready.json"))).toBe(false);
    },
  );
});

test("a SIGTERM during start-up stops what was started and leaves nothing behind", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "enforce-own-env-"));
  const log = path.join(dir, "up.log");
  const out = fs.openSync(log, "a");
  const child = spawn(process.execPath, [enforceLocalBin, "up", "--dir", dir, "--clusters", "2"], {
    stdio: ["ignore", out, out],
  });
  fs.closeSync(out);
  try {
    // etcd is up and recorded; the clusters are still starting.
    const pids = await eventually("etcd to be recorded in pids.json", async () => {
      try {
        const p = JSON.parse(fs.readFileSync(path.join(dir, "pids.json"), "utf8")) as number[];
        return p.length > 0 ? p : undefined;
      } catch {
        return undefined;
      }
    });
    expect(fs.existsSync(path.join(dir, "ready.json"))).toBe(false);
    child.kill("SIGTERM");
    await eventually("the up process to exit", async () =>
      child.exitCode !== null || child.signalCode !== null ? true : undefined,
    );
    expect(child.signalCode).toBeNull();
    expect(fs.readFileSync(log, "utf8")).toMatch(/Received SIGTERM, stopping/);
    for (const pid of pids) expect(processAlive(pid)).toBe(false);
    const { stdout } = await run("ps", ["-eo", "args"]);
    expect(stdout.split("\n").filter((l) => l.includes(dir))).toEqual([]);
    expect(fs.existsSync(path.join(dir, "ready.json"))).toBe(false);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120000);

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
