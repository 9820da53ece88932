import { execFile } from "node:child_process";
import * as fs from "node:fs";
import { promisify } from "node:util";
import { PlatformClient, PlatformHttpError } from "../../provider/platform";
import { AuditClient, IssuerClient } from "../../local/platform";
import { readStatusFile, type AgentStatus } from "../../local/agent/agent";
import type { EnforceSection } from "../../local/platform-services";
import { AgentInstall } from "../support/agent-install";
import {
  emulatorPlatform,
  enforceLocalBin,
  eventually,
  kubectl,
  startOwnEnv,
  stopOwnEnv,
  type OwnEnv,
} from "../support/env";
import { at } from "../support/fixture";

const run = promisify(execFile);
const AGENT_SUBJECT = "system:serviceaccount:gulfstream:controller";
const BINDING = [
  "create",
  "clusterrolebinding",
  "public-issuer-discovery",
  "--clusterrole=system:service-account-issuer-discovery",
  "--group=system:unauthenticated",
];

/**
 * The platform client against the emulator, and the emulator against real
 * local clusters: registrations come from the agent stand-in of each cluster
 * with real TokenRequest tokens, verified by the emulator with jose.
 */
describe("Enforce emulator with real clusters and the agent stand-in", () => {
  let env: OwnEnv;
  let enforce: EnforceSection;
  let client: PlatformClient;
  let issuer: IssuerClient;
  let auditTrail: AuditClient;
  const installers: AgentInstall[] = [];
  const secretsSeen: string[] = [];

  const kc = (i: number) => at(env.ready.clusters, i).kubeconfig;
  const status = (i: number): AgentStatus | undefined =>
    readStatusFile(at(enforce.agents, i).statusFile) ?? undefined;

  beforeAll(async () => {
    env = await startOwnEnv(["--clusters", "2"]);
    enforce = env.ready.enforce as EnforceSection;
    secretsSeen.push(enforce.token);
    const ca = fs.readFileSync(enforce.caFile, "utf8");
    client = new PlatformClient({ apiUrl: enforce.apiUrl, token: enforce.token, ca });
    issuer = new IssuerClient({ issuerUrl: enforce.issuerUrl, ca });
    auditTrail = new AuditClient({ apiUrl: enforce.apiUrl, token: enforce.token, ca });
    for (const cluster of env.ready.clusters) {
      installers.push(await AgentInstall.connect(cluster.kubeconfig));
    }
  });
  afterAll(async () => {
    for (const installer of installers) installer.close();
    await Promise.all([client?.close(), issuer?.close(), auditTrail?.close()]);
    await stopOwnEnv(env);
  });

  async function invite(ttlSeconds = 600): Promise<string> {
    const inv = await client.createInvite(enforce.group, { ttlSeconds });
    secretsSeen.push(inv.code);
    return inv.code;
  }

  /**
   * Installs the agent's objects as a connection renders them, with this environment's
   * emulator as the platform (so the environment's own stand-in learns from the cluster where
   * to register), and makes mcp-creds hold `data`. Resolves with the namespace UID.
   */
  async function install(i: number, data: Record<string, string>): Promise<string> {
    const installer = at(installers, i);
    const { namespaceUid } = await installer.install(emulatorPlatform(env.ready));
    await installer.writeCreds(data);
    return namespaceUid;
  }

  /** The Events the agent stand-in reported on its StatefulSet in cluster `i`. */
  async function agentEvents(
    i: number,
  ): Promise<Array<{ type: string; reason: string; message: string; involvedObject: object }>> {
    const out = await kubectl(env.ready, kc(i), [
      "-n",
      "gulfstream",
      "get",
      "events",
      "-o",
      "json",
    ]);
    return (
      JSON.parse(out) as {
        items: Array<{
          type: string;
          reason: string;
          message: string;
          involvedObject: object;
          source?: { component?: string };
        }>;
      }
    ).items.filter((e) => e.source?.component === "enforce-agent");
  }

  async function waitForAgent(
    i: number,
    want: (s: AgentStatus) => boolean,
    what: string,
  ): Promise<AgentStatus> {
    return eventually(`agent of cluster ${i + 1}: ${what}`, async () => {
      const s = status(i);
      return s && want(s) ? s : undefined;
    });
  }

  /** Uploads a cluster's keys as a static-key identity for the agent's service account. */
  function uploadIdentity(name: string, issuer: string, jwks: string, expiration: Date) {
    return client.createIdentity(enforce.group, {
      name,
      issuer,
      subject: AGENT_SUBJECT,
      issuerKeys: jwks,
      expiration,
    });
  }

  async function clusterJwks(i: number): Promise<{ issuer: string; jwks: string }> {
    const discovery = JSON.parse(
      await kubectl(env.ready, kc(i), ["get", "--raw", "/.well-known/openid-configuration"]),
    );
    const jwks = await kubectl(env.ready, kc(i), ["get", "--raw", "/openid/v1/jwks"]);
    return { issuer: discovery.issuer, jwks };
  }

  test("a public cluster (with public-issuer-discovery) registers without an identity", async () => {
    await kubectl(env.ready, kc(0), BINDING);
    const code = await invite();
    const remoteId = await install(0, {
      code,
      "cluster-name": "public-one",
      "cluster-description": "first",
    });
    const s = await waitForAgent(
      0,
      (x) => x.state === "registered" && x.remoteId === remoteId,
      "registered",
    );
    const [cluster] = await client.listClusters({ remoteId });
    expect(cluster).toMatchObject({
      id: s.clusterId,
      remoteId,
      issuer: at(env.ready.clusters, 0).issuer,
      name: "public-one",
      description: "first",
      group: enforce.group,
      identityId: "",
    });
    expect(cluster!.id.startsWith(`${enforce.group}/`)).toBe(true);
    expect(await client.listClusters({ childrenOf: enforce.group })).toHaveLength(1);
    const events = await eventually("a Registered Event", async () => {
      const found = await agentEvents(0);
      return found.some((e) => e.reason === "Registered") ? found : undefined;
    });
    expect(events).toEqual([
      expect.objectContaining({
        type: "Normal",
        reason: "Registered",
        message: `configured with ID: ${remoteId} (cluster ${s.clusterId})`,
        involvedObject: expect.objectContaining({ kind: "StatefulSet", name: "meta-controlplane" }),
      }),
    ]);
  });

  test("a private cluster is refused without an identity, with a reason that says so", async () => {
    const code = await invite();
    await install(1, { code, "cluster-name": "private-one" });
    const s = await waitForAgent(1, (x) => x.state === "refused", "refused");
    expect(s.reason).toMatch(/registration refused \(401\)/);
    expect(s.reason).toMatch(/private|requires authentication|HTTP 403/);
    expect(await client.listClusters({ name: "private-one" })).toEqual([]);
    // What an installer shows a user: why the cluster did not register, on the agent's workload.
    const events = await eventually("a RegistrationRefused Event", async () => {
      const found = await agentEvents(1);
      return found.length ? found : undefined;
    });
    expect(events).toEqual([
      expect.objectContaining({
        type: "Warning",
        reason: "RegistrationRefused",
        message: s.reason,
        involvedObject: expect.objectContaining({ kind: "StatefulSet", name: "meta-controlplane" }),
      }),
    ]);
    const messages = events.map((e) => e.message).join("\n");
    for (const secret of secretsSeen) expect(messages).not.toContain(secret);
  });

  test("a private cluster registers with a static-key identity whose JWKS matches, and not with another cluster's keys", async () => {
    const wrong = await clusterJwks(0);
    const mine = await clusterJwks(1);
    const expiration = new Date(Date.now() + 3600_000);
    const bad = await uploadIdentity("wrong-keys", mine.issuer, wrong.jwks, expiration);
    await install(1, {
      code: await invite(),
      "cluster-name": "private-one",
      "identity-uid": bad.id,
    });
    const refused = await waitForAgent(
      1,
      (x) => x.state === "refused" && x.reason.includes(bad.id),
      "refused for keys",
    );
    expect(refused.reason).toMatch(/refused \(401\)/);
    expect(refused.reason).toContain("matches the token's signing key");

    const good = await uploadIdentity("cluster-2", mine.issuer, mine.jwks, expiration);
    const remoteId = await install(1, {
      code: await invite(),
      "cluster-name": "private-one",
      "identity-uid": good.id,
    });
    await waitForAgent(1, (x) => x.state === "registered", "registered");
    const [cluster] = await client.listClusters({ remoteId });
    expect(cluster).toMatchObject({
      name: "private-one",
      identityId: good.id,
      issuer: mine.issuer,
    });

    // After a rotation without --keep-old, the old identity no longer verifies new tokens.
    await run(process.execPath, [
      enforceLocalBin,
      "rotate-key",
      "--dir",
      env.dir,
      "--cluster",
      "cluster-2",
    ]);
    await install(1, {
      code: await invite(),
      "cluster-name": "private-one",
      "identity-uid": good.id,
    });
    const afterRotation = await waitForAgent(
      1,
      (x) => x.state === "refused" && x.reason.includes(good.id),
      "refused after rotation",
    );
    expect(afterRotation.reason).toMatch(/refused \(401\)/);
    expect(afterRotation.reason).toContain("signing key has changed since the upload");

    const renewed = await uploadIdentity(
      "cluster-2-rotated",
      mine.issuer,
      (await clusterJwks(1)).jwks,
      expiration,
    );
    await install(1, {
      code: await invite(),
      "cluster-name": "private-one",
      "identity-uid": renewed.id,
    });
    await waitForAgent(1, (x) => x.state === "registered", "registered with the new keys");
    const [again] = await client.listClusters({ remoteId });
    expect(again?.identityId).toBe(renewed.id);
    expect(again?.id).toBe(cluster!.id); // same installation, same platform cluster
  });

  test("an expired identity and an expired invite are refused", async () => {
    const { issuer, jwks } = await clusterJwks(1);
    const shortLived = await uploadIdentity(
      "short-lived",
      issuer,
      jwks,
      new Date(Date.now() + 3000),
    );
    await eventually("the identity to expire", async () =>
      Date.now() > Date.parse(shortLived.static!.expiration) ? true : undefined,
    );
    await install(1, {
      code: await invite(),
      "cluster-name": "private-one",
      "identity-uid": shortLived.id,
    });
    const s = await waitForAgent(
      1,
      (x) => x.state === "refused" && /expired/i.test(x.reason),
      "refused: identity expired",
    );
    expect(s.reason).toMatch(/refused \(412\)/);

    const good = await uploadIdentity("long-lived", issuer, jwks, new Date(Date.now() + 3600_000));
    const inv = await client.createInvite(enforce.group, { ttlSeconds: 2 });
    secretsSeen.push(inv.code);
    await eventually("the invite to expire", async () =>
      Date.now() > Date.parse(inv.expiration) ? true : undefined,
    );
    await install(1, { code: inv.code, "cluster-name": "private-one", "identity-uid": good.id });
    const e = await waitForAgent(
      1,
      (x) => x.state === "refused" && /invite/i.test(x.reason),
      "refused: invite expired",
    );
    expect(e.reason).toMatch(/refused \(412\)/);
  });

  test("tokens with the wrong audience or subject are refused", async () => {
    const code = await invite();
    const remoteId = (
      await kubectl(env.ready, kc(0), [
        "get",
        "namespace",
        "gulfstream",
        "-o",
        "jsonpath={.metadata.uid}",
      ])
    ).trim();
    const body = { code, remoteId, clusterName: "public-one", clusterDescription: "" };
    const wrongAudience = (
      await kubectl(env.ready, kc(0), [
        "-n",
        "gulfstream",
        "create",
        "token",
        "controller",
        "--audience",
        "not-gulfstream",
      ])
    ).trim();
    const wrongSubject = (
      await kubectl(env.ready, kc(0), [
        "-n",
        "gulfstream",
        "create",
        "token",
        "default",
        "--audience",
        "gulfstream",
      ])
    ).trim();
    secretsSeen.push(wrongAudience, wrongSubject);
    for (const [token, why] of [
      [wrongAudience, /audience/i],
      [wrongSubject, /subject/i],
    ] as const) {
      const err = await issuer.register(token, body).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PlatformHttpError);
      expect((err as PlatformHttpError).statusCode).toBe(401);
      expect((err as PlatformHttpError).message).toMatch(why);
      expect((err as PlatformHttpError).message).not.toContain(token);
    }
  });

  test("the audit trail lists the calls in order; deleting leaves nothing behind", async () => {
    const before = await auditTrail.audit();
    const last = at(before, before.length - 1).seq;
    const cluster = at(await client.listClusters({ name: "public-one" }), 0);
    expect(await client.deleteCluster(cluster.id)).toBe(true);
    expect(await client.deleteCluster(cluster.id)).toBe(false); // already gone: 404 tolerated
    const after = await auditTrail.audit(last);
    expect(after.map((a) => `${a.method} ${a.path} ${a.status}`)).toEqual([
      "GET /_emulator/v1/audit 200", // an audit call shows up in the listings after it
      "GET /tenant/v1/clusters 200",
      `DELETE /tenant/v1/clusters/${cluster.id} 200`,
      `DELETE /tenant/v1/clusters/${cluster.id} 404`,
    ]);
  });

  test("no credential reaches the agent or emulator logs", () => {
    const logs = [
      ...enforce.agents.map((a) => fs.readFileSync(a.log, "utf8")),
      fs.readFileSync(`${env.dir}/enforce/emulator.log`, "utf8"),
      fs.readFileSync(env.log, "utf8"),
    ].join("\n");
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of secretsSeen) expect(logs).not.toContain(secret);
  });
});
