import type { RunningEmulator } from "../../../local/emulator/emulator";
import {
  AGENT_SUBJECT,
  call,
  Clock,
  ClusterKey,
  FakeIssuer,
  jwksOf,
  removeTempDirs,
  serviceAccountToken,
  startTestEmulator,
  type Response,
} from "../../support/emulator-fixtures";
import { at } from "../../support/fixture";

const PRIVATE = "the cluster is private: register it with a static-key identity (identityId)";

let clock: Clock;
let emu: RunningEmulator;
let key: ClusterKey;
let issuer: FakeIssuer;
/** Every response of the test, to check no error body leaks a credential. */
let responses: Response[];
let secrets: string[];

beforeAll(() => {
  key = new ClusterKey();
});

beforeEach(async () => {
  clock = new Clock();
  responses = [];
  secrets = [];
  emu = await startTestEmulator(clock);
  issuer = await new FakeIssuer(key).start();
});

afterEach(async () => {
  for (const res of responses.filter((r) => r.status >= 400)) {
    for (const secret of secrets) expect(res.text).not.toContain(secret);
  }
  await emu.close();
  await issuer.close();
  removeTempDirs();
});

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await call(emu.url, method, path, { token: emu.token, body });
  responses.push(res);
  return res;
}

async function newInvite(group = emu.rootGroup, ttl = "600s"): Promise<string> {
  const res = await api("POST", `/iam/v1/group_invites/${group}`, { ttl });
  expect(res.status).toBe(200);
  secrets.push(res.json.code);
  return res.json.code;
}

async function token(
  options: Partial<Parameters<typeof serviceAccountToken>[1]> & { key?: ClusterKey } = {},
): Promise<string> {
  const minted = await serviceAccountToken(options.key ?? key, {
    issuer: issuer.url,
    clock,
    ...options,
  });
  secrets.push(minted);
  return minted;
}

async function agent(path: string, bearer: string, body: unknown): Promise<Response> {
  const res = await call(emu.url, "POST", path, { token: bearer, body });
  responses.push(res);
  return res;
}

async function register(bearer: string, body: Record<string, unknown>): Promise<Response> {
  return agent("/auth/v1/register", bearer, {
    remoteId: "ns-uid-1",
    clusterName: "dev",
    clusterDescription: "the dev cluster",
    ...body,
  });
}

async function uploadIdentity(
  keys: ClusterKey[],
  options: { group?: string; issuerUrl?: string; expiration?: string } = {},
): Promise<string> {
  const res = await api("POST", `/iam/v1/identities/${options.group ?? emu.rootGroup}`, {
    name: "private-keys",
    static: {
      issuer: options.issuerUrl ?? issuer.url,
      subject: AGENT_SUBJECT,
      issuerKeys: JSON.stringify(jwksOf(...keys)),
      ...(options.expiration ? { expiration: options.expiration } : {}),
    },
  });
  expect(res.status).toBe(200);
  return res.json.id;
}

async function clusters(query = ""): Promise<Record<string, unknown>[]> {
  return (await api("GET", `/tenant/v1/clusters${query}`)).json.items;
}

describe("register, public issuer", () => {
  it("verifies by anonymous discovery and creates the cluster in the invite's group", async () => {
    const code = await newInvite();
    const res = await register(await token(), {
      code,
      profiles: ["enforcer", "observer"],
      enforcerOptions: { webhookFailOpen: true },
      agentVersion: "v0.9.0",
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      identity: res.json.clusterId,
      group: emu.rootGroup,
      clusterId: expect.stringMatching(new RegExp(`^${emu.rootGroup}/[0-9a-f]{16}$`)),
    });
    expect(await clusters()).toEqual([
      {
        id: res.json.clusterId,
        remoteId: "ns-uid-1",
        issuer: issuer.url,
        registered: "2031-03-01T12:00:00Z",
        lastSeen: "2031-03-01T12:00:00Z",
        version: "",
        agentVersion: "v0.9.0",
        name: "dev",
        description: "the dev cluster",
        group: emu.rootGroup,
        activity: {},
        profiles: ["enforcer", "observer"],
        enforcerOptions: {
          webhookFailOpen: true,
          enableCipCache: false,
          namespaceEnforcementMode: "OptIn",
        },
        identityId: "",
      },
    ]);
    expect(issuer.requests.map((r) => r.path)).toEqual([
      "/.well-known/openid-configuration",
      "/openid/v1/jwks",
    ]);
    expect(issuer.requests.every((r) => r.authorization === undefined)).toBe(true);
  });

  it("re-registers in the same group, keeping name and description", async () => {
    const code = await newInvite(emu.rootGroup, "7200s");
    const first = await register(await token(), { code });
    clock.advance(3600);
    const again = await register(await token(), {
      code,
      clusterName: "renamed",
      clusterDescription: "ignored",
    });
    expect(again.status).toBe(200);
    expect(again.json.clusterId).toBe(first.json.clusterId);
    const [cluster] = await clusters();
    expect(cluster).toMatchObject({
      name: "dev",
      description: "the dev cluster",
      registered: "2031-03-01T13:00:00Z",
      lastSeen: "2031-03-01T13:00:00Z",
    });
  });

  it("refuses a remoteId registered under another group with 409", async () => {
    const team = emu.createGroup(emu.rootGroup, "team");
    expect((await register(await token(), { code: await newInvite() })).status).toBe(200);
    const res = await register(await token(), { code: await newInvite(team) });
    expect(res.status).toBe(409);
    expect(res.json).toEqual({
      code: 6,
      message:
        "a cluster with remoteId ns-uid-1 is already registered in another group: delete it " +
        "there (find it with GET /tenant/v1/clusters?remoteId=ns-uid-1) before registering it " +
        `in group ${team}`,
      details: [],
    });
    expect(await clusters()).toHaveLength(1);
  });

  it("says a private issuer is private", async () => {
    issuer.mode = "private";
    const res = await register(await token(), { code: await newInvite() });
    expect(res.status).toBe(401);
    expect(res.json).toEqual({
      code: 16,
      message: `the cluster's issuer discovery at ${issuer.url} requires authentication (HTTP 401); ${PRIVATE}`,
      details: [],
    });
    issuer.mode = "absent";
    const absent = await register(await token(), { code: await newInvite() });
    expect(absent.json.message).toBe(
      `the cluster's issuer discovery at ${issuer.url} is not served (HTTP 404): enable service ` +
        `account issuer discovery on the cluster, or ${PRIVATE}`,
    );
  });

  it("answers 503 with Retry-After while the issuer fails", async () => {
    issuer.mode = "failing";
    const res = await register(await token(), { code: await newInvite() });
    expect(res.status).toBe(503);
    expect(res.headers["retry-after"]).toBe("5");
    expect(res.json).toEqual({
      code: 14,
      message: `the cluster's issuer discovery at ${issuer.url} failed (HTTP 500); try again later`,
      details: [],
    });
  });

  it("says an unreachable issuer cannot be reached", async () => {
    const url = issuer.url;
    await issuer.close();
    const res = await register(await token(), { code: await newInvite() });
    expect(res.status).toBe(401);
    expect(res.json.message).toBe(
      `the cluster's issuer discovery at ${url} cannot be reached (ECONNREFUSED); the platform ` +
        `fetches it anonymously from outside the cluster, so if it is not reachable from there, ${PRIVATE}`,
    );
    issuer = await new FakeIssuer(key).start();
  });

  it("refuses a discovery document naming another issuer", async () => {
    issuer.advertisedIssuer = "https://elsewhere.example";
    const res = await register(await token(), { code: await newInvite() });
    expect(res.status).toBe(401);
    expect(res.json.message).toBe(
      `the issuer discovery document at ${issuer.url}/.well-known/openid-configuration names ` +
        `issuer "https://elsewhere.example", not the token's issuer "${issuer.url}"; the API ` +
        "server's --service-account-issuer must match the iss of its tokens",
    );
  });

  it("refuses http issuers unless allowInsecureIssuers is set", async () => {
    const strict = await startTestEmulator(clock, { allowInsecureIssuers: false });
    try {
      const invite = await call(strict.url, "POST", `/iam/v1/group_invites/${strict.rootGroup}`, {
        token: strict.token,
        body: {},
      });
      const res = await call(strict.url, "POST", "/auth/v1/register", {
        token: await token(),
        body: { code: invite.json.code, remoteId: "r", clusterName: "n" },
      });
      expect(res.status).toBe(401);
      expect(res.json.message).toBe(
        `the issuer ${issuer.url} is not an https URL; the platform fetches issuer discovery ` +
          `only over https, so ${PRIVATE}`,
      );
      expect(issuer.requests).toEqual([]);
    } finally {
      await strict.close();
    }
  });

  it("refetches the issuer's keys when a token names an unknown kid (rotation)", async () => {
    const code = await newInvite();
    expect((await register(await token(), { code })).status).toBe(200);
    const rotated = new ClusterKey();
    issuer.keys = [rotated, key];
    const res = await register(await token({ key: rotated }), { code });
    expect(res.status).toBe(200);
    expect(issuer.requests.map((r) => r.path)).toEqual([
      "/.well-known/openid-configuration",
      "/openid/v1/jwks",
      "/.well-known/openid-configuration",
      "/openid/v1/jwks",
    ]);
    // A known kid within the cache period needs no fetch; after it, keys are fetched again.
    expect((await register(await token({ key: rotated }), { code })).status).toBe(200);
    expect(issuer.requests).toHaveLength(4);
    clock.advance(31);
    expect((await register(await token({ key: rotated }), { code })).status).toBe(200);
    expect(issuer.requests).toHaveLength(6);
  });

  it("refuses a key the issuer does not publish", async () => {
    const stranger = new ClusterKey();
    const res = await register(await token({ key: stranger }), { code: await newInvite() });
    expect(res.status).toBe(401);
    expect(res.json.message).toBe(
      `the issuer ${issuer.url} publishes no key matching the token's signing key ` +
        `(kid ${stranger.kid}) at ${issuer.url}/openid/v1/jwks`,
    );
  });
});

describe("register, token claims", () => {
  it("refuses a wrong audience", async () => {
    const res = await register(await token({ audience: ["https://kubernetes.default.svc"] }), {
      code: await newInvite(),
    });
    expect(res.status).toBe(401);
    expect(res.json.message).toBe(
      'the cluster token\'s audience is ["https://kubernetes.default.svc"]; it must include ' +
        '"gulfstream" (request the token with that audience)',
    );
  });

  it("refuses a wrong subject", async () => {
    const res = await register(await token({ subject: "system:serviceaccount:default:default" }), {
      code: await newInvite(),
    });
    expect(res.status).toBe(401);
    expect(res.json.message).toBe(
      'the cluster token\'s subject is "system:serviceaccount:default:default"; the agent ' +
        `registers as "${AGENT_SUBJECT}"`,
    );
  });

  it("refuses an expired token", async () => {
    const stale = await token();
    clock.advance(601);
    const res = await register(stale, { code: await newInvite() });
    expect(res.status).toBe(401);
    expect(res.json.message).toBe(
      "the cluster token expired at 2031-03-01T12:10:00Z; send a fresh service-account token",
    );
  });

  it("refuses a missing or malformed bearer", async () => {
    const code = await newInvite();
    const none = await call(emu.url, "POST", "/auth/v1/register", {
      body: { code, remoteId: "r" },
    });
    expect(none.status).toBe(401);
    expect(none.json.message).toMatch(/^the request has no bearer token/);
    const garbage = await register("abc.def.ghi", { code });
    expect(garbage.status).toBe(401);
    expect(garbage.json.message).toBe("the bearer token is not a JWT");
    // Authentication comes before the invite check.
    expect((await register("abc.def.ghi", { code: "made-up" })).status).toBe(401);
  });
});

describe("register, invites", () => {
  it("refuses an unknown, deleted or expired code", async () => {
    const unknown = await register(await token(), { code: "made-up-code" });
    expect(unknown.status).toBe(403);
    expect(unknown.json.message).toBe(
      "the invite code is not valid (unknown or deleted): create a new invite for the group",
    );

    const created = await api("POST", `/iam/v1/group_invites/${emu.rootGroup}`, { ttl: "60s" });
    secrets.push(created.json.code);
    clock.advance(60);
    const expired = await register(await token(), { code: created.json.code });
    expect(expired.status).toBe(412);
    expect(expired.json).toEqual({
      code: 9,
      message: `the invite code expired at 2031-03-01T12:01:00Z: create a new invite for group ${emu.rootGroup}`,
      details: [],
    });

    const doomed = await api("POST", `/iam/v1/group_invites/${emu.rootGroup}`, {});
    secrets.push(doomed.json.code);
    await api("DELETE", `/iam/v1/group_invites/${doomed.json.id}`);
    expect((await register(await token(), { code: doomed.json.code })).status).toBe(403);
  });

  it("lands the cluster in the invite's group", async () => {
    const team = emu.createGroup(emu.rootGroup, "team");
    const res = await register(await token(), { code: await newInvite(team) });
    expect(res.json.group).toBe(team);
    expect(res.json.clusterId.startsWith(`${team}/`)).toBe(true);
  });

  it("needs clusterName for a new cluster", async () => {
    const res = await register(await token(), { code: await newInvite(), clusterName: undefined });
    expect(res.status).toBe(400);
    expect(res.json.message).toBe("clusterName is required to register a new cluster");
  });
});

describe("register, private cluster (static keys)", () => {
  beforeEach(() => {
    issuer.mode = "private";
  });

  it("verifies against a matching identity without touching the issuer", async () => {
    const identityId = await uploadIdentity([key]);
    const res = await register(await token(), { code: await newInvite(), identityId });
    expect(res.status).toBe(200);
    expect(issuer.requests).toEqual([]);
    const cluster = at(await clusters(), 0);
    expect(cluster.identityId).toBe(identityId);
    expect(cluster.issuer).toBe(issuer.url);
  });

  it("refuses when the identity holds other keys", async () => {
    const identityId = await uploadIdentity([new ClusterKey()]);
    const res = await register(await token(), { code: await newInvite(), identityId });
    expect(res.status).toBe(401);
    expect(res.json.message).toBe(
      `none of the keys uploaded with identity ${identityId} matches the token's signing key ` +
        `(kid ${key.kid}); the cluster's service-account signing key has changed since the ` +
        "upload: upload the cluster's current JWKS as a new identity and register with it",
    );
  });

  it("stops verifying new tokens after the cluster's key changes, until keys are uploaded again", async () => {
    const code = await newInvite();
    const oldIdentity = await uploadIdentity([key]);
    const first = await register(await token(), { code, identityId: oldIdentity });
    expect(first.status).toBe(200);

    const rotated = new ClusterKey();
    const refused = await register(await token({ key: rotated }), {
      code,
      identityId: oldIdentity,
    });
    expect(refused.status).toBe(401);
    expect(refused.json.message).toContain(`(kid ${rotated.kid})`);
    const heartbeat = await agent("/auth/v1/heartbeat", await token({ key: rotated }), {
      clusterId: first.json.clusterId,
    });
    expect(heartbeat.status).toBe(401);

    const newIdentity = await uploadIdentity([rotated]);
    const again = await register(await token({ key: rotated }), { code, identityId: newIdentity });
    expect(again.status).toBe(200);
    expect(again.json.clusterId).toBe(first.json.clusterId);
    const cluster = at(await clusters(), 0);
    expect(cluster.identityId).toBe(newIdentity);
  });

  it("refuses an expired identity with 412", async () => {
    const identityId = await uploadIdentity([key], { expiration: "2031-03-01T13:00:00Z" });
    const code = await newInvite(emu.rootGroup, "86400s");
    clock.advance(3600);
    const res = await register(await token(), { code, identityId });
    expect(res.status).toBe(412);
    expect(res.json.message).toBe(
      `identity ${identityId} expired at 2031-03-01T13:00:00Z: upload the cluster's current ` +
        "issuer keys as a new identity and register the cluster again with it",
    );
  });

  it("refuses an identity whose issuer differs from the token's", async () => {
    const identityId = await uploadIdentity([key], { issuerUrl: "https://other.example" });
    const res = await register(await token(), { code: await newInvite(), identityId });
    expect(res.status).toBe(401);
    expect(res.json.message).toBe(
      `the cluster token's issuer "${issuer.url}" is not the issuer "https://other.example" of ` +
        `identity ${identityId}; upload the cluster's issuer and keys as a new identity`,
    );
  });

  it("refuses an identity outside the invite's group, and an unknown one", async () => {
    const a = emu.createGroup(emu.rootGroup, "a");
    const b = emu.createGroup(emu.rootGroup, "b");
    const identityId = await uploadIdentity([key], { group: a });
    const res = await register(await token(), { code: await newInvite(b), identityId });
    expect(res.status).toBe(403);
    expect(res.json.message).toBe(
      `identity ${identityId} belongs to group ${a}, which does not contain the invite's group ` +
        `${b}: create the identity in that group or one of its ancestors`,
    );
    const missing = `${emu.rootGroup}/0000000000000000`;
    const unknown = await register(await token(), { code: await newInvite(), identityId: missing });
    expect(unknown.status).toBe(404);
  });
});

describe("heartbeat and exchange", () => {
  it("heartbeat verifies like the registration did and sets lastSeen", async () => {
    const reg = await register(await token(), { code: await newInvite() });
    clock.advance(120);
    const res = await agent("/auth/v1/heartbeat", await token(), {
      clusterId: reg.json.clusterId,
      agentVersion: "v1.0.0",
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ lastSeen: "2031-03-01T12:02:00Z" });
    const [cluster] = await clusters();
    expect(cluster).toMatchObject({ lastSeen: "2031-03-01T12:02:00Z", agentVersion: "v1.0.0" });

    issuer.mode = "private";
    clock.advance(3600); // past the key cache
    const refused = await agent("/auth/v1/heartbeat", await token(), {
      clusterId: reg.json.clusterId,
    });
    expect(refused.status).toBe(401);
    expect(refused.json.message).toContain("requires authentication (HTTP 401)");
  });

  it("heartbeat of a private cluster fails with 412 once its identity expired", async () => {
    issuer.mode = "private";
    const identityId = await uploadIdentity([key], { expiration: "2031-03-01T12:30:00Z" });
    const reg = await register(await token(), { code: await newInvite(), identityId });
    expect(reg.status).toBe(200);
    clock.advance(1800);
    const res = await agent("/auth/v1/heartbeat", await token(), { clusterId: reg.json.clusterId });
    expect(res.status).toBe(412);
  });

  it("heartbeat of a deleted cluster is 404", async () => {
    const reg = await register(await token(), { code: await newInvite() });
    await api("DELETE", `/tenant/v1/clusters/${reg.json.clusterId}`);
    const res = await agent("/auth/v1/heartbeat", await token(), { clusterId: reg.json.clusterId });
    expect(res.status).toBe(404);
    expect(res.json.message).toBe(
      `cluster ${reg.json.clusterId} is not registered (deleted?): register the cluster again`,
    );
  });

  it("exchange mints a short-lived token signed by the emulator's published key", async () => {
    const reg = await register(await token(), { code: await newInvite() });
    const res = await agent("/sts/exchange", await token(), {
      aud: ["https://console-api.enforce.dev"],
      scope: "cluster",
      identity: reg.json.identity,
      cap: [],
    });
    expect(res.status).toBe(200);
    secrets.push(res.json.token);

    const discovery = await call(emu.url, "GET", "/.well-known/openid-configuration");
    expect(discovery.json.issuer).toBe(emu.issuerUrl);
    const jwks = await call(emu.url, "GET", new URL(discovery.json.jwks_uri).pathname);
    const { createLocalJWKSet, jwtVerify } = await import("jose");
    const { payload, protectedHeader } = await jwtVerify(
      res.json.token,
      createLocalJWKSet(jwks.json),
      {
        issuer: emu.issuerUrl,
        audience: "https://console-api.enforce.dev",
        currentDate: clock.now(),
      },
    );
    expect(protectedHeader).toMatchObject({ alg: "ES256", kid: jwks.json.keys[0].kid });
    expect(payload).toMatchObject({ sub: reg.json.clusterId, scope: "cluster", cap: [] });
    expect((payload.exp as number) - (payload.iat as number)).toBe(600);
  });

  it("exchange refuses a token from another issuer than the cluster's", async () => {
    const reg = await register(await token(), { code: await newInvite() });
    const other = await new FakeIssuer(key).start();
    try {
      const foreign = await serviceAccountToken(key, { issuer: other.url, clock });
      secrets.push(foreign);
      const res = await agent("/sts/exchange", foreign, { identity: reg.json.identity });
      expect(res.status).toBe(401);
      expect(res.json.message).toBe(
        `the cluster token's issuer "${other.url}" is not the issuer "${issuer.url}" the ` +
          "cluster registered with; register the cluster again",
      );
    } finally {
      await other.close();
    }
  });
});
