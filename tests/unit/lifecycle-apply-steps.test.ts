import type { ClusterFacts } from "../../provider/checks/cluster-checks";
import { ProbeToken } from "../../provider/checks/token-verification";
import {
  PartialFailureError,
  PrerequisiteError,
  RegisteredElsewhereError,
} from "../../provider/errors";
import type { CheckedInputs } from "../../provider/lifecycle/checked";
import { issuerBindingObject, objectKey } from "../../provider/install/manifests";
import { CREDS_SECRET, AGENT_NAMESPACE } from "../../provider/install/names";
import { CONNECTION_LABEL } from "../../provider/install/ownership";
import { APPLY_STEPS, applyConnection } from "../../provider/lifecycle/apply-connection";
import { applySettings } from "../../provider/lifecycle/apply/cluster-settings";
import { identityName } from "../../provider/lifecycle/apply/identity";
import { install, takeoverOf } from "../../provider/lifecycle/apply/install";
import {
  foreignRegistration,
  installationOf,
  locateInstallation,
  mustRegister,
} from "../../provider/lifecycle/apply/locate";
import { observeCluster, type ClusterCheck } from "../../provider/lifecycle/apply/observe";
import { prepareRegistration, supersededIdentity } from "../../provider/lifecycle/apply/prepare";
import { pruneLeftovers } from "../../provider/lifecycle/apply/prune";
import { awaitRegistration } from "../../provider/lifecycle/apply/register";
import { retireSuperseded, staleInvite } from "../../provider/lifecycle/apply/retire";
import {
  partialFailure,
  platformMove,
  startRun,
  type ConnectionRun,
} from "../../provider/lifecycle/apply/run";
import type { ConnectionState } from "../../provider/lifecycle/state";
import {
  CONNECTION_ID,
  FakeKube,
  FakePlatform,
  GROUP,
  PLATFORM,
  agentNamespace,
  checkedInputs,
  clusterRecord,
  fakeContext,
  storedState,
} from "../support/lifecycle-fakes";
import { at } from "../support/fixture";

/**
 * Each step of `applyConnection`, and the rule it holds, over in-process fakes of the Kubernetes
 * and platform clients: no environment needed.
 */

const OTHER_CONNECTION = "bbbbbbbbbbbbbbbbbbbbbbbb";
const OTHER_GROUP = "fedcba9876543210fedcba9876543210fedcba98";

function facts(over: Partial<ClusterFacts> = {}): ClusterFacts {
  return {
    server: "https://127.0.0.1:6443",
    issuer: "https://issuer.cluster.example",
    signingKeyIds: ["kid-2", "kid-1"],
    activeKeyId: "kid-1",
    clusterUid: "kube-system-uid",
    agentNamespaceUid: "",
    tokenProjection: true,
    tokenRequest: true,
    issuerDiscovery: true,
    anonymousDiscovery: { reachable: false, detail: "HTTP 403" },
    connectivity: "private",
    tokenSignature: { status: "verified", kid: "kid-1" },
    ...over,
  };
}

interface Setup {
  run: ConnectionRun;
  kube: FakeKube;
  platform: FakePlatform;
  lines: string[];
}

async function setup(
  opts: {
    previous?: ConnectionState;
    inputs?: Partial<CheckedInputs>;
    facts?: ClusterFacts;
    kube?: FakeKube;
    platform?: FakePlatform;
  } = {},
): Promise<Setup> {
  const kube = opts.kube ?? new FakeKube();
  const platform = opts.platform ?? new FakePlatform();
  const ctx = fakeContext(kube, platform);
  const req = {
    connectionId: CONNECTION_ID,
    inputs: checkedInputs(opts.inputs),
    previous: opts.previous,
    facts: opts.facts,
  };
  const run = await startRun(ctx, req, platform.client());
  return { run, kube, platform, lines: ctx.lines };
}

describe("observe the cluster", () => {
  it("rejects with the failed prerequisites before anything changed", async () => {
    const { run } = await setup();
    const problem = {
      check: "tokenRequest",
      property: "kubeconfig",
      reason: "no TokenRequest.",
      remedy: "enable it.",
    };
    const check: ClusterCheck = async () => ({ facts: facts(), problems: [problem as never] });
    await expect(observeCluster(run, check)).rejects.toBeInstanceOf(PrerequisiteError);
    expect(run.changed).toBe(false);
    expect(run.facts).toBeUndefined();
  });

  it("records connectivity (anything but public is private), issuer, sorted keys and cluster", async () => {
    const { run } = await setup();
    await observeCluster(run, async () => ({ facts: facts({ connectivity: "" }), problems: [] }));
    expect(run.state).toMatchObject({
      connectivity: "private",
      issuer: "https://issuer.cluster.example",
      signingKeyIds: ["kid-1", "kid-2"],
      clusterUid: "kube-system-uid",
    });
    await observeCluster(run, async () => ({
      facts: facts({ connectivity: "public" }),
      problems: [],
    }));
    expect(run.state.connectivity).toBe("public");
  });

  it("asks whether the credentials may install the agent before the first install only", async () => {
    const asked: Array<boolean | undefined> = [];
    const check: ClusterCheck = async (_kube, opts) => {
      asked.push(opts.installRights);
      return { facts: facts(), problems: [] };
    };
    await observeCluster((await setup()).run, check);
    await observeCluster((await setup({ previous: storedState() })).run, check);
    expect(asked).toEqual([true, false]);
  });

  it("starts from what the check just before observed, without checking again", async () => {
    const { run } = await setup({ facts: facts({ connectivity: "public" }) });
    const check: ClusterCheck = async () => {
      throw new Error("the cluster was checked again");
    };
    await observeCluster(run, check);
    expect(run.facts?.connectivity).toBe("public");
    expect(run.state).toMatchObject({ connectivity: "public", clusterUid: "kube-system-uid" });
  });
});

describe("locate the installation: when the agent registers again", () => {
  const ns = { uid: "gulfstream-uid", owner: CONNECTION_ID, terminating: false };
  const current = clusterRecord({ id: `${GROUP}/cluster-old`, group: GROUP, remoteId: ns.uid });
  const registered = installationOf(ns, [current], GROUP);

  it("not when the stored registration and namespace are those found", () => {
    expect(mustRegister(storedState(), registered, false)).toBe(false);
  });

  it("when the connection is new or its registration never finished", () => {
    expect(mustRegister(undefined, registered, false)).toBe(true);
    expect(mustRegister(storedState({ clusterId: "" }), registered, false)).toBe(true);
  });

  it("when the platform lost the registration or the namespace was replaced", () => {
    expect(mustRegister(storedState(), installationOf(ns, [], GROUP), false)).toBe(true);
    const replaced = installationOf({ ...ns, uid: "new-uid" }, [current], GROUP);
    expect(mustRegister(storedState(), replaced, false)).toBe(true);
  });

  it("when a refresh found mcp-creds changed (its invite code is not kept), not for other drift", () => {
    const creds = storedState({
      installationDrift: ["Secret gulfstream/mcp-creds: key code emptied"],
    });
    expect(mustRegister(creds, registered, false)).toBe(true);
    const other = storedState({
      installationDrift: ["RoleBinding gulfstream/gulfstream-secrets: deleted"],
    });
    expect(mustRegister(other, registered, false)).toBe(false);
  });

  it("when the agent is told of other platform settings", () => {
    expect(mustRegister(storedState(), registered, true)).toBe(true);
    const previous = storedState();
    expect(platformMove(previous, PLATFORM)).toEqual({ changed: false, moved: false });
    expect(platformMove(previous, { ...PLATFORM, caSha256: "ab" })).toEqual({
      changed: true,
      moved: false,
    });
    expect(platformMove(previous, { ...PLATFORM, apiUrl: "https://other" })).toEqual({
      changed: true,
      moved: true,
    });
    // A state from before platform settings were stored: no change.
    const older = storedState({ platform: { apiUrl: "", caSha256: "", issuerUrl: "" } });
    expect(platformMove(older, { ...PLATFORM, apiUrl: "https://other" })).toEqual({
      changed: false,
      moved: false,
    });
  });

  it("refuses a registration in another group made by another tool, only when registering", () => {
    const elsewhere = clusterRecord({
      id: `${OTHER_GROUP}/c`,
      group: OTHER_GROUP,
      remoteId: ns.uid,
    });
    const foreign = installationOf({ ...ns, owner: undefined }, [elsewhere], GROUP);
    expect(foreignRegistration(foreign, true)).toBe(elsewhere);
    expect(foreignRegistration(foreign, false)).toBeUndefined();
    expect(foreignRegistration(installationOf(ns, [elsewhere], GROUP), true)).toBeUndefined();
  });

  it("reads the namespace and registrations through the clients", async () => {
    const kube = new FakeKube();
    kube.put(agentNamespace("gulfstream-uid"));
    const platform = new FakePlatform();
    platform.clusters.push(
      clusterRecord({ id: `${OTHER_GROUP}/c`, group: OTHER_GROUP, remoteId: "gulfstream-uid" }),
    );
    const { run } = await setup({ kube, platform });
    const err = await locateInstallation(run).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegisteredElsewhereError);
    expect((err as Error).message).toContain(`cluster ${OTHER_GROUP}/c in group ${OTHER_GROUP}`);
    expect((err as Error).message).toContain(`Fix: set group to "${OTHER_GROUP}"`);
    expect(run.register).toBe(true);
    expect(run.changed).toBe(false);
  });

  it("refuses a namespace being deleted", async () => {
    const kube = new FakeKube();
    kube.put(
      agentNamespace("gulfstream-uid", CONNECTION_ID, {
        deletionTimestamp: "2026-11-27T11:00:00Z",
      }),
    );
    const { run } = await setup({ kube });
    await expect(locateInstallation(run)).rejects.toThrow(
      `namespace ${AGENT_NAMESPACE} is being deleted`,
    );
  });

  it("with no namespace, registers without asking the platform", async () => {
    const { run, platform } = await setup({ previous: storedState() });
    platform.listClusters = () => Promise.reject(new Error("not to be called"));
    await locateInstallation(run);
    expect(run.installation).toEqual({
      namespace: undefined,
      current: undefined,
      elsewhere: undefined,
    });
    expect(run.register).toBe(true);
  });
});

/** Facts whose JWKS verifies a token the cluster "issued", as `check` would have found them. */
async function verifiableFacts(): Promise<ClusterFacts> {
  const { exportJWK, generateKeyPair, SignJWT } = await import("jose");
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const jwk = {
    ...(await exportJWK(publicKey)),
    kty: "RSA",
    kid: "kid-1",
    alg: "RS256",
    use: "sig",
  };
  const issuer = "https://issuer.cluster.example";
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: "RS256", kid: "kid-1" })
    .setIssuer(issuer)
    .setSubject("system:serviceaccount:kube-system:default")
    .setAudience("gulfstream")
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(privateKey);
  return facts({
    issuer,
    jwks: { keys: [jwk] },
    signingKeyIds: ["kid-1"],
    probeToken: new ProbeToken(token),
  });
}

describe("prepare the registration: which identity is superseded", () => {
  it("the previous identity, once another one (or none) is used, unless the platform moved", () => {
    const previous = storedState();
    expect(supersededIdentity(previous, `${GROUP}/identity-new`, false)).toBe(previous.identityId);
    expect(supersededIdentity(previous, "", false)).toBe(previous.identityId);
    expect(supersededIdentity(previous, previous.identityId, false)).toBeUndefined();
    expect(supersededIdentity(previous, "", true)).toBeUndefined();
    expect(supersededIdentity(undefined, "", false)).toBeUndefined();
  });

  it("without registering, only the renewal time follows renewAfter", async () => {
    const { run, platform } = await setup({
      previous: storedState(),
      inputs: { renewAfterSeconds: 86400 },
    });
    run.register = false;
    await prepareRegistration(run);
    expect(run.state.renewAt).toBe("2026-11-21T12:00:00Z");
    expect(platform.changes).toEqual([]);
    expect(run.invite).toBeUndefined();
    expect(run.changed).toBe(false);
  });

  it("a public cluster: moves the registration of another group, drops the identity, invites", async () => {
    const { run, platform, lines } = await setup({ previous: storedState() });
    const elsewhere = clusterRecord({ id: `${OTHER_GROUP}/c`, group: OTHER_GROUP });
    Object.assign(run, {
      register: true,
      installation: { namespace: undefined, current: undefined, elsewhere },
    });
    run.state.connectivity = "public";
    await prepareRegistration(run);
    expect(platform.changes).toEqual([
      `deleteCluster ${OTHER_GROUP}/c`,
      `createInvite ${GROUP} ttl=900`,
    ]);
    expect(lines[0]).toContain(
      `moving cluster registration ${OTHER_GROUP}/c from group ${OTHER_GROUP} to ${GROUP}`,
    );
    expect([...run.superseded]).toEqual([`${GROUP}/identity-old`]);
    expect(run.state).toMatchObject({
      identityId: "",
      renewAt: "",
      uploadedKeyIds: [],
      inviteId: run.invite?.id,
    });
    expect(run.changed).toBe(true);
  });

  it("a private cluster: a new identity named after the connection supersedes the previous one", async () => {
    const { run, platform } = await setup({ previous: storedState() });
    Object.assign(run, { register: true, facts: await verifiableFacts() });
    run.state.issuer = run.facts!.issuer;
    run.state.signingKeyIds = ["kid-1"];
    await prepareRegistration(run);
    expect(platform.changes).toEqual([
      `createIdentity ${identityName(CONNECTION_ID)}`,
      `createInvite ${GROUP} ttl=900`,
    ]);
    const created = at(platform.identities, 0);
    expect(run.state).toMatchObject({
      identityId: created.id,
      identityCreatedAt: "2026-11-27T12:00:00Z",
      renewAt: "2026-12-22T12:00:00Z",
      uploadedKeyIds: ["kid-1"],
    });
    expect([...run.superseded]).toEqual([`${GROUP}/identity-old`]);
  });

  it("a private cluster whose keys no longer verify its token: refused, as a change already begun", async () => {
    const { run, platform } = await setup({ previous: storedState() });
    Object.assign(run, { register: true, facts: facts({ jwks: { keys: [] } }) });
    await expect(prepareRegistration(run)).rejects.toBeInstanceOf(PrerequisiteError);
    expect(platform.changes).toEqual([]);
    expect(run.changed).toBe(true);
    expect(run.superseded.size).toBe(0);
  });
});

describe("install: when the takeover happens", () => {
  it("takes over another connection's installation, adopts a foreign one, not its own", () => {
    const ns = { uid: "u", terminating: false };
    expect(takeoverOf(undefined, CONNECTION_ID)).toBeUndefined();
    expect(takeoverOf({ ...ns, owner: CONNECTION_ID }, CONNECTION_ID)).toBeUndefined();
    expect(takeoverOf({ ...ns, owner: OTHER_CONNECTION }, CONNECTION_ID)).toEqual({
      kind: "connection",
      connectionId: OTHER_CONNECTION,
    });
    expect(takeoverOf({ ...ns, owner: undefined }, CONNECTION_ID)).toEqual({ kind: "foreign" });
  });

  it("re-labels the installation as this connection's and keeps its namespace (the remoteId)", async () => {
    const kube = new FakeKube();
    kube.put(agentNamespace("gulfstream-uid", OTHER_CONNECTION));
    const { run, lines } = await setup({ kube, inputs: { exposeIssuerDiscovery: true } });
    await locateInstallation(run);
    await install(run);
    expect(lines).toContain(`taking over the agent installation of connection ${OTHER_CONNECTION}`);
    expect(run.state.remoteId).toBe("gulfstream-uid");
    expect(run.state.platform).toEqual(PLATFORM);
    expect(run.state.ownsIssuerBinding).toBe(true);
    const ns = kube.find(agentNamespace("x")) as { metadata: { labels?: Record<string, string> } };
    expect(ns.metadata.labels?.[CONNECTION_LABEL]).toBe(CONNECTION_ID);
    expect(run.wanted).toContain(`v1/Secret/${AGENT_NAMESPACE}/${CREDS_SECRET}`);
    const binding = issuerBindingObject({ connectionId: CONNECTION_ID, clusterName: "prod" });
    expect(run.wanted).toContain(objectKey(binding));
    expect(kube.find(binding)).toBeDefined();
    expect(run.changed).toBe(true);
  });
});

describe("install and register: drift a refresh found is cleared once restored", () => {
  const DRIFT = [
    "RoleBinding gulfstream/gulfstream-secrets: deleted",
    "Secret gulfstream/mcp-creds: key code emptied",
  ];

  it("install applies every object again: all drift but mcp-creds's is cleared", async () => {
    const kube = new FakeKube();
    const { run } = await setup({ kube, previous: storedState({ installationDrift: DRIFT }) });
    expect(run.state.installationDrift).toEqual(DRIFT);
    await install(run);
    expect(run.state.installationDrift).toEqual(["Secret gulfstream/mcp-creds: key code emptied"]);
    const binding = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding" };
    expect(
      kube.find({ ...binding, metadata: { name: "gulfstream-secrets", namespace: "gulfstream" } }),
    ).toBeDefined();
  });
});

describe("await the registration", () => {
  it("with an invite: writes the credentials, waits for the agent, deletes the invite", async () => {
    const kube = new FakeKube();
    const { run, platform } = await setup({ kube });
    // What a refresh found: only the new registration's Secret restores it.
    run.state.installationDrift = ["Secret gulfstream/mcp-creds: deleted"];
    await install(run);
    expect(run.state.installationDrift).toEqual(["Secret gulfstream/mcp-creds: deleted"]);
    Object.assign(run, { invite: { id: `${GROUP}/invite-1`, code: "code-1" } });
    run.state.inviteId = `${GROUP}/invite-1`;
    kube.onApply = (o) => {
      if (o.kind === "Secret" && o.metadata.name === CREDS_SECRET) {
        platform.clusters.push(
          clusterRecord({ id: `${GROUP}/cluster-new`, group: GROUP, remoteId: run.state.remoteId }),
        );
      }
    };
    kube.calls.length = 0;
    await awaitRegistration(run);
    expect(kube.calls).toEqual([
      `APPLY /api/v1/namespaces/${AGENT_NAMESPACE}/secrets/${CREDS_SECRET}`,
    ]);
    expect(run.state).toMatchObject({
      clusterId: `${GROUP}/cluster-new`,
      inviteId: "",
      installationDrift: [],
    });
    expect(platform.changes).toEqual([`deleteInvite ${GROUP}/invite-1`]);
  });

  it("without an invite: writes no credentials and waits for nothing", async () => {
    const kube = new FakeKube();
    const { run, platform } = await setup({ kube, previous: storedState() });
    await install(run);
    kube.calls.length = 0;
    await awaitRegistration(run);
    expect(kube.calls).toEqual([]);
    expect(platform.changes).toEqual([]);
    expect(run.state.clusterId).toBe(`${GROUP}/cluster-old`);
  });
});

describe("retire what was superseded", () => {
  it("the invite of an unfinished registration, unless reused or at the previous platform", async () => {
    const previous = storedState({ inviteId: `${GROUP}/invite-old` });
    const { run } = await setup({ previous });
    expect(staleInvite(run)).toBe(`${GROUP}/invite-old`);
    Object.assign(run, { invite: { id: `${GROUP}/invite-old`, code: "c" } });
    expect(staleInvite(run)).toBeUndefined();
    Object.assign(run, { invite: undefined, move: { changed: true, moved: true } });
    expect(staleInvite(run)).toBeUndefined();
  });

  it("after taking over and registering anew, the replaced connection's identities by name", async () => {
    const platform = new FakePlatform();
    const mine = await platform.createIdentity(GROUP, {
      name: identityName(CONNECTION_ID),
      issuer: "",
      subject: "",
      issuerKeys: "",
      expiration: new Date(),
    });
    const theirs = await platform.createIdentity(GROUP, {
      name: identityName(OTHER_CONNECTION),
      issuer: "",
      subject: "",
      issuerKeys: "",
      expiration: new Date(),
    });
    await platform.createIdentity(GROUP, {
      name: "someone-else",
      issuer: "",
      subject: "",
      issuerKeys: "",
      expiration: new Date(),
    });
    platform.changes.length = 0;
    const { run, lines } = await setup({ platform });
    run.installation.namespace = { uid: "u", owner: OTHER_CONNECTION, terminating: false };
    run.state.identityId = mine.id;
    run.superseded.add(`${GROUP}/identity-old`);

    // Not registering anew: the replaced connection's identity may still be in use.
    await retireSuperseded(run);
    expect(platform.changes).toEqual([`deleteIdentity ${GROUP}/identity-old`]);

    platform.changes.length = 0;
    run.superseded.clear();
    Object.assign(run, { invite: { id: "i", code: "c" } });
    await retireSuperseded(run);
    expect(platform.changes).toEqual([`deleteIdentity ${theirs.id}`]);
    expect(lines).toContain(`deleting identity ${theirs.id}, which the agent no longer uses`);
  });

  it("after registering anew, this connection's own identities by name but the one in use", async () => {
    const platform = new FakePlatform();
    const identity = (name: string) =>
      platform.createIdentity(GROUP, {
        name,
        issuer: "",
        subject: "",
        issuerKeys: "",
        expiration: new Date(),
      });
    // A create whose answer was lost, then the one the agent registered with.
    const lost = await identity(identityName(CONNECTION_ID));
    const inUse = await identity(identityName(CONNECTION_ID));
    platform.changes.length = 0;
    const { run } = await setup({ platform });
    run.state.identityId = inUse.id;
    Object.assign(run, { invite: { id: "i", code: "c" } });
    await retireSuperseded(run);
    expect(platform.changes).toEqual([`deleteIdentity ${lost.id}`]);
  });

  it("after a move to another platform, reports what stays at the previous one", async () => {
    const previous = storedState({
      platform: { ...PLATFORM, apiUrl: "https://old.example" },
      inviteId: "inv",
    });
    const { run, platform, lines } = await setup({ previous });
    expect(run.move).toEqual({ changed: true, moved: true });
    await retireSuperseded(run);
    expect(platform.changes).toEqual([]);
    expect(lines.join("\n")).toContain(
      `cluster ${previous.clusterId}, identity ${previous.identityId}, invite inv stay at the previous platform https://old.example`,
    );
  });
});

describe("apply the settings", () => {
  it("updates the cluster record only when a setting differs", async () => {
    const platform = new FakePlatform();
    platform.clusters.push(
      clusterRecord({
        id: `${GROUP}/cluster-old`,
        group: GROUP,
        registered: "2026-11-25T00:00:00Z",
      }),
    );
    const { run } = await setup({ platform, previous: storedState() });
    await applySettings(run);
    expect(platform.changes).toEqual([]);
    expect(run.state.registeredAt).toBe("2026-11-25T00:00:00Z");
    run.inputs.description = "the production cluster";
    await applySettings(run);
    expect(platform.changes).toEqual([`updateCluster ${GROUP}/cluster-old`]);
    expect(at(platform.clusters, 0).description).toBe("the production cluster");
  });

  it("fails when the registration is gone", async () => {
    const { run } = await setup({ previous: storedState() });
    await expect(applySettings(run)).rejects.toThrow(
      `cluster ${GROUP}/cluster-old is no longer registered`,
    );
  });
});

describe("prune", () => {
  it("deletes what this connection owns and the inputs no longer ask for, nothing else", async () => {
    const kube = new FakeKube();
    const { run } = await setup({ kube, previous: storedState() });
    await install(run);
    const webhooks = [...kube.objects.values()].filter((o) =>
      o.kind.endsWith("WebhookConfiguration"),
    );
    expect(webhooks.length).toBeGreaterThan(0);
    const webhook = at(webhooks, 0);
    const labels = { ...(webhook.metadata.labels as object), [CONNECTION_LABEL]: OTHER_CONNECTION };
    kube.put({
      ...webhook,
      metadata: { ...webhook.metadata, name: "theirs", uid: undefined, labels },
    });
    // The observer profile has no webhooks.
    run.wanted = run.wanted.filter((k) => !k.includes("WebhookConfiguration"));
    await pruneLeftovers(run);
    const left = [...kube.objects.values()].filter((o) => o.kind.endsWith("WebhookConfiguration"));
    expect(left.map((o) => o.metadata.name)).toEqual(["theirs"]);
    expect(kube.objects.size).toBeGreaterThan(5);
  });
});

describe("applyConnection: the steps in order, one partial-failure wrapper", () => {
  const publicCheck: ClusterCheck = async () => ({
    facts: facts({ connectivity: "public" }),
    problems: [],
  });
  const steps = [(run: ConnectionRun) => observeCluster(run, publicCheck), ...APPLY_STEPS.slice(1)];

  function agentRegisters(kube: FakeKube, platform: FakePlatform): void {
    kube.onApply = (o) => {
      if (o.kind !== "Secret" || o.metadata.name !== CREDS_SECRET) return;
      const remoteId = kube.find(agentNamespace("x"))!.metadata.uid;
      platform.clusters.push(clusterRecord({ id: `${GROUP}/cluster-1`, group: GROUP, remoteId }));
    };
  }

  it("creates a public connection and closes both clients", async () => {
    const kube = new FakeKube();
    const platform = new FakePlatform();
    agentRegisters(kube, platform);
    const ctx = fakeContext(kube, platform);
    const state = await applyConnection(
      ctx,
      { connectionId: CONNECTION_ID, inputs: checkedInputs() },
      steps,
    );
    expect(state).toMatchObject({
      clusterId: `${GROUP}/cluster-1`,
      connectivity: "public",
      inviteId: "",
      identityId: "",
    });
    expect(platform.invites).toEqual([]);
    expect(kube.closed && platform.closed).toBe(true);
  });

  it("rejects with the cause as is while nothing changed", async () => {
    const kube = new FakeKube();
    const platform = new FakePlatform();
    const problem = { check: "tokenRequest", property: "kubeconfig", reason: "r.", remedy: "f." };
    const failing = [
      (run: ConnectionRun) =>
        observeCluster(run, async () => ({ facts: facts(), problems: [problem as never] })),
    ];
    const err = await applyConnection(
      fakeContext(kube, platform),
      { connectionId: CONNECTION_ID, inputs: checkedInputs() },
      failing,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrerequisiteError);
    expect(kube.closed && platform.closed).toBe(true);
  });

  it("rejects with a PartialFailureError carrying the state reached once something changed", async () => {
    const kube = new FakeKube();
    const platform = new FakePlatform();
    agentRegisters(kube, platform);
    kube.failWith = (method, path) =>
      method === "GET" && path === "/api/v1/namespaces" ? new Error("listing failed.") : undefined;
    const ctx = fakeContext(kube, platform);
    const err = await applyConnection(
      ctx,
      { connectionId: CONNECTION_ID, inputs: checkedInputs() },
      steps,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartialFailureError);
    const partial = err as PartialFailureError;
    expect(partial.id).toBe(CONNECTION_ID);
    expect(partial.reasons).toEqual([
      "listing failed.",
      expect.stringMatching(
        /^The connection was partly updated and is kept in the stack: run `pulumi up`/,
      ),
    ]);
    expect(partial.properties).toMatchObject({
      connectivity: "public",
      __state: { clusterId: `${GROUP}/cluster-1`, inviteId: "" },
    });
    expect(partial.message).toContain("partly updated");
    expect(kube.closed && platform.closed).toBe(true);
  });

  it("partialFailure passes the cause through until the run changed something", async () => {
    const { run } = await setup();
    const cause = new Error("boom.");
    expect(partialFailure(undefined, cause)).toBe(cause);
    expect(partialFailure(run, cause)).toBe(cause);
    run.changed = true;
    run.state.remoteId = "r";
    const wrapped = partialFailure(run, cause) as PartialFailureError;
    expect(wrapped.properties).toMatchObject({
      __state: { remoteId: "r", connectionId: CONNECTION_ID },
    });
    expect(wrapped.cause).toBe(cause);
  });
});
