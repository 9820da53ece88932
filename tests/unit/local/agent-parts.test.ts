/**
 * The agent stand-in's rules that need no cluster: reading mcp-creds, reusing tokens, backing
 * off, and the Events it reports about the registration.
 */
import { randomBytes } from "node:crypto";
import { dataDigest, readCreds } from "../../../local/agent/creds";
import { buildEvent, EventRecorder, MAX_EVENT_MESSAGE } from "../../../local/agent/events";
import { REFRESH_MARGIN_MS, TokenSource } from "../../../local/agent/token-source";
import { backoffMs, StoppedError } from "../../../local/agent/wait";

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const hex = (bytes: number) => randomBytes(bytes).toString("hex");

describe("agent: reading mcp-creds", () => {
  const valid = { code: b64("c0de"), "cluster-name": b64("dev"), "cluster-description": b64("d") };

  test("a complete Secret gives the registration inputs; identity-uid is optional", () => {
    expect(readCreds(valid)).toEqual({
      ok: true,
      creds: { code: "c0de", clusterName: "dev", clusterDescription: "d" },
    });
    const id = `${"a".repeat(40)}/${"b".repeat(16)}`;
    expect(readCreds({ ...valid, "identity-uid": b64(id) })).toEqual({
      ok: true,
      creds: { code: "c0de", clusterName: "dev", clusterDescription: "d", identityId: id },
    });
    const noDescription = readCreds({ code: valid.code, "cluster-name": valid["cluster-name"] });
    expect(noDescription.ok && noDescription.creds.clusterDescription).toBe("");
  });

  test.each([
    [{ "cluster-name": b64("dev") }, 'mcp-creds has no "code"'],
    [{ code: "", "cluster-name": b64("dev") }, 'mcp-creds has no "code"'],
    [{ code: b64("c0de") }, 'mcp-creds has no "cluster-name"'],
    [undefined, 'mcp-creds has no "code"'],
  ])("%j is refused: %s", (data, reason) => {
    expect(readCreds(data)).toEqual({ ok: false, reason });
  });

  test("an identity-uid that is not a UIDP is refused with the UIDP rule, never the code", () => {
    const r = readCreds({ ...valid, "identity-uid": b64("ABC") });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toMatch(/^mcp-creds "identity-uid" is not a UIDP: .*lowercase hex/);
    expect(r.reason).not.toContain("c0de");
  });

  test("the data digest ignores key order and changes with any value", () => {
    expect(dataDigest({ a: "1", b: "2" })).toBe(dataDigest({ b: "2", a: "1" }));
    expect(dataDigest({ a: "1", b: "2" })).not.toBe(dataDigest({ a: "1", b: "3" }));
    expect(dataDigest({ a: "1" })).not.toBe(dataDigest({ a: "1", b: "" }));
  });
});

describe("agent: token reuse and backoff", () => {
  test("a token is reused until it expires within two minutes, then minted again", async () => {
    let now = 1_000_000;
    let minted = 0;
    const source = new TokenSource(
      async () => ({ token: `t${++minted}`, expiresAt: now + 600_000 }),
      () => now,
    );
    expect((await source.current())?.token).toBe("t1");
    now += 600_000 - REFRESH_MARGIN_MS - 1;
    expect((await source.current())?.token).toBe("t1");
    now += 2;
    expect((await source.current())?.token).toBe("t2");
    expect((await source.fresh())?.token).toBe("t3");
    source.invalidate();
    expect((await source.current())?.token).toBe("t4");
  });

  test("backoff doubles from the base, stays within [ceiling/2, ceiling] and is capped", () => {
    expect(backoffMs(0, 1000, 15000, () => 0)).toBe(500);
    expect(backoffMs(0, 1000, 15000, () => 0.999999)).toBe(1000);
    expect(backoffMs(3, 1000, 15000, () => 0.999999)).toBe(8000);
    expect(backoffMs(10, 1000, 15000, () => 0.999999)).toBe(15000);
    expect(backoffMs(1000, 1000, 15000, () => 0)).toBe(7500);
  });
});

describe("agent: Events about the registration", () => {
  const refused = {
    type: "Warning",
    reason: "RegistrationRefused",
    message: "registration refused (401): the cluster's issuer is private",
  } as const;

  test("an Event names the StatefulSet, the agent as source and reporter, and now", () => {
    const now = new Date("2026-01-02T03:04:05.678Z");
    expect(buildEvent("sts-uid", refused, now, "0123456789abcdef")).toEqual({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "meta-controlplane.0123456789abcdef", namespace: "gulfstream" },
      involvedObject: {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        namespace: "gulfstream",
        name: "meta-controlplane",
        uid: "sts-uid",
      },
      type: "Warning",
      reason: "RegistrationRefused",
      message: refused.message,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      source: { component: "enforce-agent" },
      reportingComponent: "enforce-agent",
    });
    const names = new Set([1, 2, 3].map(() => buildEvent("u", refused).metadata.name));
    expect(names.size).toBe(3);
    for (const name of names) expect(name).toMatch(/^meta-controlplane\.[0-9a-f]{16}$/);
  });

  test("the recorder scrubs credentials before cutting a long message", async () => {
    const secret = `invite-${hex(16)}`;
    const posted: string[] = [];
    const recorder = new EventRecorder({
      post: async (e) => void posted.push(e.message ?? ""),
      scrub: (text) => text.split(secret).join("[REDACTED]"),
      log: () => undefined,
      signal: new AbortController().signal,
    });
    // The secret straddles the cut: cutting first would leave a prefix of it.
    const long = "x".repeat(MAX_EVENT_MESSAGE - 20) + secret + "y".repeat(50);
    await recorder.record("u", { ...refused, message: long });
    await recorder.record("u", { ...refused, message: `echoed ${secret}` });
    expect(posted[0]).toHaveLength(MAX_EVENT_MESSAGE);
    expect(posted[0]).toMatch(/^x+\[REDACTED\]y+\.\.\.$/);
    expect(posted[1]).toBe("echoed [REDACTED]");
    for (const m of posted) expect(m).not.toContain(secret.slice(0, 8));
  });

  test("a failure to post is logged and swallowed; stopping is not", async () => {
    const logs: string[] = [];
    const controller = new AbortController();
    const recorder = new EventRecorder({
      post: async () => {
        throw new Error("HTTP 403: forbidden");
      },
      scrub: (text) => text,
      log: (line) => logs.push(line),
      signal: controller.signal,
    });
    await expect(recorder.record("u", refused)).resolves.toBeUndefined();
    expect(logs).toEqual([
      "cannot report Event RegistrationRefused (HTTP 403: forbidden); carrying on without it",
    ]);

    const hanging = new EventRecorder({
      post: () => new Promise<void>(() => undefined),
      scrub: (text) => text,
      log: (line) => logs.push(line),
      signal: controller.signal,
    });
    const pending = hanging.record("u", refused);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(StoppedError);
    expect(logs).toHaveLength(1);
  });
});
