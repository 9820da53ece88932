import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { enforceLocalBin, kubectl, startOwnEnv, stopOwnEnv, type OwnEnv } from "../support/env";
import { runPulumiEnforce, type BinRun } from "../support/bin";
import { at } from "../support/fixture";

const run = promisify(execFile);

function doctor(args: string[]): Promise<BinRun> {
  return runPulumiEnforce(["doctor", ...args]);
}

const UPLOADED = "the JWKS that would be uploaded (the API server's /openid/v1/jwks)";
const BINDING_CMD =
  "kubectl create clusterrolebinding public-issuer-discovery --clusterrole=system:service-account-issuer-discovery --group=system:unauthenticated";

describe("pulumi-enforce doctor against real API servers", () => {
  let env: OwnEnv;
  const kc = (i: number) => at(env.ready.clusters, i).kubeconfig;

  beforeAll(async () => {
    // cluster-1: issuer = API server; cluster-2: kind-like cluster-local issuer; cluster-3: no discovery.
    env = await startOwnEnv([
      "--clusters",
      "3",
      "--issuer-mode",
      "cluster-2=cluster-local",
      "--issuer-mode",
      "cluster-3=disabled",
    ]);
  });
  afterAll(() => stopOwnEnv(env));

  test("without the public-issuer-discovery binding the cluster is private, and doctor names the binding command", async () => {
    const json = await doctor(["--kubeconfig", kc(0), "--json"]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({
      tokenProjection: true,
      issuerDiscovery: true,
      issuer: at(env.ready.clusters, 0).issuer,
      connectivity: "private",
      anonymousDiscovery: "HTTP 403",
      problems: [],
    });
    const kid = at(env.ready.clusters, 0).signingKeyId;
    expect(report.signingKeyIds).toEqual([kid]);
    expect(report.tokenSignature).toEqual({
      status: "verified",
      kid,
      keySource: "uploaded",
      against: UPLOADED,
    });

    const text = await doctor(["--kubeconfig", kc(0)]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("connectivity private");
    expect(text.stdout).toContain(
      `[ok]   token signature: verified with key ${kid} against ${UPLOADED}`,
    );
    expect(text.stdout).toContain(BINDING_CMD);
  });

  test("asking for public on a private cluster fails with the binding as the remedy", async () => {
    const res = await doctor(["--kubeconfig", kc(0), "--connectivity", "public", "--json"]);
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ check: "connectivity", property: "connectivity" });
    expect(report.problems[0].reason).toContain("not reachable without credentials (HTTP 403)");
    expect(report.problems[0].remedy).toContain(BINDING_CMD);
    expect(report.problems[0].remedy).toContain('connectivity: "private"');
    expect(report.tokenSignature).toMatchObject({ status: "not checked" });
  });

  test("with the binding the cluster resolves to public", async () => {
    await kubectl(env.ready, kc(0), BINDING_CMD.split(" ").slice(1));
    try {
      const res = await doctor(["--kubeconfig", kc(0), "--json"]);
      expect(res.code).toBe(0);
      const jwksUri = `${at(env.ready.clusters, 0).issuer}/openid/v1/jwks`;
      const report = JSON.parse(res.stdout);
      expect(report).toMatchObject({ connectivity: "public", anonymousDiscovery: "HTTP 200" });
      expect(report.tokenSignature).toEqual({
        status: "verified",
        kid: at(env.ready.clusters, 0).signingKeyId,
        keySource: "anonymous",
        jwksUri,
        against: `the issuer's anonymous JWKS (${jwksUri})`,
      });
      const text = await doctor(["--kubeconfig", kc(0)]);
      expect(text.stdout).toContain(
        `[ok]   token signature: verified with key ${report.tokenSignature.kid} against the issuer's anonymous JWKS (${jwksUri})`,
      );
    } finally {
      await kubectl(env.ready, kc(0), ["delete", "clusterrolebinding", "public-issuer-discovery"]);
    }
  });

  test("a public discovery document whose jwks_uri is not public: the platform could not verify, doctor says so", async () => {
    // Anonymous access to the discovery document only, not to the keys it points at.
    await kubectl(env.ready, kc(0), [
      "create",
      "clusterrole",
      "discovery-document-only",
      "--verb=get",
      "--non-resource-url=/.well-known/openid-configuration",
    ]);
    await kubectl(env.ready, kc(0), [
      "create",
      "clusterrolebinding",
      "discovery-document-only",
      "--clusterrole=discovery-document-only",
      "--group=system:unauthenticated",
    ]);
    try {
      const jwksUri = `${at(env.ready.clusters, 0).issuer}/openid/v1/jwks`;
      const res = await doctor(["--kubeconfig", kc(0), "--json"]);
      expect(res.code).toBe(1);
      const report = JSON.parse(res.stdout);
      expect(report).toMatchObject({ connectivity: "public", anonymousDiscovery: "HTTP 200" });
      expect(report.tokenSignature).toMatchObject({ status: "failed", keySource: "anonymous" });
      expect(report.problems).toEqual([
        {
          check: "tokenSignature",
          property: "connectivity",
          reason:
            `the issuer's discovery document is public, but its keys (jwks_uri ${jwksUri}) could not be ` +
            "fetched without credentials (HTTP 403), so the platform could not verify the agent",
          remedy: expect.stringContaining('or set connectivity: "private"'),
        },
      ]);
      const text = await doctor(["--kubeconfig", kc(0)]);
      expect(text.stdout).toContain(
        `[FAIL] token signature: key ${report.activeKeyId} not verified against the issuer's anonymous JWKS (${jwksUri})`,
      );

      // As private, the keys are uploaded instead: they verify.
      const priv = JSON.parse(
        (await doctor(["--kubeconfig", kc(0), "--connectivity", "private", "--json"])).stdout,
      );
      expect(priv.problems).toEqual([]);
      expect(priv.tokenSignature).toMatchObject({ status: "verified", keySource: "uploaded" });
    } finally {
      await kubectl(env.ready, kc(0), ["delete", "clusterrolebinding", "discovery-document-only"]);
      await kubectl(env.ready, kc(0), ["delete", "clusterrole", "discovery-document-only"]);
    }
  });

  test("a kind-like cluster-local issuer is private, and the binding is not offered as a way out", async () => {
    const res = await doctor(["--kubeconfig", kc(1)]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("issuer https://kubernetes.default.svc.cluster.local");
    expect(res.stdout).toContain("connectivity private");
    expect(res.stdout).not.toContain(BINDING_CMD);
    expect(res.stdout).toContain("can be connected as private only");
    expect(res.stdout).toContain(
      `token signature: verified with key ${at(env.ready.clusters, 1).signingKeyId} against ${UPLOADED}`,
    );
  });

  test("an API server without issuer discovery fails with the guide's remedy", async () => {
    const res = await doctor(["--kubeconfig", kc(2), "--json"]);
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout);
    expect(report.issuerDiscovery).toBe(false);
    expect(report.problems[0].check).toBe("issuerDiscovery");
    expect(report.problems[0].reason).toContain("404 NotFound");
    expect(report.problems[0].remedy).toContain(
      "kubectl get --raw /.well-known/openid-configuration",
    );

    const text = await doctor(["--kubeconfig", kc(2)]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain("[FAIL] service account issuer discovery");
    expect(text.stdout).toContain("Result: the cluster cannot be connected yet.");
  });

  test("rotate-key changes the recorded signing key ids", async () => {
    const before = JSON.parse(
      (await doctor(["--kubeconfig", kc(1), "--json"])).stdout,
    ).signingKeyIds;
    const { stdout } = await run(process.execPath, [
      enforceLocalBin,
      "rotate-key",
      "--dir",
      env.dir,
      "--cluster",
      "cluster-2",
    ]);
    const after = JSON.parse((await doctor(["--kubeconfig", kc(1), "--json"])).stdout);
    expect(after.signingKeyIds).toEqual([stdout.trim()]);
    expect(after.signingKeyIds).not.toEqual(before);
    expect(after.activeKeyId).toBe(stdout.trim());
    expect(after.tokenSignature).toMatchObject({ status: "verified", kid: stdout.trim() });
  });

  test("rotate-key --keep-old: the JWKS lists both keys, and the token verifies with the new one", async () => {
    const before = JSON.parse((await doctor(["--kubeconfig", kc(1), "--json"])).stdout);
    const { stdout } = await run(process.execPath, [
      enforceLocalBin,
      "rotate-key",
      "--dir",
      env.dir,
      "--cluster",
      "cluster-2",
      "--keep-old",
    ]);
    const kid = stdout.trim();
    const res = await doctor(["--kubeconfig", kc(1), "--json"]);
    expect(res.code).toBe(0);
    const after = JSON.parse(res.stdout);
    expect(after.signingKeyIds).toEqual([...before.signingKeyIds, kid].sort());
    expect(after.activeKeyId).toBe(kid);
    expect(after.tokenSignature).toEqual({
      status: "verified",
      kid,
      keySource: "uploaded",
      against: UPLOADED,
    });
  });

  test.each(["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"])(
    "a kubeconfig with an exec credential plugin (%s) works",
    async (apiVersion) => {
      // A service account bound to cluster-admin, whose token the plugin prints.
      const ns = "kube-system";
      const sa = `exec-${apiVersion.endsWith("beta1") ? "b" : "v"}-${Date.now()}`;
      await kubectl(env.ready, kc(0), ["-n", ns, "create", "serviceaccount", sa]);
      await kubectl(env.ready, kc(0), [
        "create",
        "clusterrolebinding",
        sa,
        "--clusterrole=cluster-admin",
        `--serviceaccount=${ns}:${sa}`,
      ]);
      const token = (await kubectl(env.ready, kc(0), ["-n", ns, "create", "token", sa])).trim();

      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "exec-plugin-"));
      const plugin = path.join(dir, "credential-plugin.js");
      fs.writeFileSync(
        plugin,
        `#!${process.execPath}\n` +
          `process.stdout.write(JSON.stringify({ apiVersion: ${JSON.stringify(apiVersion)}, kind: "ExecCredential", status: { token: ${JSON.stringify(token)} } }));\n`,
        { mode: 0o700 },
      );
      const admin = JSON.parse(
        JSON.stringify(require("yaml").parse(fs.readFileSync(kc(0), "utf8"))),
      );
      admin.users = [
        {
          name: "exec-user",
          user: { exec: { apiVersion, command: plugin, interactiveMode: "Never" } },
        },
      ];
      admin.contexts = [
        { name: "exec", context: { cluster: admin.clusters[0].name, user: "exec-user" } },
      ];
      admin["current-context"] = "exec";
      const execKubeconfig = path.join(dir, "kubeconfig");
      fs.writeFileSync(execKubeconfig, stringify(admin), { mode: 0o600 });

      const res = await doctor(["--kubeconfig", execKubeconfig, "--json"]);
      expect(res.stderr).toBe("");
      expect(res.code).toBe(0);
      expect(JSON.parse(res.stdout)).toMatchObject({
        tokenProjection: true,
        issuerDiscovery: true,
      });
      // The requests were made as the service account: the exec token was used.
      const audit = fs
        .readFileSync(at(env.ready.clusters, 0).auditLog, "utf8")
        .split("\n")
        .filter((l) => l.includes(`system:serviceaccount:${ns}:${sa}`) && l.includes("openid"));
      expect(audit.length).toBeGreaterThan(0);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  );

  test("bad usage exits 2 with the usage text; an unknown context names the available ones", async () => {
    const none = await doctor([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--kubeconfig is required");
    const ctx = await doctor(["--kubeconfig", kc(0), "--context", "nope"]);
    expect(ctx.code).toBe(2);
    expect(ctx.stderr).toContain('the kubeconfig has no context "nope"; it has: cluster-1');
  });
});
