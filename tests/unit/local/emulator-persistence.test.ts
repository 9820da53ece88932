import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { startEmulator } from "../../../local/emulator/emulator";
import {
  AGENT_SUBJECT,
  call,
  Clock,
  ClusterKey,
  FakeIssuer,
  jwksOf,
  removeTempDirs,
  serviceAccountToken,
  tempDir,
} from "../../support/emulator-fixtures";

afterEach(removeTempDirs);

describe("restart", () => {
  it("keeps groups, tokens, invites, identities, clusters and the signing key", async () => {
    const clock = new Clock();
    const dataDir = tempDir();
    const key = new ClusterKey();
    const issuer = await new FakeIssuer(key).start();
    const options = { dataDir, now: clock.now, allowInsecureIssuers: true };

    const first = await startEmulator(options);
    const team = first.createGroup(first.rootGroup, "team");
    const teamToken = first.createToken(team);
    const api = (base: string, method: string, path: string, body?: unknown, token = first.token) =>
      call(base, method, path, { token, body });
    const invite = (await api(first.url, "POST", `/iam/v1/group_invites/${team}`, { ttl: "3600s" }))
      .json;
    const identity = (
      await api(first.url, "POST", `/iam/v1/identities/${team}`, {
        name: "keys",
        static: {
          issuer: issuer.url,
          subject: AGENT_SUBJECT,
          issuerKeys: JSON.stringify(jwksOf(key)),
        },
      })
    ).json;
    const registered = await call(first.url, "POST", "/auth/v1/register", {
      token: await serviceAccountToken(key, { issuer: issuer.url, clock }),
      body: { code: invite.code, remoteId: "r1", clusterName: "dev", identityId: identity.id },
    });
    expect(registered.status).toBe(200);
    const jwksBefore = (await call(first.url, "GET", "/.well-known/jwks.json")).json;
    const clustersBefore = (await api(first.url, "GET", "/tenant/v1/clusters")).json;
    await first.close();

    const second = await startEmulator(options);
    try {
      expect(second.rootGroup).toBe(first.rootGroup);
      expect(second.teamGroup).toBe(first.teamGroup);
      expect(second.token).toBe(first.token);
      expect((await api(second.url, "GET", "/tenant/v1/clusters")).json).toEqual(clustersBefore);
      expect((await api(second.url, "GET", "/iam/v1/identities")).json.items).toEqual([identity]);
      expect((await call(second.url, "GET", "/.well-known/jwks.json")).json).toEqual(jwksBefore);
      // The child group's token still works, and only inside its group.
      expect(
        (await api(second.url, "GET", "/tenant/v1/clusters", undefined, teamToken)).json.items,
      ).toHaveLength(1);
      expect(
        (await api(second.url, "POST", `/iam/v1/group_invites/${first.rootGroup}`, {}, teamToken))
          .status,
      ).toBe(403);
      // The invite survives: the cluster re-registers with the same code.
      const again = await call(second.url, "POST", "/auth/v1/register", {
        token: await serviceAccountToken(key, { issuer: issuer.url, clock }),
        body: { code: invite.code, remoteId: "r1", identityId: identity.id },
      });
      expect(again.status).toBe(200);
      expect(again.json.clusterId).toBe(registered.json.clusterId);
      // And it can still be deleted.
      expect((await api(second.url, "DELETE", `/iam/v1/group_invites/${invite.id}`)).status).toBe(
        200,
      );
    } finally {
      await second.close();
      await issuer.close();
    }
  });

  it("keeps the token in a 0600 file and only hashes of credentials in the database", async () => {
    const clock = new Clock();
    const dataDir = tempDir();
    const emu = await startEmulator({ dataDir, now: clock.now });
    const invite = await call(emu.url, "POST", `/iam/v1/group_invites/${emu.rootGroup}`, {
      token: emu.token,
      body: {},
    });
    await emu.close();

    expect(emu.tokenPath).toBe(join(dataDir, "token"));
    expect(readFileSync(emu.tokenPath, "utf8")).toBe(`${emu.token}\n`);
    expect(statSync(emu.tokenPath).mode & 0o777).toBe(0o600);
    for (const file of readdirSync(dataDir).filter((f) => f !== "token")) {
      const bytes = readFileSync(join(dataDir, file)).toString("latin1");
      expect(bytes).not.toContain(emu.token);
      expect(bytes).not.toContain(invite.json.code);
    }
  });

  it("mints a new root token when the token file is lost, keeping the root group", async () => {
    const dataDir = tempDir();
    const first = await startEmulator({ dataDir });
    await first.close();
    const { rmSync } = await import("node:fs");
    rmSync(first.tokenPath);
    const second = await startEmulator({ dataDir });
    try {
      expect(second.rootGroup).toBe(first.rootGroup);
      expect(second.token).not.toBe(first.token);
      const res = await call(second.url, "GET", "/tenant/v1/clusters", { token: second.token });
      expect(res.status).toBe(200);
    } finally {
      await second.close();
    }
  });
});

describe("options", () => {
  it("names the offending option", async () => {
    await expect(startEmulator({})).rejects.toThrow(
      new TypeError("EmulatorOptions: one of dataDir or dbPath is required"),
    );
    await expect(
      startEmulator({ dataDir: tempDir(), identityMaxLifetimeSeconds: 31 * 24 * 3600 }),
    ).rejects.toThrow(/^EmulatorOptions.identityMaxLifetimeSeconds may not exceed/);
    await expect(startEmulator({ dataDir: tempDir(), port: 70000 })).rejects.toThrow(
      "EmulatorOptions.port must be an integer in 0..65535, got 70000",
    );
  });

  it("accepts dbPath and puts the token file beside the database", async () => {
    const dir = tempDir();
    const emu = await startEmulator({ dbPath: join(dir, "state.sqlite") });
    await emu.close();
    expect(emu.tokenPath).toBe(join(dir, "token"));
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(["state.sqlite", "token"]));
  });

  it("reports publicUrl as its issuer", async () => {
    const emu = await startEmulator({
      dataDir: tempDir(),
      publicUrl: "https://issuer.enforce.test",
    });
    try {
      const doc = await call(emu.url, "GET", "/.well-known/openid-configuration");
      expect(doc.json).toMatchObject({
        issuer: "https://issuer.enforce.test",
        jwks_uri: "https://issuer.enforce.test/.well-known/jwks.json",
      });
    } finally {
      await emu.close();
    }
  });
});
