import type { RunningEmulator } from "../../../local/emulator/emulator";
import {
  call,
  Clock,
  ClusterKey,
  FakeIssuer,
  removeTempDirs,
  serviceAccountToken,
  startTestEmulator,
} from "../../support/emulator-fixtures";

let clock: Clock;
let emu: RunningEmulator;
let issuer: FakeIssuer;
const key = new ClusterKey();

beforeEach(async () => {
  clock = new Clock();
  emu = await startTestEmulator(clock);
  issuer = await new FakeIssuer(key).start();
});

afterEach(async () => {
  await emu.close();
  await issuer.close();
  removeTempDirs();
});

const api = (method: string, path: string, body?: unknown, token = emu.token) =>
  call(emu.url, method, path, { token, body });

async function connect(group: string, remoteId: string, clusterName: string): Promise<string> {
  const invite = await api("POST", `/iam/v1/group_invites/${group}`, {});
  const res = await call(emu.url, "POST", "/auth/v1/register", {
    token: await serviceAccountToken(key, { issuer: issuer.url, clock }),
    body: { code: invite.json.code, remoteId, clusterName },
  });
  expect(res.status).toBe(200);
  return res.json.clusterId;
}

const ids = (res: { json: { items: { id: string }[] } }) => res.json.items.map((c) => c.id);

describe("cluster list", () => {
  it("filters by id, remoteId, name, childrenOf and descendantsOf, combined with AND", async () => {
    const team = emu.createGroup(emu.rootGroup, "team");
    const sub = emu.createGroup(team, "sub");
    const atRoot = await connect(emu.rootGroup, "r1", "alpha");
    const inTeam = await connect(team, "r2", "beta");
    const inSub = await connect(sub, "r3", "alpha");

    expect(ids(await api("GET", "/tenant/v1/clusters"))).toEqual([atRoot, inTeam, inSub]);
    expect(ids(await api("GET", `/tenant/v1/clusters?id=${inTeam}`))).toEqual([inTeam]);
    expect(ids(await api("GET", "/tenant/v1/clusters?remoteId=r3"))).toEqual([inSub]);
    expect(ids(await api("GET", "/tenant/v1/clusters?name=alpha"))).toEqual([atRoot, inSub]);
    expect(ids(await api("GET", `/tenant/v1/clusters?uidp.childrenOf=${emu.rootGroup}`))).toEqual([
      atRoot,
    ]);
    expect(ids(await api("GET", `/tenant/v1/clusters?uidp.descendantsOf=${team}`))).toEqual([
      inTeam,
      inSub,
    ]);
    expect(
      ids(await api("GET", `/tenant/v1/clusters?uidp.descendantsOf=${team}&name=alpha`)),
    ).toEqual([inSub]);
    expect((await api("GET", "/tenant/v1/clusters?name=none")).json).toEqual({ items: [] });
    // Empty parameters count as absent.
    expect(ids(await api("GET", "/tenant/v1/clusters?id=&name="))).toHaveLength(3);
  });

  it("shows a token only its own subtree and refuses filters outside it", async () => {
    const team = emu.createGroup(emu.rootGroup, "team");
    await connect(emu.rootGroup, "r1", "root-cluster");
    const inTeam = await connect(team, "r2", "team-cluster");
    const teamToken = emu.createToken(team);
    expect(ids(await api("GET", "/tenant/v1/clusters", undefined, teamToken))).toEqual([inTeam]);
    const outside = await api(
      "GET",
      `/tenant/v1/clusters?uidp.descendantsOf=${emu.rootGroup}`,
      undefined,
      teamToken,
    );
    expect(outside.status).toBe(403);
    const malformed = await api("GET", "/tenant/v1/clusters?uidp.childrenOf=xyz");
    expect(malformed.status).toBe(400);
    expect(malformed.json.message).toBe('group "xyz" is not a UIDP');
  });

  it("filters by activeSince", async () => {
    const old = await connect(emu.rootGroup, "r1", "old");
    clock.advance(3600);
    const fresh = await connect(emu.rootGroup, "r2", "fresh");
    expect(ids(await api("GET", "/tenant/v1/clusters?activeSince=2031-03-01T12:30:00Z"))).toEqual([
      fresh,
    ]);
    expect(ids(await api("GET", "/tenant/v1/clusters?activeSince=2031-03-01T11:00:00Z"))).toEqual([
      old,
      fresh,
    ]);
  });
});

describe("cluster update and delete", () => {
  it("PUT changes name, description, profiles and enforcerOptions and ignores the rest", async () => {
    const id = await connect(emu.rootGroup, "r1", "dev");
    const [before] = (await api("GET", "/tenant/v1/clusters")).json.items;
    const res = await api("PUT", `/tenant/v1/clusters/${id}`, {
      ...before,
      name: "prod",
      description: "now production",
      profiles: ["observer"],
      enforcerOptions: {
        webhookFailOpen: true,
        enableCipCache: true,
        namespaceEnforcementMode: "OptOut",
      },
      remoteId: "hijacked",
      issuer: "https://evil.example",
      group: "0".repeat(40),
      registered: "2000-01-01T00:00:00Z",
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      ...before,
      name: "prod",
      description: "now production",
      profiles: ["observer"],
      enforcerOptions: {
        webhookFailOpen: true,
        enableCipCache: true,
        namespaceEnforcementMode: "OptOut",
      },
    });
    expect((await api("GET", "/tenant/v1/clusters")).json.items).toEqual([res.json]);
  });

  it("PUT validates its fields", async () => {
    const id = await connect(emu.rootGroup, "r1", "dev");
    const bad = async (body: unknown) => (await api("PUT", `/tenant/v1/clusters/${id}`, body)).json;
    expect(await bad({ name: "" })).toEqual({
      code: 3,
      message: "name may not be empty",
      details: [],
    });
    expect(
      (await bad({ enforcerOptions: { namespaceEnforcementMode: "Sometimes" } })).message,
    ).toBe('enforcerOptions.namespaceEnforcementMode must be "OptIn" or "OptOut", got "Sometimes"');
    expect((await bad({ profiles: "enforcer" })).message).toBe(
      "profiles must be an array of strings",
    );
    expect((await bad({ id: `${emu.rootGroup}/0000000000000000` })).message).toMatch(
      /^the body's id .* differs from the id .* in the path$/,
    );
  });

  it("PUT and DELETE of a missing cluster are 404; DELETE removes it", async () => {
    const id = await connect(emu.rootGroup, "r1", "dev");
    const del = await api("DELETE", `/tenant/v1/clusters/${id}`);
    expect(del.status).toBe(200);
    expect(del.json).toEqual({});
    expect((await api("GET", "/tenant/v1/clusters")).json).toEqual({ items: [] });
    const again = await api("DELETE", `/tenant/v1/clusters/${id}`);
    expect(again.status).toBe(404);
    expect(again.json).toEqual({ code: 5, message: `cluster ${id} does not exist`, details: [] });
    expect((await api("PUT", `/tenant/v1/clusters/${id}`, { name: "x" })).status).toBe(404);
  });

  it("a deleted cluster can register again in another group", async () => {
    const team = emu.createGroup(emu.rootGroup, "team");
    const id = await connect(emu.rootGroup, "r1", "dev");
    await api("DELETE", `/tenant/v1/clusters/${id}`);
    const moved = await connect(team, "r1", "dev");
    expect(moved.startsWith(`${team}/`)).toBe(true);
  });

  it("PUT and DELETE outside the token's group are 403", async () => {
    const team = emu.createGroup(emu.rootGroup, "team");
    const id = await connect(emu.rootGroup, "r1", "dev");
    const teamToken = emu.createToken(team);
    expect((await api("PUT", `/tenant/v1/clusters/${id}`, { name: "x" }, teamToken)).status).toBe(
      403,
    );
    expect((await api("DELETE", `/tenant/v1/clusters/${id}`, undefined, teamToken)).status).toBe(
      403,
    );
    expect((await api("GET", "/tenant/v1/clusters")).json.items[0].name).toBe("dev");
  });
});
