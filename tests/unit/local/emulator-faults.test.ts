import type { RunningEmulator } from "../../../local/emulator/emulator";
import {
  AGENT_SUBJECT,
  call,
  Clock,
  ClusterKey,
  jwksOf,
  removeTempDirs,
  startTestEmulator,
} from "../../support/emulator-fixtures";

let clock: Clock;
let emu: RunningEmulator;

beforeEach(async () => {
  clock = new Clock();
  emu = await startTestEmulator(clock, { faultInjection: true });
});

afterEach(async () => {
  await emu.close();
  removeTempDirs();
});

const api = (method: string, path: string, body?: unknown) =>
  call(emu.url, method, path, { token: emu.token, body });
const setFault = (rule: Record<string, unknown>) => api("POST", "/_emulator/v1/faults", rule);

async function statuses(): Promise<string[]> {
  const res = await api("GET", "/_emulator/v1/audit");
  return (res.json.items as { method: string; path: string; status: number }[])
    .filter((e) => !e.path.startsWith("/_emulator/"))
    .map((e) => `${e.method} ${e.path} ${e.status}`);
}

describe("fault injection", () => {
  it("is off unless the emulator is started with it", async () => {
    const plain = await startTestEmulator(clock);
    try {
      const res = await call(plain.url, "POST", "/_emulator/v1/faults", {
        token: plain.token,
        body: { status: 503 },
      });
      expect(res.status).toBe(412);
      expect(res.json.message).toMatch(/fault injection is off: start the emulator with --fault/);
      expect(
        (await call(plain.url, "GET", "/tenant/v1/clusters", { token: plain.token })).status,
      ).toBe(200);
    } finally {
      await plain.close();
    }
  });

  it("has no rule until one is set, and refuses a caller without the root token", async () => {
    expect((await api("GET", "/_emulator/v1/faults")).json).toEqual({ items: [] });
    expect((await api("GET", "/tenant/v1/clusters")).status).toBe(200);
    const anonymous = await call(emu.url, "POST", "/_emulator/v1/faults", { body: { drop: true } });
    expect(anonymous.status).toBe(401);
    const bad = await setFault({ status: 404 });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toBe('status must be 429, 500 or 503 (or give "drop": true)');
  });

  it("answers the next matching calls with the status and Retry-After, then normally", async () => {
    const rule = await setFault({
      status: 429,
      retryAfterSeconds: 2,
      method: "GET",
      path: "/tenant/v1/clusters",
      times: 2,
    });
    expect(rule.json).toMatchObject({ id: 1, hits: 0, times: 2 });
    const first = await api("GET", "/tenant/v1/clusters?name=x");
    expect(first.status).toBe(429);
    expect(first.headers["retry-after"]).toBe("2");
    expect(first.json).toEqual({ code: 8, message: "injected fault (rule 1)", details: [] });
    // Another method or path is not touched, nor are the emulator's own endpoints.
    expect((await api("POST", `/iam/v1/group_invites/${emu.rootGroup}`, {})).status).toBe(200);
    expect((await api("GET", "/_emulator/v1/faults")).json.items).toEqual([
      expect.objectContaining({ id: 1, hits: 1 }),
    ]);
    expect((await api("GET", "/tenant/v1/clusters")).status).toBe(429);
    expect((await api("GET", "/tenant/v1/clusters")).status).toBe(200);
    expect((await api("GET", "/_emulator/v1/faults")).json).toEqual({ items: [] });
    expect(await statuses()).toEqual([
      "GET /tenant/v1/clusters 429",
      `POST /iam/v1/group_invites/${emu.rootGroup} 200`,
      "GET /tenant/v1/clusters 429",
      "GET /tenant/v1/clusters 200",
    ]);
  });

  it("drops the connection without an answer, audited as 499", async () => {
    await setFault({ drop: true, times: 1 });
    await expect(api("GET", "/tenant/v1/clusters")).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await api("GET", "/tenant/v1/clusters")).status).toBe(200);
    expect(await statuses()).toEqual([
      "GET /tenant/v1/clusters 499",
      "GET /tenant/v1/clusters 200",
    ]);
  });

  it("fails calls for a time by the emulator's clock, until cleared", async () => {
    await setFault({ status: 503, forSeconds: 30 });
    await setFault({ status: 500 });
    expect((await api("GET", "/iam/v1/identities")).status).toBe(503);
    clock.advance(31);
    // The first rule is over; the second, without a bound, holds until cleared.
    expect((await api("GET", "/iam/v1/identities")).status).toBe(500);
    expect((await api("DELETE", "/_emulator/v1/faults")).json).toEqual({ cleared: 1 });
    expect((await api("GET", "/iam/v1/identities")).status).toBe(200);
  });

  it("after handling, the call takes effect and its answer is lost", async () => {
    await setFault({
      drop: true,
      method: "POST",
      path: "/iam/v1/identities/",
      afterHandling: true,
    });
    const key = new ClusterKey();
    const body = {
      name: "committed",
      static: {
        issuer: "https://kubernetes.default.svc.cluster.local",
        subject: AGENT_SUBJECT,
        issuerKeys: JSON.stringify(jwksOf(key)),
      },
    };
    await expect(api("POST", `/iam/v1/identities/${emu.rootGroup}`, body)).rejects.toThrow();
    const listed = await api("GET", "/iam/v1/identities");
    expect(listed.json.items.map((i: { name: string }) => i.name)).toEqual(["committed"]);
  });
});
