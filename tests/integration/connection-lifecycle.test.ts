import * as fs from "node:fs";
import * as path from "node:path";
import type { EnforceSection } from "../../local/platform-services";
import { observedOf, type CheckedInputs } from "../../provider/lifecycle/checked";
import { PartialFailureError } from "../../provider/errors";
import { createImplementation } from "../../provider/impl";
import { listObjects } from "../../provider/install/uninstall";
import { MANAGED_SELECTOR } from "../../provider/install/ownership";
import { KubeClient } from "../../provider/kube/client";
import { OUTPUT_PROPERTIES, isShown } from "../../provider/lifecycle/properties";
import { STATE_KEYS } from "../../provider/lifecycle/state";
import { PlatformClient, type Cluster } from "../../provider/platform";
import type { AuditClient, AuditEntry } from "../../local/platform";
import { readStatusFile } from "../../local/agent/agent";
import { BOOTSTRAP_USER } from "../../local/control-plane/agent-bootstrap";
import { AGENT_SUBJECT } from "../../provider/install/names";
import {
  control,
  emulatorAuditClient,
  emulatorClient,
  emulatorContext,
  eventually,
  kubectl,
  startOwnEnv,
  stopOwnEnv,
  type OwnEnv,
} from "../support/env";
import { flatOutputs } from "../support/connection-fixtures";
import { at } from "../support/fixture";

/**
 * The connection's lifecycle through the provider's methods (check, diff, create, update, read,
 * delete), against an environment of its own: two real API servers, the Enforce emulator and
 * the agent stand-ins. Own environment, because these tests rotate keys and stop API servers.
 * cluster-1 is private; cluster-2 is made public by `exposeIssuerDiscovery`.
 */
describe("EnforceClusterConnection lifecycle", () => {
  let env: OwnEnv;
  let enforce: EnforceSection;
  let platform: PlatformClient;
  let auditTrail: AuditClient;
  const progress: string[] = [];
  let clockOffsetMs = 0;

  const platformClient = () => emulatorClient(env.ready);
  const ctx = () =>
    emulatorContext(() => env.ready, progress, {
      now: () => new Date(Date.now() + clockOffsetMs),
    });
  const provider = createImplementation(ctx);

  const cluster = (i: number) => at(env.ready.clusters, i);
  const kubeconfigOf = (i: number) => fs.readFileSync(cluster(i).kubeconfig, "utf8");

  beforeAll(async () => {
    env = await startOwnEnv(["--clusters", "2"]);
    enforce = env.ready.enforce as EnforceSection;
    platform = platformClient();
    auditTrail = emulatorAuditClient(env.ready);
  }, 600_000);
  afterAll(async () => {
    await platform?.close();
    await auditTrail?.close();
    await stopOwnEnv(env);
  });
  afterEach(() => {
    clockOffsetMs = 0;
  });

  async function checked(i: number, extra: Record<string, unknown> = {}): Promise<CheckedInputs> {
    const res = await provider.check(
      {},
      {
        __provider: "serialized provider",
        resourceName: `conn-${i + 1}`,
        kubeconfig: kubeconfigOf(i),
        group: enforce.group,
        registrationTimeout: "90s",
        ...extra,
      },
    );
    expect(res.failures ?? []).toEqual([]);
    // The engine's dynamic-provider host adds the serialized provider to the checked inputs.
    return { ...res.inputs, __provider: "serialized provider" } as CheckedInputs;
  }

  async function create(inputs: CheckedInputs) {
    const res = await provider.create(inputs);
    expectCompleteOutputs(res.outs);
    return { id: res.id, outs: res.outs as Record<string, unknown> };
  }

  /** Every output present, plain JSON (no undefined, functions or class instances). */
  function expectCompleteOutputs(outs: unknown): void {
    expect(outs).toEqual(JSON.parse(JSON.stringify(outs)));
    const o = flatOutputs(outs);
    for (const key of STATE_KEYS) expect([key, o[key] !== undefined]).toEqual([key, true]);
    // What only an apply produces is kept where the CLI does not show it.
    const top = Object.keys(outs as object);
    for (const key of OUTPUT_PROPERTIES)
      expect([key, top.includes(key)]).toEqual([key, isShown(key)]);
    expect(o.clusterId).not.toBe("");
    expect(o.registeredAt).not.toBe("");
    expect(o.inviteId).toBe("");
  }

  async function withKube<T>(i: number, fn: (kube: KubeClient) => Promise<T>): Promise<T> {
    const kube = await KubeClient.load({ kubeconfig: cluster(i).kubeconfig });
    try {
      return await fn(kube);
    } finally {
      kube.close();
    }
  }

  const labelled = (i: number) => withKube(i, (kube) => listObjects(kube, MANAGED_SELECTOR));

  async function namespaceUid(i: number): Promise<string | undefined> {
    return withKube(i, async (kube) => {
      const res = await kube.get<{ metadata: { uid: string } }>("/api/v1/namespaces/gulfstream", {
        accept: [404],
      });
      return res.status === 404 ? undefined : res.body.metadata.uid;
    });
  }

  const clustersIn = (): Promise<Cluster[]> =>
    platform.listClusters({ descendantsOf: enforce.group });
  const identitiesIn = () => platform.listIdentities({ childrenOf: enforce.group });

  async function audit(): Promise<AuditEntry[]> {
    return auditTrail.audit();
  }

  /** Creates and deletes an invite per registration: every invite created was deleted again. */
  function invitesLeft(entries: AuditEntry[]): number {
    const created = entries.filter(
      (e) => e.method === "POST" && e.path.startsWith("/iam/v1/group_invites/") && e.status < 300,
    ).length;
    const deleted = entries.filter(
      (e) => e.method === "DELETE" && e.path.startsWith("/iam/v1/group_invites/") && e.status < 300,
    ).length;
    return created - deleted;
  }

  async function expectNothingLeft(i: number): Promise<void> {
    expect((await labelled(i)).map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([]);
    expect(await namespaceUid(i)).toBeUndefined();
    expect(await clustersIn()).toEqual([]);
    expect(await identitiesIn()).toEqual([]);
    expect(invitesLeft(await audit())).toBe(0);
  }

  interface AuditEvent {
    verb: string;
    stage: string;
    userAgent?: string;
    user?: { username?: string };
    objectRef?: { resource?: string; subresource?: string; name?: string; namespace?: string };
    responseStatus?: { code?: number };
  }

  function apiAudit(i: number): AuditEvent[] {
    return fs
      .readFileSync(cluster(i).auditLog, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as AuditEvent);
  }

  /**
   * Watches, until stopped, that the agent stays installed and registered: its namespace (same
   * UID), StatefulSet and webhooks exist, and Enforce lists the cluster. Returns what it saw
   * missing, if anything.
   */
  function watchInstallation(i: number, remoteId: string) {
    const gaps: string[] = [];
    let stop = false;
    let samples = 0;
    const done = (async () => {
      while (!stop) {
        await withKube(i, async (kube) => {
          const [ns, sts, vwc, mwc] = await Promise.all([
            kube.get<{ metadata: { uid: string } }>("/api/v1/namespaces/gulfstream", {
              accept: [404],
            }),
            kube.get("/apis/apps/v1/namespaces/gulfstream/statefulsets/meta-controlplane", {
              accept: [404],
            }),
            kube.get(
              "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/enforcer.chainguard.dev",
              { accept: [404] },
            ),
            kube.get(
              "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/enforcer.chainguard.dev",
              { accept: [404] },
            ),
          ]);
          if (ns.status === 404 || ns.body.metadata.uid !== remoteId) gaps.push("namespace");
          if (sts.status === 404) gaps.push("statefulset");
          if (vwc.status === 404 || mwc.status === 404) gaps.push("webhooks");
        });
        const listed = await platform.listClusters({ remoteId });
        if (listed.length === 0) gaps.push("registration");
        samples++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    return {
      async end(): Promise<{ gaps: string[]; samples: number }> {
        stop = true;
        await done;
        return { gaps, samples };
      },
    };
  }

  test("public: installs, registers, updates in place, refreshes, and deletes webhooks first leaving nothing", async () => {
    const inputs = await checked(1, { exposeIssuerDiscovery: true, description: "first" });
    expect(inputs.connectivity).toBe("public");
    const { id, outs } = await create(inputs);

    const remoteId = await namespaceUid(1);
    expect(flatOutputs(outs)).toMatchObject({
      connectionId: id,
      connectivity: "public",
      identityId: "",
      renewAt: "",
      remoteId,
      ownsIssuerBinding: true,
      description: "first",
    });
    const [registered] = await clustersIn();
    expect(registered).toMatchObject({
      id: flatOutputs(outs).clusterId,
      remoteId,
      identityId: "",
      name: "conn-2",
      description: "first",
    });
    // The emulator verified the agent's token against the anonymously fetched JWKS.
    expect(readStatusFile(at(enforce.agents, 1).statusFile)).toMatchObject({
      state: "registered",
      clusterId: flatOutputs(outs).clusterId,
    });
    // The stand-in acted as the agent: its kubelet credential only read the StatefulSet and
    // minted the ServiceAccount's tokens; everything else was the agent's own token, under the
    // RBAC the connection installed, and nothing it asked for was forbidden.
    // Watches are logged when they start (ResponseStarted) and end: count each request once.
    const requestsOf = (user: string) =>
      apiAudit(1).filter((e) => e.user?.username === user && e.stage !== "RequestReceived");
    const call = (e: AuditEvent) => {
      const o = e.objectRef ?? {};
      const resource = o.subresource ? `${o.resource}/${o.subresource}` : o.resource;
      const name = o.resource === "events" ? "*" : (o.name ?? "");
      return `${e.verb} ${resource} ${o.namespace ?? ""}/${name}`;
    };
    expect(new Set(requestsOf(BOOTSTRAP_USER).map(call))).toEqual(
      new Set([
        "get statefulsets gulfstream/meta-controlplane",
        "create serviceaccounts/token gulfstream/controller",
      ]),
    );
    const asAgent = requestsOf(AGENT_SUBJECT);
    expect([...new Set(asAgent.map(call))]).toEqual(
      expect.arrayContaining([
        "get namespaces gulfstream/gulfstream",
        "get configmaps gulfstream/config-platform",
        "list secrets gulfstream/mcp-creds",
        "watch secrets gulfstream/mcp-creds",
        "create events gulfstream/*",
      ]),
    );
    expect(asAgent.filter((e) => e.responseStatus?.code === 403).map(call)).toEqual([]);
    const objects = await labelled(1);
    expect(objects.map((o) => o.kind).sort()).toEqual(
      expect.arrayContaining([
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Secret",
        "StatefulSet",
        "ValidatingWebhookConfiguration",
      ]),
    );
    expect(objects.find((o) => o.metadata.name === "public-issuer-discovery")).toBeDefined();
    expect(objects.every((o) => o.metadata.labels?.["pulumi-enforce.dev/connection"] === id)).toBe(
      true,
    );

    // Nothing changed: no diff.
    expect(
      await provider.diff(
        id,
        outs,
        await checked(1, { exposeIssuerDiscovery: true, description: "first" }),
      ),
    ).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });

    // A new description and fail-open webhooks: in place.
    const news = await checked(1, {
      exposeIssuerDiscovery: true,
      description: "second",
      enforcerOptions: { webhookFailOpen: true },
    });
    const diff = await provider.diff(id, outs, news);
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    const updated = await provider.update(id, outs, news);
    expectCompleteOutputs(updated.outs);
    expect(flatOutputs(updated.outs)).toMatchObject({
      clusterId: flatOutputs(outs).clusterId,
      description: "second",
    });
    const [after] = await clustersIn();
    expect(after).toMatchObject({
      id: flatOutputs(outs).clusterId,
      description: "second",
      enforcerOptions: { webhookFailOpen: true },
    });
    const vwc = await withKube(1, (kube) =>
      kube.get<{ webhooks: { failurePolicy: string }[] }>(
        "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/enforcer.chainguard.dev",
      ),
    );
    expect(vwc.body.webhooks.map((w) => w.failurePolicy)).toEqual(["Ignore"]);

    // Refresh keeps it, with every output.
    const read = await provider.read(id, updated.outs);
    expect(read.id).toBe(id);
    expectCompleteOutputs(read.props);
    expect(flatOutputs(read.props)).toMatchObject({
      description: "second",
      clusterId: flatOutputs(outs).clusterId,
    });
    // What the update applied (webhooks failing open, the issuer binding) is not drift.
    expect(flatOutputs(read.props).installationDrift).toEqual([]);

    await provider.delete(id, read.props);
    await expectNothingLeft(1);

    // The API server saw the webhook configurations deleted before the StatefulSet.
    const deletes = apiAudit(1).filter(
      (e) =>
        e.verb === "delete" &&
        e.userAgent?.startsWith("pulumi-enforce") &&
        e.stage === "ResponseComplete",
    );
    const deletedAt = (resource: string) =>
      deletes.findIndex((e) => e.objectRef?.resource === resource);
    expect(deletedAt("validatingwebhookconfigurations")).toBeGreaterThanOrEqual(0);
    expect(deletedAt("mutatingwebhookconfigurations")).toBeGreaterThanOrEqual(0);
    expect(deletedAt("statefulsets")).toBeGreaterThan(deletedAt("validatingwebhookconfigurations"));
    expect(deletedAt("statefulsets")).toBeGreaterThan(deletedAt("mutatingwebhookconfigurations"));
  });

  test("private: a rotated key replaces the connection without a gap, leaving one identity", async () => {
    const inputs = await checked(0);
    const first = await create(inputs);
    expect(flatOutputs(first.outs)).toMatchObject({ connectivity: "private" });
    const [identity] = await identitiesIn();
    expect(identity?.id).toBe(flatOutputs(first.outs).identityId);
    expect(
      JSON.parse(identity!.static!.issuerKeys).keys.map((k: { kid: string }) => k.kid),
    ).toEqual(first.outs.signingKeyIds);
    const renewIn = Date.parse(flatOutputs(first.outs).renewAt as string) - Date.now();
    expect(renewIn).toBeGreaterThan(24 * 24 * 3600 * 1000);
    expect(renewIn).toBeLessThanOrEqual(25 * 24 * 3600 * 1000);

    // Unchanged: no diff.
    expect((await provider.diff(first.id, first.outs, await checked(0))).changes).toBe(false);

    // Without --keep-old: the JWKS lists the new key only.
    await control(env.ready, "/rotate-key", { cluster: "cluster-1" });
    const rotated = await checked(0);
    const observed = observedOf(rotated)!;
    expect(observed.signingKeyIds).toEqual([observed.activeKeyId]);
    expect(flatOutputs(first.outs).uploadedKeyIds).not.toContain(observed.activeKeyId);
    expect(await provider.diff(first.id, first.outs, rotated)).toEqual({
      changes: true,
      replaces: ["signingKeyIds"],
      deleteBeforeReplace: false,
    });

    // The engine's replacement: create the new connection, then delete the old one.
    const remoteId = flatOutputs(first.outs).remoteId as string;
    const watch = watchInstallation(0, remoteId);
    const apiAuditBefore = apiAudit(0).length;
    const platformAuditBefore = (await audit()).length;
    const second = await create(rotated);
    // The replacement verified the new keys against a token of the cluster before uploading them.
    expect(progress).toContainEqual(
      expect.stringContaining(
        `uploaded the cluster's signing keys (${observed.activeKeyId}), which verify the token it issues now (key ${observed.activeKeyId})`,
      ),
    );
    expect(flatOutputs(second.outs).uploadedKeyIds).toEqual([observed.activeKeyId]);
    await provider.delete(first.id, first.outs);
    const { gaps, samples } = await watch.end();
    expect(samples).toBeGreaterThan(3);
    expect(gaps).toEqual([]);
    // Nothing of the installation was deleted, and the cluster was never unregistered.
    const deleted = apiAudit(0)
      .slice(apiAuditBefore)
      .filter((e) => e.verb === "delete" && e.userAgent?.startsWith("pulumi-enforce"))
      .map((e) => e.objectRef?.resource);
    expect(deleted).toEqual([]);
    const platformCalls = (await audit()).slice(platformAuditBefore);
    expect(
      platformCalls.filter(
        (e) => e.path.startsWith("/tenant/v1/clusters") && e.method === "DELETE",
      ),
    ).toEqual([]);

    expect(flatOutputs(second.outs)).toMatchObject({
      clusterId: flatOutputs(first.outs).clusterId,
      remoteId,
    });
    expect(flatOutputs(second.outs).identityId).not.toBe(flatOutputs(first.outs).identityId);
    expect(second.outs.signingKeyIds).not.toEqual(first.outs.signingKeyIds);
    // The replacement registered with the new JWKS; the old identity is gone.
    expect((await identitiesIn()).map((i) => i.id)).toEqual([flatOutputs(second.outs).identityId]);
    expect(await clustersIn()).toMatchObject([
      {
        id: flatOutputs(first.outs).clusterId,
        remoteId,
        identityId: flatOutputs(second.outs).identityId,
      },
    ]);
    expect(
      (await labelled(0)).every(
        (o) => o.metadata.labels?.["pulumi-enforce.dev/connection"] === second.id,
      ),
    ).toBe(true);
    expect((await provider.diff(second.id, second.outs, await checked(0))).changes).toBe(false);

    await provider.delete(second.id, second.outs);
    await expectNothingLeft(0);
  });

  test("a new group: replaced; the registration moves there while the agent stays installed", async () => {
    const first = await create(await checked(1));
    const moved = await checked(1, { group: enforce.teamGroup });
    expect(await provider.diff(first.id, first.outs, moved)).toEqual({
      changes: true,
      replaces: ["group"],
      deleteBeforeReplace: false,
    });
    const watch = watchInstallation(1, flatOutputs(first.outs).remoteId as string);
    const second = await create(moved);
    await provider.delete(first.id, first.outs);
    const { gaps, samples } = await watch.end();
    expect(samples).toBeGreaterThan(3);
    // Enforce cannot list one installation in two groups, so the old registration goes first;
    // the agent and its webhooks never do.
    expect(gaps.filter((g) => g !== "registration")).toEqual([]);
    expect(await clustersIn()).toMatchObject([
      {
        id: flatOutputs(second.outs).clusterId,
        group: enforce.teamGroup,
        remoteId: flatOutputs(first.outs).remoteId,
      },
    ]);
    const inTeam = await platform.listIdentities({ childrenOf: enforce.teamGroup });
    expect(inTeam.map((i) => i.id)).toEqual([flatOutputs(second.outs).identityId]);
    expect(await identitiesIn()).toEqual([]);

    await provider.delete(second.id, second.outs);
    expect(await platform.listIdentities({ childrenOf: enforce.teamGroup })).toEqual([]);
    await expectNothingLeft(1);
  });

  test("private: renewAfter passes → replace on renewAt, not before", async () => {
    const inputs = await checked(0, { renewAfter: "5s" });
    const first = await create(inputs);
    const renewAt = Date.parse(flatOutputs(first.outs).renewAt as string);
    expect(renewAt - Date.parse(flatOutputs(first.outs).identityCreatedAt as string)).toBe(5000);

    // Just before the renewal time: nothing to do.
    const unchanged = await checked(0, { renewAfter: "5s" });
    clockOffsetMs = renewAt - 1000 - Date.now();
    expect((await provider.diff(first.id, first.outs, unchanged)).changes).toBe(false);
    clockOffsetMs = 0;

    await eventually(
      "the renewal time to pass",
      async () => (Date.now() > renewAt ? true : undefined),
      30_000,
    );
    const news = await checked(0, { renewAfter: "5s" });
    expect(await provider.diff(first.id, first.outs, news)).toMatchObject({
      changes: true,
      replaces: ["renewAt"],
    });
    const second = await create(news);
    await provider.delete(first.id, first.outs);
    expect(Date.parse(flatOutputs(second.outs).renewAt as string)).toBeGreaterThan(renewAt);
    expect((await identitiesIn()).map((i) => i.id)).toEqual([flatOutputs(second.outs).identityId]);
    expect(await clustersIn()).toHaveLength(1);

    await provider.delete(second.id, second.outs);
    await expectNothingLeft(0);
  });

  test("drift: a deleted namespace or registration makes read report the connection gone; create again recovers", async () => {
    const inputs = await checked(0);
    const first = await create(inputs);

    // Unregistered in Enforce by hand.
    await platform.deleteCluster(flatOutputs(first.outs).clusterId as string);
    expect(await provider.read(first.id, first.outs)).toEqual({ id: "", props: {} });
    // The next `up` creates it again, taking over the installation and cleaning up the
    // identity of the connection that was dropped from state.
    const second = await create(await checked(0));
    expect(flatOutputs(second.outs).remoteId).toBe(flatOutputs(first.outs).remoteId);
    expect((await identitiesIn()).map((i) => i.id)).toEqual([flatOutputs(second.outs).identityId]);

    // The agent namespace deleted by hand.
    await kubectl(env.ready, cluster(0).kubeconfig, [
      "delete",
      "namespace",
      "gulfstream",
      "--wait=true",
    ]);
    expect(await provider.read(second.id, second.outs)).toEqual({ id: "", props: {} });
    expect(progress.join("\n")).toContain(
      `cluster ${flatOutputs(second.outs).clusterId as string}`,
    );
    const third = await create(await checked(0));
    expect(flatOutputs(third.outs).remoteId).not.toBe(flatOutputs(second.outs).remoteId);

    await provider.delete(third.id, third.outs);
    // What the dropped connection left in Enforce (named in read's message) is removed by hand.
    await platform.deleteCluster(flatOutputs(second.outs).clusterId as string);
    await platform.deleteIdentity(flatOutputs(second.outs).identityId as string);
    await expectNothingLeft(0);
  });

  test("an API server outage mid-create leaves a partial connection that update completes and delete removes", async () => {
    const inputs = await checked(0, { registrationTimeout: "40s" });
    // The real API server stops right after it created the agent namespace, before the apply's
    // next stage: the provider's client is the real one, only the moment is chosen here.
    const outage = createImplementation(() =>
      emulatorContext(() => env.ready, progress, {
        connect: async (source) => {
          const client = await KubeClient.load(source);
          const apply = client.apply.bind(client);
          client.apply = async <T>(path: string, object: unknown, fieldManager: string) => {
            const res = await apply<T>(path, object, fieldManager);
            const { kind, metadata } = object as { kind: string; metadata: { name: string } };
            if (kind === "Namespace" && metadata.name === "gulfstream") {
              await control(env.ready, "/stop-apiserver", { cluster: "cluster-1" });
            }
            return res;
          };
          return client;
        },
      }),
    );
    const err = await outage.create(inputs).then(
      () => undefined,
      (e: unknown) => e,
    );
    await control(env.ready, "/start-apiserver", { cluster: "cluster-1" });

    expect(err).toBeInstanceOf(PartialFailureError);
    const partial = err as PartialFailureError;
    // The outage itself failed the create (not, say, a registration timeout afterwards): an API
    // server going down refuses connections, or, while it shuts down, answers with an error.
    expect(partial.message).toMatch(
      /(cannot reach the Kubernetes API server|the API server answered).*pulumi up/s,
    );
    expect(partial.message).not.toMatch(/did not register/);
    expect(partial.id).toMatch(/^[0-9a-f]{24}$/);
    expect(partial.reasons).toHaveLength(2);
    // Kept for the engine: the provider, and what was created so far.
    expect(partial.properties.__provider).toBe("serialized provider");
    expect(flatOutputs(partial.properties).clusterId).toBe("");
    expect(partial.properties).toEqual(JSON.parse(JSON.stringify(partial.properties)));
    expect(await namespaceUid(0)).toBeDefined();

    // The next `up`: diff asks for an update, which finishes the job.
    const news = await checked(0);
    expect((await provider.diff(partial.id, partial.properties, news)).changes).toBe(true);
    const done = await provider.update(partial.id, partial.properties, news);
    expectCompleteOutputs(done.outs);
    expect((await identitiesIn()).map((i) => i.id)).toEqual([
      flatOutputs(done.outs).identityId as string,
    ]);
    expect(invitesLeft(await audit())).toBe(0);

    await provider.delete(partial.id, done.outs);
    await expectNothingLeft(0);
  });

  test("delete of an unreachable cluster fails and says how to proceed", async () => {
    const inputs = await checked(1);
    const { id, outs } = await create(inputs);
    await control(env.ready, "/stop-apiserver", { cluster: "cluster-2" });
    try {
      await expect(provider.delete(id, outs)).rejects.toThrow(
        /cannot uninstall the Enforce agent from cluster "conn-2".*pulumi destroy.*pulumi state delete/s,
      );
    } finally {
      await control(env.ready, "/start-apiserver", { cluster: "cluster-2" });
    }
    // Nothing was unregistered meanwhile; once reachable, delete works.
    expect(await clustersIn()).toHaveLength(1);
    await provider.delete(id, outs);
    await expectNothingLeft(1);
  });

  test("no progress line or error carried a credential", () => {
    const kubeconfigs = [0, 1].map((i) => kubeconfigOf(i));
    const secrets = [
      enforce.token,
      ...kubeconfigs.flatMap((k) => k.match(/(?<=-data: )\S+/g) ?? []),
    ];
    const text = progress.join("\n");
    for (const s of secrets) expect(text.includes(s)).toBe(false);
    expect(path.basename(env.dir)).toMatch(/enforce-own-env/);
  });
});
