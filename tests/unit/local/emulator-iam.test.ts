import type { RunningEmulator } from "../../../local/emulator/emulator";
import {
  call,
  Clock,
  ClusterKey,
  jwksOf,
  removeTempDirs,
  startTestEmulator,
  START,
  AGENT_SUBJECT,
} from "../../support/emulator-fixtures";

let clock: Clock;
let emu: RunningEmulator;

beforeEach(async () => {
  clock = new Clock();
  emu = await startTestEmulator(clock, { identityMaxLifetimeSeconds: 7 * 24 * 3600 });
});

afterEach(async () => {
  await emu.close();
  removeTempDirs();
});

/** `token` null sends no Authorization header. */
const api = (method: string, path: string, body?: unknown, token: string | null = emu.token) =>
  call(emu.url, method, path, { token: token ?? undefined, body });

describe("invites", () => {
  it("creates an invite as a child of the group, with a default ttl of 600s", async () => {
    const res = await api("POST", `/iam/v1/group_invites/${emu.rootGroup}`, { role: "viewer" });
    expect(res.status).toBe(200);
    expect(res.json.id).toMatch(new RegExp(`^${emu.rootGroup}/[0-9a-f]{16}$`));
    expect(res.json.expiration).toBe(
      new Date(START.getTime() + 600_000).toISOString().replace(".000", ""),
    );
    expect(res.json.role).toBe("viewer");
    expect(typeof res.json.keyId).toBe("string");
    expect(res.json.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Object.keys(res.json).sort()).toEqual(["code", "expiration", "id", "keyId", "role"]);
  });

  it("honours ttl and refuses one above 168h or malformed", async () => {
    const ok = await api("POST", `/iam/v1/group_invites/${emu.rootGroup}`, { ttl: "604800s" });
    expect(ok.status).toBe(200);
    expect(ok.json.expiration).toBe("2031-03-08T12:00:00Z");

    const tooLong = await api("POST", `/iam/v1/group_invites/${emu.rootGroup}`, { ttl: "604801s" });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json).toEqual({
      code: 3,
      message: "ttl 604801s exceeds the maximum of 168h (604800s)",
      details: [],
    });

    const bad = await api("POST", `/iam/v1/group_invites/${emu.rootGroup}`, { ttl: "10m" });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toBe('ttl "10m" is not a duration such as "600s"');
  });

  it("deletes an invite once; the second delete is 404", async () => {
    const created = await api("POST", `/iam/v1/group_invites/${emu.rootGroup}`, {});
    const first = await api("DELETE", `/iam/v1/group_invites/${created.json.id}`);
    expect(first.status).toBe(200);
    expect(first.json).toEqual({});
    const second = await api("DELETE", `/iam/v1/group_invites/${created.json.id}`);
    expect(second.status).toBe(404);
    expect(second.json.code).toBe(5);
    expect(second.json.message).toContain(created.json.id);
  });

  it("404s for a group that does not exist inside the token's scope", async () => {
    const res = await api("POST", `/iam/v1/group_invites/${emu.rootGroup}/0123456789abcdef`, {});
    expect(res.status).toBe(404);
    expect(res.json.message).toBe(`group ${emu.rootGroup}/0123456789abcdef does not exist`);
  });
});

describe("API authentication", () => {
  it("401s without a token and with an unknown one", async () => {
    const none = await api("POST", `/iam/v1/group_invites/${emu.rootGroup}`, {}, null);
    expect(none.status).toBe(401);
    expect(none.json).toEqual({
      code: 16,
      message: "the request has no bearer token: send Authorization: Bearer <API token>",
      details: [],
    });
    const wrong = await api("GET", "/tenant/v1/clusters", undefined, "not-a-real-token");
    expect(wrong.status).toBe(401);
    expect(wrong.json.message).toMatch(/^the API token is not valid/);
    expect(wrong.text).not.toContain("not-a-real-token");
  });

  it("403s when the target is outside the token's group", async () => {
    const child = emu.createGroup(emu.rootGroup, "team");
    const sibling = emu.createGroup(emu.rootGroup, "other");
    const childToken = emu.createToken(child);

    const up = await api("POST", `/iam/v1/group_invites/${emu.rootGroup}`, {}, childToken);
    expect(up.status).toBe(403);
    expect(up.json.code).toBe(7);
    expect(up.json.message).toBe(
      `the API token acts for group ${child}, which does not contain group ${emu.rootGroup}: ` +
        "use a token of that group or of one of its ancestors",
    );
    const across = await api(
      "GET",
      `/tenant/v1/clusters?uidp.childrenOf=${sibling}`,
      undefined,
      childToken,
    );
    expect(across.status).toBe(403);

    const own = await api("POST", `/iam/v1/group_invites/${child}`, {}, childToken);
    expect(own.status).toBe(200);
    const below = emu.createGroup(child, "below");
    expect((await api("POST", `/iam/v1/group_invites/${below}`, {}, childToken)).status).toBe(200);
    // The root token reaches everything below the root.
    expect((await api("POST", `/iam/v1/group_invites/${below}`, {})).status).toBe(200);
  });

  it("answers unknown paths 404 and wrong methods 501 Unimplemented, grpc-gateway style", async () => {
    const missing = await api("GET", "/iam/v1/nothing");
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ code: 5, message: "Not Found", details: [] });
    const method = await api("PATCH", "/tenant/v1/clusters");
    expect(method.status).toBe(501);
    expect(method.json).toEqual({ code: 12, message: "Method Not Allowed", details: [] });
  });

  it("400s for a body that is not a JSON object", async () => {
    const res = await call(emu.url, "POST", `/iam/v1/group_invites/${emu.rootGroup}`, {
      token: emu.token,
      rawBody: "{nope",
    });
    expect(res.status).toBe(400);
    expect(res.json.message).toBe("the request body is not valid JSON");
  });
});

describe("identities", () => {
  const key = new ClusterKey();
  const staticKeys = (expiration?: string) => ({
    issuer: "https://kubernetes.default.svc.cluster.local",
    subject: AGENT_SUBJECT,
    issuerKeys: JSON.stringify(jwksOf(key)),
    ...(expiration ? { expiration } : {}),
  });

  it("creates an identity under a group, defaulting its expiration to the maximum lifetime", async () => {
    const res = await api("POST", `/iam/v1/identities/${emu.rootGroup}`, {
      name: "kind-private",
      description: "uploaded keys",
      static: staticKeys(),
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      id: expect.stringMatching(new RegExp(`^${emu.rootGroup}/[0-9a-f]{16}$`)),
      name: "kind-private",
      description: "uploaded keys",
      static: { ...staticKeys(), expiration: "2031-03-08T12:00:00Z" },
    });
  });

  it("caps the expiration at the configured maximum lifetime and keeps an earlier one", async () => {
    const far = await api("POST", `/iam/v1/identities/${emu.rootGroup}`, {
      name: "far",
      static: staticKeys("2031-06-01T00:00:00Z"),
    });
    expect(far.status).toBe(200);
    expect(far.json.static.expiration).toBe("2031-03-08T12:00:00Z");

    const near = await api("POST", `/iam/v1/identities/${emu.rootGroup}`, {
      name: "near",
      static: staticKeys("2031-03-02T00:00:00Z"),
    });
    expect(near.json.static.expiration).toBe("2031-03-02T00:00:00Z");

    const past = await api("POST", `/iam/v1/identities/${emu.rootGroup}`, {
      name: "past",
      static: staticKeys("2031-02-01T00:00:00Z"),
    });
    expect(past.status).toBe(400);
    expect(past.json.message).toBe("static.expiration 2031-02-01T00:00:00Z is not in the future");
  });

  it("caps at 30 days by default", async () => {
    const defaults = await startTestEmulator(clock);
    try {
      const res = await call(defaults.url, "POST", `/iam/v1/identities/${defaults.rootGroup}`, {
        token: defaults.token,
        body: { name: "x", static: staticKeys("2032-01-01T00:00:00Z") },
      });
      expect(res.json.static.expiration).toBe("2031-03-31T12:00:00Z");
    } finally {
      await defaults.close();
    }
  });

  it("refuses keys that are not a public JWK Set", async () => {
    const bad = async (issuerKeys: string) =>
      (
        await api("POST", `/iam/v1/identities/${emu.rootGroup}`, {
          name: "x",
          static: { ...staticKeys(), issuerKeys },
        })
      ).json;
    expect((await bad("nope")).message).toBe(
      "static.issuerKeys must be a JWK Set serialised as a JSON string",
    );
    expect((await bad('{"keys":[]}')).message).toMatch(/at least one key/);
    const privateJwk = key.privateKey.export({ format: "jwk" });
    const leaked = await bad(JSON.stringify({ keys: [privateJwk] }));
    expect(leaked.code).toBe(3);
    expect(leaked.message).toBe(
      "static.issuerKeys: keys[0] contains private key material; upload only the public keys",
    );
    expect(JSON.stringify(leaked)).not.toContain(String(privateJwk.d));
  });

  it("lists with filters and deletes", async () => {
    const team = emu.createGroup(emu.rootGroup, "team");
    const a = (
      await api("POST", `/iam/v1/identities/${emu.rootGroup}`, { name: "a", static: staticKeys() })
    ).json;
    const b = (await api("POST", `/iam/v1/identities/${team}`, { name: "b", static: staticKeys() }))
      .json;

    const all = await api("GET", "/iam/v1/identities");
    expect(all.json.items.map((i: { id: string }) => i.id)).toEqual([a.id, b.id]);
    const children = await api("GET", `/iam/v1/identities?uidp.childrenOf=${team}`);
    expect(children.json.items.map((i: { name: string }) => i.name)).toEqual(["b"]);
    const byId = await api("GET", `/iam/v1/identities?id=${encodeURIComponent(a.id)}`);
    expect(byId.json.items).toEqual([a]);

    expect((await api("DELETE", `/iam/v1/identities/${a.id}`)).json).toEqual({});
    expect((await api("GET", `/iam/v1/identities?id=${a.id}`)).json).toEqual({ items: [] });
    expect((await api("DELETE", `/iam/v1/identities/${a.id}`)).status).toBe(404);
  });
});
