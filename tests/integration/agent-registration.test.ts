/**
 * The agent stand-in registering from a real local cluster, run only on what a connection
 * installs (tests/support/agent-cluster.ts): it waits and says why until it is installed,
 * registers with the namespace UID and its ServiceAccount's tokens, heartbeats, follows the
 * installation, reports Events, and stops promptly. Only the issuer is stood in for
 * (tests/support/fake-enforce-issuer.ts).
 */
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { readStatusFile } from "../../local/agent/agent";
import { BOOTSTRAP_USER } from "../../local/control-plane/agent-bootstrap";
import {
  clusterOps,
  logged,
  newCode,
  startAgent,
  statusWith,
  type AuditEvent,
  type Cluster,
  type ClusterOps,
  type KubeEvent,
  type RunningAgent,
} from "../support/agent-cluster";
import {
  startFakeEnforceIssuer,
  type FakeEnforceIssuer,
  type IssuerCall,
} from "../support/fake-enforce-issuer";
import { AgentInstall } from "../support/agent-install";
import {
  emulatorPlatform,
  eventually,
  repoRoot,
  startOwnEnv,
  stopOwnEnv,
  type OwnEnv,
} from "../support/env";
import { at } from "../support/fixture";

const run = promisify(execFile);

/** The agent's ServiceAccount as the API server names its user. */
const AGENT_USER = "system:serviceaccount:gulfstream:controller";
/** Objects an install can leave out, as messages name them. */
const SERVICE_ACCOUNT = "ServiceAccount gulfstream/controller";
const PLATFORM_CONFIG = "ConfigMap gulfstream/config-platform";
const STATEFULSET = "StatefulSet gulfstream/meta-controlplane";

/** Reasons of the agent's status (and its log lines after `waiting: ` or `error: `). */
const NOT_INSTALLED =
  "StatefulSet gulfstream/meta-controlplane not found (the agent is not installed)";
const NO_API_TOKEN =
  "cannot list Secret gulfstream/mcp-creds: listing Secret gulfstream/mcp-creds failed " +
  "(no API token: its ServiceAccount does not exist)";
const NO_PLATFORM =
  "no platform to register with: ConfigMap gulfstream/config-platform (ENFORCE_API_URL) not found";
/** A registration the issuer's certificate stopped, as the status and the Event say it. */
const TLS_FAILURE =
  /^registration failed: the TLS certificate of the issuer at https:\/\/127\.0\.0\.1:\d+ \(.+\); no CA the installation gives \(ConfigMap gulfstream\/config-platform, from enforce:caFile\) trusts it$/;

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(at(token.split("."), 1), "base64url").toString("utf8"));
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

/**
 * An environment of its own without agent stand-ins: the shared one runs a stand-in on every
 * cluster, which would read the ConfigMap installed here and register at the fake issuer too.
 */
describe("agent stand-in on a real cluster (own environment, no other agent)", () => {
  let own: OwnEnv | undefined;
  let cluster: Cluster;
  let installer: AgentInstall | undefined;
  let ops: ClusterOps;

  beforeAll(async () => {
    own = await startOwnEnv(["--clusters", "1", "--no-agents"]);
    cluster = at(own.ready.clusters, 0);
    installer = await AgentInstall.connect(cluster.kubeconfig);
    ops = clusterOps(own.ready, cluster, installer);
  }, 600_000);
  afterAll(async () => {
    installer?.close();
    await stopOwnEnv(own);
  });

  describe("registering", () => {
    let issuer: FakeEnforceIssuer;
    let agent: RunningAgent | undefined;

    beforeEach(async () => {
      issuer = await startFakeEnforceIssuer(cluster);
    });
    afterEach(async () => {
      await agent?.stop();
      agent = undefined;
      await issuer.close();
      // A test that holds the StatefulSet with a finalizer would otherwise hold the namespace too.
      await ops.releaseStatefulSet().catch(() => undefined);
      await ops.deleteNamespace();
    });

    test("waits and says why until the StatefulSet, the ServiceAccount, the platform settings and a valid Secret exist, in the order of a pass", async () => {
      agent = startAgent(cluster);
      await statusWith(agent, { state: "waiting", reason: NOT_INSTALLED, remoteId: null }, "");
      await logged(agent, `waiting: ${NOT_INSTALLED}`);

      // The kubelet's credential finds the pod, but no token can be minted for it.
      const { namespaceUid: uid } = await ops.install(issuer.platform, {
        omit: [SERVICE_ACCOUNT, PLATFORM_CONFIG],
      });
      await statusWith(agent, { state: "error", reason: NO_API_TOKEN, remoteId: null }, "");
      await logged(agent, `error: ${NO_API_TOKEN}`);

      // With its own token, the agent reads its namespace, then where the platform is.
      await ops.install(issuer.platform, { omit: [PLATFORM_CONFIG] });
      await statusWith(agent, { state: "error", reason: NO_PLATFORM, remoteId: uid }, "");
      await logged(agent, `error: ${NO_PLATFORM}`);

      await ops.install(issuer.platform);
      const noSecret = "Secret gulfstream/mcp-creds not found";
      await statusWith(agent, { state: "waiting", reason: noSecret, remoteId: uid }, "");
      await logged(agent, `waiting: ${noSecret}`);

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
      expect(issuer.registers()).toEqual([]);

      await ops.putSecret({ code, "cluster-name": "dev" });
      const s = await statusWith(agent, { state: "registered" }, "with a valid Secret");
      expect(s.remoteId).toBe(uid);
      expect(issuer.registers()).toHaveLength(1);
      expectNoCredentials(agent, [code, ...bearers(issuer.calls)]);
    });

    test("registers with the namespace UID and a real token, heartbeats, and re-registers only when the data changes", async () => {
      const { namespaceUid: uid } = await ops.install(issuer.platform);
      const code1 = newCode();
      await ops.putSecret({ code: code1, "cluster-name": "dev", "cluster-description": "my dev" });
      agent = startAgent(cluster, { heartbeatMs: 300 });

      const s = await statusWith(agent, { state: "registered" }, "registered");
      expect(s).toMatchObject({
        reason: `configured with ID: ${uid}`,
        remoteId: uid,
        clusterId: issuer.clusterId,
      });
      expect(Date.parse(s.registeredAt!)).not.toBeNaN();
      expect(agent.logs).toContain(`configured with ID: ${uid} (cluster ${issuer.clusterId})`);
      expect(agent.logs).toContain(`registering cluster "dev" (remoteId ${uid}) at ${issuer.url}`);

      const reg = at(issuer.registers(), 0);
      expect(reg.body).toEqual({
        code: code1,
        remoteId: uid,
        clusterName: "dev",
        clusterDescription: "my dev",
        agentVersion: expect.stringMatching(/^\d+\.\d+\.\d+.*-local$/),
      });
      // As the installed StatefulSet's oidc-token volume declares it.
      const token = reg.authorization.replace(/^Bearer /, "");
      const claims = claimsOf(token);
      expect(claims.sub).toBe(AGENT_USER);
      expect(claims.aud).toEqual(["gulfstream"]);
      expect(claims.iss).toBe(cluster.issuer);
      expect((claims.exp as number) - (claims.iat as number)).toBe(600);
      const review = await ops.tokenReview(token);
      expect(review.authenticated).toBe(true);
      expect(review.user?.username).toBe(AGENT_USER);
      expect(review.audiences).toEqual(["gulfstream"]);

      // Heartbeats, every heartbeatMs, with a token the cluster accepts.
      const hb = await eventually("two heartbeats", async () =>
        issuer.heartbeats().length >= 2 ? issuer.heartbeats() : undefined,
      );
      expect(at(hb, 0).body).toEqual({
        clusterId: issuer.clusterId,
        agentVersion: reg.body.agentVersion,
      });
      expect((await ops.tokenReview(at(bearers(hb), 1))).authenticated).toBe(true);
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
      expect(at(issuer.registers(), 1).body).toMatchObject({ code: code2, remoteId: uid });
      await logged(agent, "Secret gulfstream/mcp-creds changed; registering again");
      await statusWith(agent, { state: "registered", remoteId: uid }, "registered again");
      const after = issuer.heartbeats().length;
      await eventually("heartbeats after re-registering", async () =>
        issuer.heartbeats().length > after ? true : undefined,
      );
      expect(issuer.registers()).toHaveLength(2);

      expectNoCredentials(agent, [code1, code2, ...new Set(bearers(issuer.calls))]);
    });

    test("its tokens follow the StatefulSet: a new audience and lifetime of the oidc-token volume reach the issuer", async () => {
      const { namespaceUid: uid } = await ops.install(issuer.platform);
      const code1 = newCode();
      await ops.putSecret({ code: code1, "cluster-name": "dev" });
      agent = startAgent(cluster, { heartbeatMs: 300 });
      await statusWith(agent, { state: "registered", remoteId: uid }, "registered");
      const before = claimsOf(at(bearers(issuer.registers()), 0));
      expect(before.aud).toEqual(["gulfstream"]);
      expect((before.exp as number) - (before.iat as number)).toBe(600);

      // The same StatefulSet (no new UID), its projected token edited.
      await ops.setPlatformToken("gulfstream-canary", 900);
      const canary = (t: string) => (claimsOf(t).aud as string[]).includes("gulfstream-canary");
      const hb = await eventually("a heartbeat with the new audience", async () =>
        bearers(issuer.heartbeats()).find(canary),
      );
      const hbClaims = claimsOf(hb);
      expect(hbClaims.aud).toEqual(["gulfstream-canary"]);
      expect((hbClaims.exp as number) - (hbClaims.iat as number)).toBe(900);
      expect(hbClaims.sub).toBe(AGENT_USER);
      expect(issuer.registers()).toHaveLength(1);
      // The cluster made it for the new audience, and only for it.
      expect(await ops.tokenReview(hb, "gulfstream-canary")).toMatchObject({
        authenticated: true,
        user: { username: AGENT_USER },
        audiences: ["gulfstream-canary"],
      });
      expect((await ops.tokenReview(hb, "gulfstream")).authenticated).not.toBe(true);

      // The next registration uses a token minted as the volume now says.
      const code2 = newCode();
      await ops.putSecret({ code: code2, "cluster-name": "dev" });
      await eventually("a second registration", async () =>
        issuer.registers().length === 2 ? true : undefined,
      );
      const after = claimsOf(at(bearers(issuer.registers()), 1));
      expect(after.aud).toEqual(["gulfstream-canary"]);
      expect((after.exp as number) - (after.iat as number)).toBe(900);
      expect(after.sub).toBe(AGENT_USER);
      expect(at(issuer.registers(), 1).body).toMatchObject({ code: code2, remoteId: uid });
      expectNoCredentials(agent, [code1, code2, ...new Set(bearers(issuer.calls))]);
    });

    test("its Kubernetes requests are its ServiceAccount's, but for the kubelet's StatefulSet reads and token minting", async () => {
      await ops.install(issuer.platform);
      await ops.putSecret({ code: newCode(), "cluster-name": "dev" });
      // From here on, only this test's agent sends requests with these credentials.
      const mark = ops.auditMark();
      agent = startAgent(cluster, { heartbeatMs: 300 });
      await statusWith(agent, { state: "registered" }, "registered");
      await eventually("an Event and two heartbeats", async () =>
        issuer.heartbeats().length >= 2 && (await ops.agentEvents()).length > 0 ? true : undefined,
      );

      const audit = ops.auditEvents(mark);
      const call = (e: AuditEvent) => {
        const ref = e.objectRef ?? {};
        const resource = ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource;
        return `${e.verb} ${resource} ${ref.namespace ?? ""}/${ref.name ?? ""}`;
      };
      const kubelet = audit.filter((e) => e.user.username === BOOTSTRAP_USER);
      expect(new Set(kubelet.map(call))).toEqual(
        new Set([
          "get statefulsets gulfstream/meta-controlplane",
          "create serviceaccounts/token gulfstream/controller",
        ]),
      );
      const asAgent = audit.filter((e) => e.user.username === AGENT_USER);
      const kinds = new Set(asAgent.map((e) => `${e.verb} ${e.objectRef?.resource}`));
      expect([...kinds].sort()).toEqual(
        [
          "create events",
          "get configmaps",
          "get namespaces",
          "list secrets",
          "watch secrets",
        ].sort(),
      );
      for (const e of asAgent) {
        expect(e.objectRef?.namespace).toBe("gulfstream");
        expect(e.responseStatus?.code).toBeLessThan(400);
      }
    });

    test("the bootstrap credential reads the agent's StatefulSet and mints its tokens, and can do nothing else", async () => {
      await ops.install(issuer.platform);
      await ops.putSecret({ code: newCode(), "cluster-name": "dev" });
      expect(
        (
          await ops.asKubelet([
            "-n",
            "gulfstream",
            "get",
            "statefulset",
            "meta-controlplane",
            "-o",
            "name",
          ])
        ).trim(),
      ).toBe("statefulset.apps/meta-controlplane");
      const token = (
        await ops.asKubelet([
          "-n",
          "gulfstream",
          "create",
          "token",
          "controller",
          "--audience",
          "gulfstream",
        ])
      ).trim();
      expect(await ops.tokenReview(token)).toMatchObject({
        authenticated: true,
        user: { username: AGENT_USER },
      });

      const forbidden = async (args: string[], cannot: string) => {
        const err = await ops.asKubelet(args).then(
          () => undefined,
          (e: Error) => e,
        );
        expect(err?.message).toContain(`User "${BOOTSTRAP_USER}" cannot ${cannot}`);
        expect(err?.message).toMatch(/Forbidden|forbidden/);
      };
      await forbidden(["-n", "gulfstream", "get", "secrets"], 'list resource "secrets"');
      await forbidden(["-n", "gulfstream", "get", "secret", "mcp-creds"], 'get resource "secrets"');
      await forbidden(
        ["-n", "gulfstream", "get", "configmap", "config-platform"],
        'get resource "configmaps"',
      );
      await forbidden(
        ["-n", "gulfstream", "delete", "configmap", "config-platform"],
        'delete resource "configmaps"',
      );
      await forbidden(
        [
          "-n",
          "gulfstream",
          "patch",
          "statefulset",
          "meta-controlplane",
          "--type=merge",
          "-p",
          '{"spec":{"replicas":0}}',
        ],
        'patch resource "statefulsets"',
      );
      await forbidden(["-n", "gulfstream", "get", "statefulsets"], 'list resource "statefulsets"');
      await forbidden(
        ["-n", "gulfstream", "create", "token", "default"],
        'create resource "serviceaccounts/token"',
      );
      await forbidden(
        ["-n", "gulfstream", "create", "serviceaccount", "other"],
        'create resource "serviceaccounts"',
      );
      await forbidden(["get", "namespace", "gulfstream"], 'get resource "namespaces"');
      // Nothing it was refused changed anything.
      expect(
        (
          await ops.k([
            "-n",
            "gulfstream",
            "get",
            "configmap",
            "config-platform",
            "-o",
            "jsonpath={.data.issuer-url}",
          ])
        ).trim(),
      ).toBe(issuer.url);
    });

    test("reads where the platform is from the installed ConfigMap only: without it an error naming it, one Warning Event and a log line; with it again, registers", async () => {
      const { namespaceUid: uid, statefulSetUid } = await ops.install(issuer.platform);
      const code = newCode();
      await ops.putSecret({ code, "cluster-name": "dev" });
      agent = startAgent(cluster, { heartbeatMs: 300 });
      await statusWith(agent, { state: "registered" }, "registered");

      await ops.k(["-n", "gulfstream", "delete", "configmap", "config-platform"]);
      const s = await statusWith(agent, { state: "error", reason: NO_PLATFORM }, "no platform");
      expect(s).toMatchObject({
        remoteId: uid,
        clusterId: null,
        registeredAt: null,
        lastHeartbeat: null,
      });
      const heartbeats = issuer.heartbeats().length;
      // Each pass meets the same answer: logged every time, reported once, no heartbeat.
      await eventually("three passes without a platform", async () =>
        agent!.logs.filter((l) => l === `error: ${NO_PLATFORM}`).length >= 3 ? true : undefined,
      );
      expect(issuer.heartbeats()).toHaveLength(heartbeats);
      const failed = (await ops.agentEvents()).filter((e) => e.reason === "RegistrationFailed");
      expect(failed).toEqual([
        expect.objectContaining({
          type: "Warning",
          message: NO_PLATFORM,
          involvedObject: expect.objectContaining({
            kind: "StatefulSet",
            name: "meta-controlplane",
            uid: statefulSetUid,
          }),
        }),
      ]);

      await ops.install(issuer.platform);
      await statusWith(agent, { state: "registered", remoteId: uid }, "registered again");
      expect(issuer.registers().map((c) => c.body.code)).toEqual([code, code]);
    });

    test("a refusal is recorded with the platform's message and retried at once when the Secret changes", async () => {
      await ops.install(issuer.platform);
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
      agent = startAgent(cluster, { refusedRetryMs: 600_000 });

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
      await ops.install(issuer.platform);
      const code = newCode();
      // The client retries a 503 twice itself; four failures make the first call fail.
      issuer.onRegister = (_call, n) =>
        n <= 4
          ? { status: 503, body: { code: 14, message: "issuer warming up", details: [] } }
          : undefined;
      await ops.putSecret({ code, "cluster-name": "dev" });
      agent = startAgent(cluster);

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

    test("an issuer certificate the installed CA does not trust is a RegistrationFailed naming the TLS problem; installing the right CA fixes it", async () => {
      // Another CA than the one that signed the issuer's certificate: the emulator's.
      const wrongCa = emulatorPlatform(own!.ready).ca!;
      expect(wrongCa).not.toBe(issuer.ca);
      const { statefulSetUid } = await ops.install({ ...issuer.platform, ca: wrongCa });
      await ops.putSecret({ code: newCode(), "cluster-name": "dev" });
      // Heartbeat passes also look at the settings again.
      agent = startAgent(cluster, { heartbeatMs: 300 });
      const s = await statusWith(agent, { state: "error" }, "error");
      expect(s.reason).toMatch(TLS_FAILURE);
      expect(agent.logs).toContain(s.reason);
      expect(issuer.registers()).toEqual([]);
      const warned = await eventually("a RegistrationFailed Event", async () => {
        const found = (await ops.agentEvents()).filter((e) => e.reason === "RegistrationFailed");
        return found.length ? found : undefined;
      });
      expect(warned).toEqual([
        expect.objectContaining({
          type: "Warning",
          message: s.reason,
          involvedObject: expect.objectContaining({ uid: statefulSetUid }),
        }),
      ]);

      // The right CA, installed: no restart of the agent needed.
      await ops.install(issuer.platform);
      await statusWith(agent, { state: "registered" }, "registered with the right CA");
      expect(issuer.registers()).toHaveLength(1);

      // No CA at all: the system roots do not trust the issuer either.
      await ops.install({ apiUrl: issuer.url, issuerUrl: issuer.url });
      await logged(
        agent,
        `the platform settings changed (issuer ${issuer.url}); registering again`,
      );
      const again = await statusWith(agent, { state: "error" }, "error without a CA");
      expect(again.reason).toMatch(TLS_FAILURE);
      expect(issuer.registers()).toHaveLength(1);
    });

    test("a new issuer URL in the installed ConfigMap: the agent registers there, and heartbeats go there only", async () => {
      const second = await startFakeEnforceIssuer(cluster);
      try {
        const { namespaceUid: uid } = await ops.install(issuer.platform);
        const code = newCode();
        await ops.putSecret({ code, "cluster-name": "dev" });
        agent = startAgent(cluster, { heartbeatMs: 300 });
        await statusWith(agent, { state: "registered", clusterId: issuer.clusterId }, "at first");
        await eventually("a heartbeat at the first issuer", async () =>
          issuer.heartbeats().length ? true : undefined,
        );

        await ops.install(second.platform);
        await logged(
          agent,
          `the platform settings changed (issuer ${second.url}); registering again`,
        );
        const s = await statusWith(
          agent,
          { state: "registered", clusterId: second.clusterId },
          "at the second issuer",
        );
        expect(s.remoteId).toBe(uid);
        expect(second.registers().map((c) => c.body)).toEqual([
          expect.objectContaining({ code, remoteId: uid }),
        ]);
        expect(agent.logs).toContain(
          `registering cluster "dev" (remoteId ${uid}) at ${second.url}`,
        );
        const atFirst = issuer.heartbeats().length;
        await eventually("two heartbeats at the second issuer", async () =>
          second.heartbeats().length >= 2 ? true : undefined,
        );
        expect(at(second.heartbeats(), 0).body).toMatchObject({ clusterId: second.clusterId });
        expect(issuer.heartbeats()).toHaveLength(atFirst);
        expect(issuer.registers()).toHaveLength(1);
        expectNoCredentials(agent, [
          code,
          ...new Set([...bearers(issuer.calls), ...bearers(second.calls)]),
        ]);
      } finally {
        await second.close();
      }
    });

    test("a namespace deleted and re-created is registered under its new UID", async () => {
      const { namespaceUid: uid1 } = await ops.install(issuer.platform);
      const code = newCode();
      await ops.putSecret({ code, "cluster-name": "dev" });
      agent = startAgent(cluster);
      await statusWith(agent, { state: "registered", remoteId: uid1 }, "registered");

      await ops.deleteNamespace();
      await statusWith(
        agent,
        { state: "waiting", reason: NOT_INSTALLED, remoteId: null },
        "waiting without namespace",
      );

      const { namespaceUid: uid2 } = await ops.install(issuer.platform);
      expect(uid2).not.toBe(uid1);
      await ops.putSecret({ code, "cluster-name": "dev" });
      await statusWith(agent, { state: "registered", remoteId: uid2 }, "registered again");
      expect(issuer.registers().map((c) => c.body.remoteId)).toEqual([uid1, uid2]);
    });

    test("acts only while StatefulSet meta-controlplane exists: waits without it, registers with it, stops when it goes", async () => {
      await ops.install(issuer.platform, { omit: [STATEFULSET] });
      const code = newCode();
      await ops.putSecret({ code, "cluster-name": "dev" });
      agent = startAgent(cluster, { heartbeatMs: 300 });

      // Without its pod the agent has no token, so it cannot see its namespace either.
      const waiting = await statusWith(
        agent,
        { state: "waiting", reason: NOT_INSTALLED },
        "no workload",
      );
      expect(waiting).toMatchObject({ remoteId: null, clusterId: null, registeredAt: null });
      await logged(agent, `waiting: ${NOT_INSTALLED}`);
      await ops.putSecret({ code, "cluster-name": "dev", "cluster-description": "woken" });
      await statusWith(agent, { state: "waiting", reason: NOT_INSTALLED }, "still no workload");
      expect(issuer.calls).toEqual([]);

      const { namespaceUid: uid, statefulSetUid: sts1 } = await ops.install(issuer.platform);
      const first = await statusWith(
        agent,
        { state: "registered" },
        "registered with the workload",
      );
      expect(first.remoteId).toBe(uid);
      expect(issuer.registers()).toHaveLength(1);
      expect(at(issuer.registers(), 0).body).toMatchObject({ code, clusterDescription: "woken" });
      await eventually("a heartbeat", async () => (issuer.heartbeats().length ? true : undefined));

      // Deleted: the agent stops, forgets its registration, and heartbeats no more.
      await ops.deleteStatefulSet();
      const stopped = await statusWith(
        agent,
        { state: "waiting", reason: NOT_INSTALLED },
        "workload gone",
      );
      expect(stopped).toMatchObject({ remoteId: null, clusterId: null, lastHeartbeat: null });
      const heartbeatsWhileRegistered = issuer.heartbeats().length;

      // Back (held by a finalizer, for the next step): registers again, as a new agent would.
      const { statefulSetUid: sts2 } = await ops.install(issuer.platform);
      await ops.holdStatefulSet();
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
      await statusWith(agent, { state: "waiting", reason: NOT_INSTALLED }, "workload gone again");

      // Each registration was reported on the StatefulSet it was made for.
      const events = (await ops.agentEvents()).filter(
        (e) => e.reason === "Registered" && e.message.includes(issuer.clusterId),
      );
      expect(events.map((e) => e.involvedObject.uid).sort()).toEqual([sts1, sts2].sort());
      expectNoCredentials(agent, [code, ...bearers(issuer.calls)]);
    });

    test("reports a refusal as a Warning Event on the StatefulSet once, and a registration as a Normal one", async () => {
      const { namespaceUid: uid, statefulSetUid: stsUid } = await ops.install(issuer.platform);
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
      agent = startAgent(cluster, { refusedRetryMs: 300, heartbeatMs: 300 });

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
      const warning = at(warned, 0);
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
      expect(Date.parse(warning.firstTimestamp)).toBeGreaterThanOrEqual(
        Math.floor(t0 / 1000) * 1000,
      );
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
      // Every Event the agent posted here.
      expectNoCredentialsIn(events, [bad, good, again, ...new Set(bearers(issuer.calls))]);
      expectNoCredentials(agent, [bad, good, again, ...new Set(bearers(issuer.calls))]);
    });

    test("an Event the API server refuses is logged and changes nothing else", async () => {
      await ops.install(issuer.platform);
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
        agent = startAgent(cluster, { heartbeatMs: 300 });

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
      await ops.install(issuer.platform);
      await ops.putSecret({ code: newCode(), "cluster-name": "dev" });
      agent = startAgent(cluster, { heartbeatMs: 200 });
      await statusWith(agent, { state: "registered" }, "registered");
      expect(await agent.stop()).toBeLessThan(1000);
      expect(agent.logs[agent.logs.length - 1]).toBe("stopped");
      const heartbeats = issuer.heartbeats().length;

      await ops.k(["-n", "gulfstream", "delete", "serviceaccount", "controller"]);
      const waiting = startAgent(cluster);
      agent = waiting;
      await statusWith(waiting, { state: "error", reason: NO_API_TOKEN }, "without a token");
      expect(await waiting.stop()).toBeLessThan(1000);
      // Nothing keeps running after the stop.
      expect(issuer.heartbeats().length).toBe(heartbeats);
    });

    test("the process entry logs timestamped lines to stderr and exits 0 within a second of SIGTERM", async () => {
      const mainJs = path.join(repoRoot, "dist/local/agent/main.js");
      expect(fs.existsSync(mainJs)).toBe(true); // built by `npx tsc -p tsconfig.build.json`
      const { namespaceUid: uid } = await ops.install(issuer.platform);
      const code = newCode();
      await ops.putSecret({ code, "cluster-name": "dev" });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-main-"));
      const statusFile = path.join(dir, "status.json");
      // As enforce-local runs it: how to reach the API server and the kubelet's credential only.
      const child = spawn(
        process.execPath,
        [
          mainJs,
          "--kubeconfig",
          cluster.agentKubeconfig,
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
      expect(lines[0]).toMatch(
        /Z starting: running as the pod of StatefulSet gulfstream\/meta-controlplane on https:\/\/127\.0\.0\.1:\d+ \(kubelet credential "[^"]+"\); watching Secret gulfstream\/mcp-creds as the agent$/,
      );
      expect(stderr).toContain(`configured with ID: ${uid}`);
      expect(stderr).toContain(`at ${issuer.url}`);
      expect(lines[lines.length - 1]).toMatch(/ stopped$/);
      expect(stderr).toContain("received SIGTERM, stopping");
      for (const secret of [code, ...bearers(issuer.calls)]) expect(stderr).not.toContain(secret);
    });

    test("the process entry refuses missing or retired flags with usage", async () => {
      const mainJs = path.join(repoRoot, "dist/local/agent/main.js");
      await expect(run(process.execPath, [mainJs])).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringMatching(
          /^enforce-agent: --kubeconfig is required\n\nusage: enforce-agent --kubeconfig FILE /,
        ),
      });
      // Where the platform is comes from the installation, never from a flag.
      for (const flag of ["--issuer-url", "--issuer-ca-file"]) {
        await expect(
          run(process.execPath, [mainJs, "--kubeconfig", "x", flag, "y"]),
        ).rejects.toMatchObject({
          code: 2,
          stderr: expect.stringMatching(
            new RegExp(`^enforce-agent: Unknown option '${flag}'[^\\n]*\\n\\nusage: enforce-agent`),
          ),
        });
      }
    });
  });
});
