/**
 * The agent stand-in against real local clusters. Only the issuer is stood in
 * for: a loopback HTTPS server that records register/heartbeat calls and
 * answers per docs/platform-api.md, with a certificate of the cluster's own CA
 * so the agent's `issuerCa` handling is exercised too.
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { runAgent, readStatusFile, type AgentStatus } from "../../local/agent/agent";
import { dataDigest, readCreds } from "../../local/agent/creds";
import { buildEvent, EventRecorder, MAX_EVENT_MESSAGE } from "../../local/agent/events";
import { KubeAccess } from "../../local/agent/kube";
import { SecretWatch } from "../../local/agent/secret-watch";
import { REFRESH_MARGIN_MS, TokenSource } from "../../local/agent/token-source";
import { backoffMs, StoppedError } from "../../local/agent/wait";
import type { ReadyFile } from "../../local/control-plane/environment";
import {
  enforceLocalBin,
  eventually,
  kubectl,
  repoRoot,
  sharedEnv,
  startOwnEnv,
  stopOwnEnv,
  type OwnEnv,
} from "../support/env";

const run = promisify(execFile);
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const newCode = () => `invite-${hex(16)}`;

// ---------------------------------------------------------------------------
// Pure parts
// ---------------------------------------------------------------------------

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
    const names = new Set([1, 2, 3].map(() => buildEvent("u", refused).metadata!.name));
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

// ---------------------------------------------------------------------------
// A stand-in for the issuer
// ---------------------------------------------------------------------------

interface IssuerCall {
  path: string;
  authorization: string;
  body: Record<string, unknown>;
}

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

interface FakeIssuer {
  url: string;
  ca: string;
  calls: IssuerCall[];
  registers(): IssuerCall[];
  heartbeats(): IssuerCall[];
  /** Overrides the answer to a register call; the default accepts it. */
  onRegister: (call: IssuerCall, n: number) => Answer | undefined;
  clusterId: string;
  close(): Promise<void>;
}

/** Serves HTTPS with the cluster's API server certificate (127.0.0.1), so its CA is the issuer CA. */
async function startFakeIssuer(cluster: ReadyFile["clusters"][number]): Promise<FakeIssuer> {
  const dir = path.dirname(cluster.caFile);
  const group = hex(20);
  const fake: FakeIssuer = {
    url: "",
    ca: fs.readFileSync(cluster.caFile, "utf8"),
    calls: [],
    registers: () => fake.calls.filter((c) => c.path === "/auth/v1/register"),
    heartbeats: () => fake.calls.filter((c) => c.path === "/auth/v1/heartbeat"),
    onRegister: () => undefined,
    clusterId: `${group}/${hex(8)}`,
    close: async () => undefined,
  };
  const server = https.createServer(
    {
      cert: fs.readFileSync(path.join(dir, "apiserver.crt")),
      key: fs.readFileSync(path.join(dir, "apiserver.key")),
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const reply = ({ status, body, headers }: Answer) => {
          res.writeHead(status, { "content-type": "application/json", ...headers });
          res.end(JSON.stringify(body));
        };
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
        } catch {
          return reply({ status: 400, body: { code: 3, message: "body is not JSON" } });
        }
        const call: IssuerCall = {
          path: req.url ?? "",
          authorization: req.headers.authorization ?? "",
          body,
        };
        fake.calls.push(call);
        if (req.method === "POST" && call.path === "/auth/v1/register") {
          return reply(
            fake.onRegister(call, fake.registers().length) ?? {
              status: 200,
              body: { identity: `${group}/${hex(8)}`, group, clusterId: fake.clusterId },
            },
          );
        }
        if (req.method === "POST" && call.path === "/auth/v1/heartbeat") {
          return reply({ status: 200, body: { lastSeen: new Date().toISOString() } });
        }
        reply({ status: 404, body: { code: 5, message: `no route ${call.path}`, details: [] } });
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  fake.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

// ---------------------------------------------------------------------------
// Cluster helpers
// ---------------------------------------------------------------------------

type Cluster = ReadyFile["clusters"][number];

/** The fields of a core/v1 Event the tests look at. */
interface KubeEvent {
  metadata: { name: string; namespace: string };
  involvedObject: Record<string, string>;
  type: string;
  reason: string;
  message: string;
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
  source?: { component?: string };
  reportingComponent?: string;
}

function clusterOps(env: ReadyFile, cluster: Cluster) {
  const k = (args: string[], input?: string) => kubectl(env, cluster.kubeconfig, args, input);
  const nsUid = async () =>
    (await k(["get", "namespace", "gulfstream", "-o", "jsonpath={.metadata.uid}"])).trim();
  return {
    k,
    nsUid,
    async createNamespace(): Promise<string> {
      await k(["create", "namespace", "gulfstream"]);
      return nsUid();
    },
    async createServiceAccount(): Promise<void> {
      await k(["-n", "gulfstream", "create", "serviceaccount", "controller"]);
    },
    /**
     * Creates the agent's workload, StatefulSet gulfstream/meta-controlplane:
     * the stand-in acts only while it exists. Its pod never runs (no nodes).
     * Resolves with its UID.
     */
    async createStatefulSet(finalizers: string[] = []): Promise<string> {
      const labels = { "app.kubernetes.io/name": "meta-controlplane" };
      const sts = {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: "meta-controlplane", namespace: "gulfstream", finalizers },
        spec: {
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: "agent", image: "example.invalid/agent:1" }] },
          },
        },
      };
      const out = await k(
        ["create", "-o", "jsonpath={.metadata.uid}", "-f", "-"],
        JSON.stringify(sts),
      );
      return out.trim();
    },
    /** Removes the StatefulSet's finalizers, so a deletion they held completes. */
    async releaseStatefulSet(): Promise<void> {
      await k([
        "-n",
        "gulfstream",
        "patch",
        "statefulset",
        "meta-controlplane",
        "--type=merge",
        "-p",
        '{"metadata":{"finalizers":null}}',
      ]);
    },
    /** Deletes the agent's StatefulSet without waiting (a finalizer may hold it). */
    async deleteStatefulSet(): Promise<void> {
      await k(["-n", "gulfstream", "delete", "statefulset", "meta-controlplane", "--wait=false"]);
    },
    /** The Events the agent reported (source enforce-agent), in no particular order. */
    async agentEvents(): Promise<KubeEvent[]> {
      const out = await k(["-n", "gulfstream", "get", "events", "-o", "json"]);
      return (JSON.parse(out) as { items: KubeEvent[] }).items.filter(
        (e) => e.source?.component === "enforce-agent",
      );
    },
    /** Creates or updates mcp-creds so that it holds exactly `data` (server-side apply). */
    async putSecret(data: Record<string, string>): Promise<void> {
      const secret = {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "mcp-creds", namespace: "gulfstream" },
        data: Object.fromEntries(Object.entries(data).map(([key, v]) => [key, b64(v)])),
      };
      await k(
        ["apply", "--server-side", "--force-conflicts", "--field-manager=agent-test", "-f", "-"],
        JSON.stringify(secret),
      );
    },
    async deleteNamespace(): Promise<void> {
      await k(["delete", "namespace", "gulfstream", "--ignore-not-found", "--wait=false"]);
      await eventually(
        "Namespace gulfstream to be gone",
        async () =>
          (await k(["get", "namespace", "gulfstream", "--ignore-not-found", "-o", "name"])).trim()
            ? undefined
            : true,
        90000,
      );
    },
    /** Asks the API server whether `token` is one of its service-account tokens. */
    async tokenReview(token: string) {
      const review = {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token, audiences: ["gulfstream"] },
      };
      const out = await k(["create", "-o", "json", "-f", "-"], JSON.stringify(review));
      return (JSON.parse(out) as { status: Record<string, unknown> }).status as {
        authenticated?: boolean;
        user?: { username?: string };
        audiences?: string[];
      };
    },
  };
}

interface RunningAgent {
  logs: string[];
  statusFile: string;
  status(): AgentStatus | undefined;
  done: Promise<void>;
  /** Aborts and resolves with how long `runAgent` took to return. */
  stop(): Promise<number>;
}

function startAgent(
  cluster: Cluster,
  issuer: { url: string; ca?: string },
  extra: { heartbeatMs?: number; refusedRetryMs?: number } = {},
): RunningAgent {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-test-"));
  const statusFile = path.join(dir, "status.json");
  const logs: string[] = [];
  const controller = new AbortController();
  const done = runAgent({
    kubeconfigPath: cluster.kubeconfig,
    issuerUrl: issuer.url,
    issuerCa: issuer.ca,
    heartbeatMs: extra.heartbeatMs ?? 60000,
    refusedRetryMs: extra.refusedRetryMs,
    maxRetryMs: 2000,
    statusFile,
    log: (line) => logs.push(line),
    signal: controller.signal,
  });
  let stopped: Promise<number> | undefined;
  return {
    logs,
    statusFile,
    status: () => readStatusFile(statusFile),
    done,
    stop: () =>
      (stopped ??= (async () => {
        const t0 = Date.now();
        controller.abort();
        await done;
        const took = Date.now() - t0;
        fs.rmSync(dir, { recursive: true, force: true });
        return took;
      })()),
  };
}

const statusWith = (agent: RunningAgent, want: Partial<AgentStatus>, what: string) =>
  eventually(
    `agent status ${what} (${JSON.stringify(want)})`,
    async () => {
      const s = agent.status();
      if (!s) return undefined;
      for (const [key, value] of Object.entries(want)) {
        if (s[key as keyof AgentStatus] !== value) return undefined;
      }
      return s;
    },
    60000,
  );

const logged = (agent: RunningAgent, line: string | RegExp) =>
  eventually(`the agent to log ${String(line)}`, async () =>
    agent.logs.find((l) => (typeof line === "string" ? l === line : line.test(l))),
  );

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}

function expectNoCredentials(agent: RunningAgent, secrets: string[]): void {
  const text = agent.logs.join("\n") + "\n" + fs.readFileSync(agent.statusFile, "utf8");
  expect(secrets.length).toBeGreaterThan(0);
  for (const s of secrets) {
    expect(s.length).toBeGreaterThan(8);
    expect(text).not.toContain(s);
  }
}

function expectNoCredentialsIn(events: KubeEvent[], secrets: string[]): void {
  const text = events.map((e) => e.message).join("\n");
  expect(secrets.length).toBeGreaterThan(0);
  for (const s of secrets) {
    expect(s.length).toBeGreaterThan(8);
    expect(text).not.toContain(s);
  }
}

const bearers = (calls: IssuerCall[]) => calls.map((c) => c.authorization.replace(/^Bearer /, ""));

// ---------------------------------------------------------------------------
// Against the shared environment's cluster-2
// ---------------------------------------------------------------------------

describe("agent stand-in on a real cluster (shared cluster-2)", () => {
  const env = sharedEnv();
  const cluster = env.clusters[1];
  const ops = clusterOps(env, cluster);
  let issuer: FakeIssuer;
  let agent: RunningAgent | undefined;

  beforeAll(() => ops.deleteNamespace());
  beforeEach(async () => {
    issuer = await startFakeIssuer(cluster);
  });
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    await issuer.close();
    // A test that holds the StatefulSet with a finalizer would otherwise hold the namespace too.
    await ops.releaseStatefulSet().catch(() => undefined);
    await ops.deleteNamespace();
  });

  test("waits and says why until the namespace, the StatefulSet, a valid Secret and the ServiceAccount exist", async () => {
    agent = startAgent(cluster, issuer);
    await statusWith(agent, { state: "waiting", reason: "Namespace gulfstream not found" }, "");
    await logged(agent, "waiting: Namespace gulfstream not found");

    const uid = await ops.createNamespace();
    const noWorkload =
      "StatefulSet gulfstream/meta-controlplane not found (the agent is not installed)";
    await statusWith(agent, { state: "waiting", reason: noWorkload }, "");
    await logged(agent, `waiting: ${noWorkload}`);

    await ops.createStatefulSet();
    await statusWith(agent, { reason: "Secret gulfstream/mcp-creds not found" }, "");
    await logged(agent, "waiting: Secret gulfstream/mcp-creds not found");

    const code = newCode();
    await ops.putSecret({ "cluster-name": "dev" });
    await statusWith(agent, { state: "waiting", reason: 'mcp-creds has no "code"' }, "");
    await logged(agent, 'not registering: mcp-creds has no "code"');

    await ops.putSecret({ code, "cluster-name": "dev", "identity-uid": "not-a-uidp" });
    const bad = await eventually("a status naming identity-uid", async () => {
      const st = agent!.status();
      return st?.reason.startsWith('mcp-creds "identity-uid" is not a UIDP') ? st : undefined;
    });
    expect(bad).toMatchObject({ state: "waiting", remoteId: uid, clusterId: null });
    await logged(agent, /^not registering: mcp-creds "identity-uid" is not a UIDP: /);

    await ops.putSecret({ code, "cluster-name": "dev" });
    await statusWith(agent, { reason: "ServiceAccount gulfstream/controller not found" }, "");
    await logged(agent, "waiting: ServiceAccount gulfstream/controller not found");
    expect(issuer.registers()).toEqual([]);

    await ops.createServiceAccount();
    const s = await statusWith(agent, { state: "registered" }, "after the ServiceAccount appears");
    expect(s.remoteId).toBe(uid);
    expect(issuer.registers()).toHaveLength(1);
    expectNoCredentials(agent, [code, ...bearers(issuer.calls)]);
  });

  test("registers with the namespace UID and a real token, heartbeats, and re-registers only when the data changes", async () => {
    const uid = await ops.createNamespace();
    await ops.createServiceAccount();
    await ops.createStatefulSet();
    const code1 = newCode();
    await ops.putSecret({ code: code1, "cluster-name": "dev", "cluster-description": "my dev" });
    agent = startAgent(cluster, issuer, { heartbeatMs: 300 });

    const s = await statusWith(agent, { state: "registered" }, "registered");
    expect(s).toMatchObject({
      reason: `configured with ID: ${uid}`,
      remoteId: uid,
      clusterId: issuer.clusterId,
    });
    expect(Date.parse(s.registeredAt!)).not.toBeNaN();
    expect(agent.logs).toContain(`configured with ID: ${uid} (cluster ${issuer.clusterId})`);

    const [reg] = issuer.registers();
    expect(reg.body).toEqual({
      code: code1,
      remoteId: uid,
      clusterName: "dev",
      clusterDescription: "my dev",
      agentVersion: expect.stringMatching(/^\d+\.\d+\.\d+.*-local$/),
    });
    const token = reg.authorization.replace(/^Bearer /, "");
    const claims = claimsOf(token);
    expect(claims.sub).toBe("system:serviceaccount:gulfstream:controller");
    expect(claims.aud).toEqual(["gulfstream"]);
    expect(claims.iss).toBe(cluster.issuer);
    expect((claims.exp as number) - (claims.iat as number)).toBe(600);
    const review = await ops.tokenReview(token);
    expect(review.authenticated).toBe(true);
    expect(review.user?.username).toBe("system:serviceaccount:gulfstream:controller");
    expect(review.audiences).toEqual(["gulfstream"]);

    // Heartbeats, every heartbeatMs, with a token the cluster accepts.
    const hb = await eventually("two heartbeats", async () =>
      issuer.heartbeats().length >= 2 ? issuer.heartbeats() : undefined,
    );
    expect(hb[0].body).toEqual({
      clusterId: issuer.clusterId,
      agentVersion: reg.body.agentVersion,
    });
    expect((await ops.tokenReview(bearers(hb)[1])).authenticated).toBe(true);
    await eventually("lastHeartbeat in the status", async () => agent!.status()?.lastHeartbeat);

    // A label change is an update without a data change: passes go on, no new registration.
    await ops.k(["-n", "gulfstream", "label", "secret", "mcp-creds", "touched=yes"]);
    const seen = issuer.heartbeats().length;
    await eventually("three more heartbeats after the label change", async () =>
      issuer.heartbeats().length >= seen + 3 ? true : undefined,
    );
    expect(issuer.registers()).toHaveLength(1);

    // New data: registers again, with the new code, then heartbeats go on.
    const code2 = newCode();
    await ops.putSecret({ code: code2, "cluster-name": "dev", "cluster-description": "my dev" });
    await eventually("a second registration", async () =>
      issuer.registers().length === 2 ? true : undefined,
    );
    expect(issuer.registers()[1].body).toMatchObject({ code: code2, remoteId: uid });
    await logged(agent, "Secret gulfstream/mcp-creds changed; registering again");
    await statusWith(agent, { state: "registered", remoteId: uid }, "registered again");
    const after = issuer.heartbeats().length;
    await eventually("heartbeats after re-registering", async () =>
      issuer.heartbeats().length > after ? true : undefined,
    );
    expect(issuer.registers()).toHaveLength(2);

    expectNoCredentials(agent, [code1, code2, ...new Set(bearers(issuer.calls))]);
  });

  test("a refusal is recorded with the platform's message and retried at once when the Secret changes", async () => {
    await ops.createNamespace();
    await ops.createServiceAccount();
    await ops.createStatefulSet();
    const bad = newCode();
    issuer.onRegister = (call) =>
      call.body.code === bad
        ? {
            status: 403,
            // A careless platform echoing the code: the agent must still not log it.
            body: { code: 7, message: `the invite code ${bad} is not valid`, details: [] },
          }
        : undefined;
    await ops.putSecret({ code: bad, "cluster-name": "dev" });
    agent = startAgent(cluster, issuer, { refusedRetryMs: 600_000 });

    const reason = "registration refused (403): the invite code [REDACTED] is not valid";
    const s = await statusWith(agent, { state: "refused", reason }, "refused");
    expect(s.clusterId).toBeNull();
    expect(agent.logs).toContain(reason);
    expect(issuer.registers()).toHaveLength(1);

    const good = newCode();
    await ops.putSecret({ code: good, "cluster-name": "dev" });
    await statusWith(agent, { state: "registered" }, "registered with the new code");
    expect(issuer.registers().map((c) => c.body.code)).toEqual([bad, good]);
    expectNoCredentials(agent, [bad, good, ...bearers(issuer.calls)]);
  });

  test("transient issuer failures are errors that are retried until registration works", async () => {
    await ops.createNamespace();
    await ops.createServiceAccount();
    await ops.createStatefulSet();
    const code = newCode();
    // The client retries a 503 twice itself; four failures make the first call fail.
    issuer.onRegister = (_call, n) =>
      n <= 4
        ? { status: 503, body: { code: 14, message: "issuer warming up", details: [] } }
        : undefined;
    await ops.putSecret({ code, "cluster-name": "dev" });
    agent = startAgent(cluster, issuer);

    await statusWith(agent, { state: "registered" }, "registered after retries");
    expect(issuer.registers()).toHaveLength(5);
    expect(agent.logs).toContain("registration failed (503): issuer warming up");

    // One Warning for the failure (the retry met a new answer, not the same one), then Normal.
    const events = await ops.agentEvents();
    const failed = events.filter((e) => e.reason === "RegistrationFailed");
    expect(failed.map((e) => [e.type, e.message])).toEqual([
      ["Warning", "registration failed (503): issuer warming up"],
    ]);
    const registered = events.filter(
      (e) => e.reason === "Registered" && e.message.includes(issuer.clusterId),
    );
    expect(registered).toHaveLength(1);
    expectNoCredentialsIn(events, [code, ...bearers(issuer.calls)]);
  });

  test("an issuer certificate that is not trusted is an error naming the TLS problem", async () => {
    await ops.createNamespace();
    await ops.createServiceAccount();
    await ops.createStatefulSet();
    await ops.putSecret({ code: newCode(), "cluster-name": "dev" });
    agent = startAgent(cluster, { url: issuer.url });
    const s = await statusWith(agent, { state: "error" }, "error");
    expect(s.reason).toMatch(
      /^registration failed: the TLS certificate of the issuer at https:\/\/127\.0\.0\.1:\d+ .*--issuer-ca-file/,
    );
    expect(issuer.registers()).toEqual([]);
  });

  test("a namespace deleted and re-created is registered under its new UID", async () => {
    const uid1 = await ops.createNamespace();
    await ops.createServiceAccount();
    await ops.createStatefulSet();
    const code = newCode();
    await ops.putSecret({ code, "cluster-name": "dev" });
    agent = startAgent(cluster, issuer);
    await statusWith(agent, { state: "registered", remoteId: uid1 }, "registered");

    await ops.deleteNamespace();
    await statusWith(agent, { state: "waiting", remoteId: null }, "waiting without namespace");

    const uid2 = await ops.createNamespace();
    expect(uid2).not.toBe(uid1);
    await ops.createServiceAccount();
    await ops.createStatefulSet();
    await ops.putSecret({ code, "cluster-name": "dev" });
    await statusWith(agent, { state: "registered", remoteId: uid2 }, "registered again");
    expect(issuer.registers().map((c) => c.body.remoteId)).toEqual([uid1, uid2]);
  });

  test("acts only while StatefulSet meta-controlplane exists: waits without it, registers with it, stops when it goes", async () => {
    const uid = await ops.createNamespace();
    await ops.createServiceAccount();
    const code = newCode();
    await ops.putSecret({ code, "cluster-name": "dev" });
    agent = startAgent(cluster, issuer, { heartbeatMs: 300 });

    const missing =
      "StatefulSet gulfstream/meta-controlplane not found (the agent is not installed)";
    const waiting = await statusWith(agent, { state: "waiting", reason: missing }, "no workload");
    expect(waiting).toMatchObject({ remoteId: uid, clusterId: null, registeredAt: null });
    await logged(agent, `waiting: ${missing}`);
    // A change of the Secret wakes the agent: it looks again and still waits.
    await ops.putSecret({ code, "cluster-name": "dev", "cluster-description": "woken" });
    await statusWith(agent, { state: "waiting", reason: missing }, "still no workload");
    expect(issuer.calls).toEqual([]);

    const sts1 = await ops.createStatefulSet();
    const first = await statusWith(agent, { state: "registered" }, "registered with the workload");
    expect(first.remoteId).toBe(uid);
    expect(issuer.registers()).toHaveLength(1);
    expect(issuer.registers()[0].body).toMatchObject({ code, clusterDescription: "woken" });
    await eventually("a heartbeat", async () => (issuer.heartbeats().length ? true : undefined));

    // Deleted: the agent stops, forgets its registration, and heartbeats no more.
    await ops.deleteStatefulSet();
    const stopped = await statusWith(agent, { state: "waiting", reason: missing }, "workload gone");
    expect(stopped).toMatchObject({ remoteId: uid, clusterId: null, lastHeartbeat: null });
    const heartbeatsWhileRegistered = issuer.heartbeats().length;

    // Back (held by a finalizer, for the next step): registers again, as a new agent would.
    const sts2 = await ops.createStatefulSet(["example.invalid/hold"]);
    expect(sts2).not.toBe(sts1);
    await statusWith(agent, { state: "registered" }, "registered with the new workload");
    const calls = issuer.calls.map((c) => c.path);
    const secondRegister = calls.lastIndexOf("/auth/v1/register");
    expect(issuer.registers()).toHaveLength(2);
    expect(calls.slice(0, secondRegister).filter((p) => p === "/auth/v1/heartbeat")).toHaveLength(
      heartbeatsWhileRegistered,
    );

    // Being deleted counts as gone already; the deletion completing changes only the reason.
    await ops.deleteStatefulSet();
    await statusWith(
      agent,
      {
        state: "waiting",
        reason:
          "StatefulSet gulfstream/meta-controlplane is being deleted (the agent is being uninstalled)",
      },
      "workload terminating",
    );
    await ops.releaseStatefulSet();
    await statusWith(agent, { state: "waiting", reason: missing }, "workload gone again");

    // Each registration was reported on the StatefulSet it was made for.
    const events = (await ops.agentEvents()).filter(
      (e) => e.reason === "Registered" && e.message.includes(issuer.clusterId),
    );
    expect(events.map((e) => e.involvedObject.uid).sort()).toEqual([sts1, sts2].sort());
    expectNoCredentials(agent, [code, ...bearers(issuer.calls)]);
  });

  test("reports a refusal as a Warning Event on the StatefulSet once, and a registration as a Normal one", async () => {
    const uid = await ops.createNamespace();
    await ops.createServiceAccount();
    const stsUid = await ops.createStatefulSet();
    const bad = newCode();
    // As the platform answers a private cluster that names no identity; a careless
    // platform echoing the invite code and the token must not leak them either.
    issuer.onRegister = (call) =>
      call.body.code === bad
        ? {
            status: 401,
            body: {
              code: 16,
              message:
                "the cluster's issuer is private: its discovery document requires authentication; " +
                `upload its keys as an identity (code ${bad}, ${call.authorization})`,
              details: [],
            },
          }
        : undefined;
    await ops.putSecret({ code: bad, "cluster-name": "private-one" });
    const t0 = Date.now();
    agent = startAgent(cluster, issuer, { refusedRetryMs: 300, heartbeatMs: 300 });

    const refused = await statusWith(agent, { state: "refused" }, "refused");
    expect(refused.reason).toMatch(
      /^registration refused \(401\): the cluster's issuer is private: .* \(code \[REDACTED\], Bearer \[REDACTED\]\)$/,
    );
    // The same refusal met again on retries is not reported again.
    await eventually("three refused attempts", async () =>
      issuer.registers().length >= 3 ? true : undefined,
    );
    const warned = await eventually("a RegistrationRefused Event", async () => {
      const found = (await ops.agentEvents()).filter(
        (e) => e.reason === "RegistrationRefused" && e.message === refused.reason,
      );
      return found.length ? found : undefined;
    });
    expect(warned).toHaveLength(1);
    const [warning] = warned;
    expect(warning).toMatchObject({
      metadata: { namespace: "gulfstream" },
      involvedObject: {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        namespace: "gulfstream",
        name: "meta-controlplane",
        uid: stsUid,
      },
      type: "Warning",
      count: 1,
      source: { component: "enforce-agent" },
      reportingComponent: "enforce-agent",
    });
    expect(warning.metadata.name).toMatch(/^meta-controlplane\.[0-9a-f]{16}$/);
    expect(warning.lastTimestamp).toBe(warning.firstTimestamp);
    // The API server keeps whole seconds.
    expect(Date.parse(warning.firstTimestamp)).toBeGreaterThanOrEqual(Math.floor(t0 / 1000) * 1000);
    expect(Date.parse(warning.firstTimestamp)).toBeLessThanOrEqual(Date.now());

    const good = newCode();
    await ops.putSecret({
      code: good,
      "cluster-name": "private-one",
      "identity-uid": issuer.clusterId,
    });
    await statusWith(agent, { state: "registered", remoteId: uid }, "registered");
    const configured = `configured with ID: ${uid} (cluster ${issuer.clusterId})`;
    const normal = await eventually("a Registered Event", async () => {
      const found = (await ops.agentEvents()).filter((e) => e.reason === "Registered");
      return found.some((e) => e.message === configured) ? found : undefined;
    });
    expect(normal.filter((e) => e.message === configured)).toEqual([
      expect.objectContaining({
        type: "Normal",
        involvedObject: expect.objectContaining({ kind: "StatefulSet", uid: stsUid }),
      }),
    ]);

    // Registering again while registered, with the same outcome, is no new transition.
    const again = newCode();
    await ops.putSecret({
      code: again,
      "cluster-name": "private-one",
      "identity-uid": issuer.clusterId,
    });
    await eventually("the registration with the third code", async () =>
      issuer.registers().some((c) => c.body.code === again) ? true : undefined,
    );
    const seen = issuer.calls.length;
    // A heartbeat after it shows the pass that registered is over.
    await eventually("a heartbeat after it", async () =>
      issuer.calls.slice(seen).some((c) => c.path === "/auth/v1/heartbeat") ? true : undefined,
    );
    const events = await ops.agentEvents();
    expect(events.filter((e) => e.message === configured)).toHaveLength(1);
    expect(events.filter((e) => e.message === refused.reason)).toHaveLength(1);
    // Every Event the agent posted here, the shared environment's agent stand-in's included.
    expectNoCredentialsIn(events, [bad, good, again, ...new Set(bearers(issuer.calls))]);
    expectNoCredentials(agent, [bad, good, again, ...new Set(bearers(issuer.calls))]);
  });

  test("an Event the API server refuses is logged and changes nothing else", async () => {
    await ops.createNamespace();
    await ops.createServiceAccount();
    await ops.createStatefulSet();
    // An admission policy that denies every Event in the namespace (quotas leave Events out).
    const policy = {
      apiVersion: "v1",
      kind: "List",
      items: [
        {
          apiVersion: "admissionregistration.k8s.io/v1",
          kind: "ValidatingAdmissionPolicy",
          metadata: { name: "agent-test-deny-events" },
          spec: {
            failurePolicy: "Fail",
            matchConstraints: {
              resourceRules: [
                {
                  apiGroups: [""],
                  apiVersions: ["v1"],
                  operations: ["CREATE"],
                  resources: ["events"],
                },
              ],
            },
            validations: [{ expression: "false", message: "no Events in this test" }],
          },
        },
        {
          apiVersion: "admissionregistration.k8s.io/v1",
          kind: "ValidatingAdmissionPolicyBinding",
          metadata: { name: "agent-test-deny-events" },
          spec: {
            policyName: "agent-test-deny-events",
            validationActions: ["Deny"],
            matchResources: {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "gulfstream" } },
            },
          },
        },
      ],
    };
    const probe = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "agent-test-probe", namespace: "gulfstream" },
      involvedObject: { kind: "StatefulSet", namespace: "gulfstream", name: "meta-controlplane" },
      reason: "Probe",
      message: "probe",
      type: "Normal",
    };
    await ops.k(["apply", "-f", "-"], JSON.stringify(policy));
    try {
      // The API server loads a new policy within a few seconds.
      await eventually("the policy to deny Events", async () =>
        ops.k(["create", "--dry-run=server", "-f", "-"], JSON.stringify(probe)).then(
          () => undefined,
          (err: Error) => (/no Events in this test/.test(err.message) ? true : undefined),
        ),
      );
      const code = newCode();
      await ops.putSecret({ code, "cluster-name": "dev" });
      agent = startAgent(cluster, issuer, { heartbeatMs: 300 });

      await statusWith(agent, { state: "registered" }, "registered");
      await logged(
        agent,
        /^cannot report Event Registered \(creating Event gulfstream\/meta-controlplane\.[0-9a-f]{16} failed \(HTTP 422: .*no Events in this test\)\); carrying on without it$/,
      );
      await eventually("heartbeats after the refused Event", async () =>
        issuer.heartbeats().length >= 2 ? true : undefined,
      );
      expect(agent.status()).toMatchObject({ state: "registered", clusterId: issuer.clusterId });
      expect(issuer.registers()).toHaveLength(1);
      expect(await ops.agentEvents()).toEqual([]);
      expectNoCredentials(agent, [code, ...bearers(issuer.calls)]);
    } finally {
      await ops.k(["delete", "--ignore-not-found", "-f", "-"], JSON.stringify(policy));
    }
  });

  test("aborting the signal ends runAgent promptly, registered or waiting", async () => {
    await ops.createNamespace();
    await ops.createServiceAccount();
    await ops.createStatefulSet();
    await ops.putSecret({ code: newCode(), "cluster-name": "dev" });
    agent = startAgent(cluster, issuer, { heartbeatMs: 200 });
    await statusWith(agent, { state: "registered" }, "registered");
    expect(await agent.stop()).toBeLessThan(1000);
    expect(agent.logs[agent.logs.length - 1]).toBe("stopped");
    const heartbeats = issuer.heartbeats().length;

    await ops.k(["-n", "gulfstream", "delete", "serviceaccount", "controller"]);
    const waiting = startAgent(cluster, { url: issuer.url, ca: issuer.ca });
    agent = waiting;
    await statusWith(waiting, { reason: "ServiceAccount gulfstream/controller not found" }, "");
    expect(await waiting.stop()).toBeLessThan(1000);
    // Nothing keeps running after the stop.
    expect(issuer.heartbeats().length).toBe(heartbeats);
  });

  test("the process entry logs timestamped lines to stderr and exits 0 within a second of SIGTERM", async () => {
    const mainJs = path.join(repoRoot, "dist/local/agent/main.js");
    expect(fs.existsSync(mainJs)).toBe(true); // built by `npx tsc -p tsconfig.build.json`
    const uid = await ops.createNamespace();
    await ops.createServiceAccount();
    await ops.createStatefulSet();
    const code = newCode();
    await ops.putSecret({ code, "cluster-name": "dev" });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-main-"));
    const caFile = path.join(dir, "issuer-ca.pem");
    fs.writeFileSync(caFile, issuer.ca);
    const statusFile = path.join(dir, "status.json");
    const child = spawn(
      process.execPath,
      [
        mainJs,
        "--kubeconfig",
        cluster.kubeconfig,
        "--issuer-url",
        issuer.url,
        "--issuer-ca-file",
        caFile,
        "--status-file",
        statusFile,
        "--heartbeat-seconds",
        "0.3",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (b) => (stderr += b));
    child.stdout.on("data", (b) => (stdout += b));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      await eventually("the process to register and heartbeat", async () => {
        const s = readStatusFile(statusFile);
        return s?.state === "registered" && s.lastHeartbeat ? s : undefined;
      });
      const t0 = Date.now();
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      child.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(stdout).toBe("");
    const lines = stderr.trimEnd().split("\n");
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
    expect(stderr).toContain(`configured with ID: ${uid}`);
    expect(lines[lines.length - 1]).toMatch(/ stopped$/);
    expect(stderr).toContain("received SIGTERM, stopping");
    for (const secret of [code, ...bearers(issuer.calls)]) expect(stderr).not.toContain(secret);
  });

  test("the process entry refuses missing flags with usage", async () => {
    const mainJs = path.join(repoRoot, "dist/local/agent/main.js");
    await expect(run(process.execPath, [mainJs, "--kubeconfig", "x"])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--issuer-url is required"),
    });
  });
});

// ---------------------------------------------------------------------------
// An own environment: the API server restarts under the agent
// ---------------------------------------------------------------------------

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

describe("agent stand-in when the API server restarts (own environment)", () => {
  let own: OwnEnv | undefined;
  let issuer: FakeIssuer | undefined;
  let agent: RunningAgent | undefined;
  beforeAll(async () => {
    own = await startOwnEnv(["--clusters", "1"]);
  });
  afterAll(() => stopOwnEnv(own));
  afterEach(async () => {
    await agent?.stop();
    await issuer?.close();
    agent = issuer = undefined;
    await clusterOps(own!.ready, own!.ready.clusters[0]).deleteNamespace();
  });

  test("a watch from a version older than the API server's watch cache gets 410 and lists again", async () => {
    const cluster = own!.ready.clusters[0];
    const ops = clusterOps(own!.ready, cluster);
    await ops.createNamespace();
    await ops.putSecret({ code: newCode(), "cluster-name": "dev" });
    // A restarted API server fills its watch cache from a fresh list, so a
    // watch from a version older than that is answered 410 Gone.
    await rotateKey(own!, cluster.name);
    const kube = await KubeAccess.load(cluster.kubeconfig);
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
    const cluster = own!.ready.clusters[0];
    const ops = clusterOps(own!.ready, cluster);
    issuer = await startFakeIssuer(cluster);
    await ops.createNamespace();
    await ops.createServiceAccount();
    await ops.createStatefulSet();
    await ops.putSecret({ code: newCode(), "cluster-name": "dev" });
    agent = startAgent(cluster, issuer);
    await statusWith(agent, { state: "registered" }, "registered");

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
