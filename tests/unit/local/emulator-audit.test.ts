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
import { at } from "../../support/fixture";

let clock: Clock;
let emu: RunningEmulator;

beforeEach(async () => {
  clock = new Clock();
  emu = await startTestEmulator(clock);
});

afterEach(async () => {
  await emu.close();
  removeTempDirs();
});

interface Entry {
  seq: number;
  time: string;
  method: string;
  path: string;
  status: number;
}

async function audit(after?: number): Promise<Entry[]> {
  const query = after === undefined ? "" : `?after=${after}`;
  const res = await call(emu.url, "GET", `/_emulator/v1/audit${query}`, { token: emu.token });
  expect(res.status).toBe(200);
  return res.json.items;
}

describe("audit trail", () => {
  it("records every call in order with its status, without query strings", async () => {
    await call(emu.url, "POST", `/iam/v1/group_invites/${emu.rootGroup}?x=secret`, {
      token: emu.token,
      body: {},
    });
    clock.advance(1);
    await call(emu.url, "GET", "/tenant/v1/clusters?name=dev");
    clock.advance(1);
    await call(emu.url, "GET", "/nowhere");
    const entries = await audit();
    expect(
      entries.map(({ method, path, status, time }) => ({ method, path, status, time })),
    ).toEqual([
      {
        method: "POST",
        path: `/iam/v1/group_invites/${emu.rootGroup}`,
        status: 200,
        time: "2031-03-01T12:00:00Z",
      },
      { method: "GET", path: "/tenant/v1/clusters", status: 401, time: "2031-03-01T12:00:01Z" },
      { method: "GET", path: "/nowhere", status: 404, time: "2031-03-01T12:00:02Z" },
    ]);
    const seqs = entries.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    // The audit call itself shows up afterwards; `after` pages on.
    const next = await audit(seqs[2]);
    expect(next).toEqual([
      expect.objectContaining({ method: "GET", path: "/_emulator/v1/audit", status: 200 }),
    ]);
    expect(await audit(next[0]!.seq + 1)).toEqual([]);
  });

  it("keeps arrival order and never skips a slow call", async () => {
    const key = new ClusterKey();
    const issuer = await new FakeIssuer(key).start();
    try {
      let release!: () => void;
      issuer.gate = new Promise((resolve) => (release = resolve));
      const invite = await call(emu.url, "POST", `/iam/v1/group_invites/${emu.rootGroup}`, {
        token: emu.token,
        body: {},
      });
      const created = at(await audit(), 0);
      const slow = call(emu.url, "POST", "/auth/v1/register", {
        token: await serviceAccountToken(key, { issuer: issuer.url, clock }),
        body: { code: invite.json.code, remoteId: "r", clusterName: "n" },
      });
      while (issuer.requests.length === 0) await new Promise((r) => setImmediate(r));
      await call(emu.url, "GET", "/tenant/v1/clusters", { token: emu.token });
      // The register call is still being answered: the trail stops before it.
      expect(await audit(created.seq)).toEqual([
        expect.objectContaining({ path: "/_emulator/v1/audit" }),
      ]);
      release();
      expect((await slow).status).toBe(200);
      const paths = (await audit(created.seq)).map((e) => `${e.path} ${e.status}`);
      expect(paths).toEqual([
        "/_emulator/v1/audit 200",
        "/auth/v1/register 200",
        "/tenant/v1/clusters 200",
        "/_emulator/v1/audit 200",
      ]);
    } finally {
      await issuer.close();
    }
  });

  it("is readable only with a root group's token", async () => {
    const team = emu.createGroup(emu.rootGroup, "team");
    const res = await call(emu.url, "GET", "/_emulator/v1/audit", { token: emu.createToken(team) });
    expect(res.status).toBe(403);
    expect((await call(emu.url, "GET", "/_emulator/v1/audit")).status).toBe(401);
    expect(
      (await call(emu.url, "GET", "/_emulator/v1/audit?after=x", { token: emu.token })).status,
    ).toBe(400);
  });
});
