import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { inspect } from "node:util";
import { parse, stringify } from "yaml";
import { checkConnection } from "../../provider/lifecycle/check-connection";
import { observedOf, type CheckedInputs } from "../../provider/lifecycle/checked";
import { PendingChecks } from "../../provider/lifecycle/pending-checks";
import { RecentChecks } from "../../provider/lifecycle/recent-checks";
import { CheckFailedError } from "../../provider/errors";
import { checkCluster, type CheckOptions } from "../../provider/checks/cluster-checks";
import { verifyClusterToken } from "../../provider/checks/token-verification";
import { UNKNOWN_VALUE } from "../../provider/inputs";
import { AGENT_AUDIENCE } from "../../provider/install/names";
import { KubeClient, USER_AGENT } from "../../provider/kube/client";
import { eventually, jwtHeader, kubectl, sharedEnv } from "../support/env";
import { at } from "../support/fixture";

/**
 * The provider's `check` against the shared environment's real API servers (both `apiserver`
 * issuer mode, private by default). Requests are counted in each API server's audit log: the
 * provider's carry its User-Agent, which tells them from the agent stand-in's, made with the same
 * admin credentials.
 */

const env = sharedEnv();
const GROUP = "0123456789abcdef0123456789abcdef01234567";
const BINDING_CMD =
  "kubectl create clusterrolebinding public-issuer-discovery --clusterrole=system:service-account-issuer-discovery --group=system:unauthenticated";

type Cluster = (typeof env.clusters)[number];

interface AuditEvent {
  requestURI: string;
  verb: string;
  userAgent?: string;
  user: { username: string };
}

/** Runs `action`, then returns the provider's requests to `cluster` in between two markers. */
async function requestsDuring<T>(
  cluster: Cluster,
  action: () => Promise<T>,
): Promise<{ result: T; requests: AuditEvent[] }> {
  const id = randomUUID();
  const mark = (which: string) =>
    kubectl(env, cluster.kubeconfig, ["get", "--raw", `/version?marker=${id}-${which}`]);
  await mark("start");
  const result = await action();
  await mark("end");
  const between = await eventually("the end marker in the audit log", async () => {
    const events = fs
      .readFileSync(cluster.auditLog, "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as AuditEvent);
    const markerAt = (which: string) =>
      events.findIndex((e) => e.requestURI === `/version?marker=${id}-${which}`);
    const start = markerAt("start");
    const end = markerAt("end");
    return end < 0 ? undefined : events.slice(start + 1, end);
  });
  return { result, requests: between.filter((e) => e.userAgent?.startsWith(USER_AGENT)) };
}

function news(cluster: Cluster, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    __provider: "serialized provider text",
    resourceName: "conn",
    kubeconfig: fs.readFileSync(cluster.kubeconfig, "utf8"),
    group: GROUP,
    ...extra,
  };
}

async function jwksKids(cluster: Cluster): Promise<string[]> {
  const jwks = JSON.parse(
    await kubectl(env, cluster.kubeconfig, ["get", "--raw", "/openid/v1/jwks"]),
  );
  return (jwks.keys as Array<{ kid: string }>).map((k) => k.kid).sort();
}

/** `checkCluster` itself, for what `check` does not keep: the token verification's outcome. */
async function clusterFacts(cluster: Cluster, opts: Partial<CheckOptions> = {}) {
  const client = await KubeClient.load({ kubeconfig: cluster.kubeconfig });
  try {
    return await checkCluster(client, {
      connectivity: "auto",
      exposeIssuerDiscovery: false,
      ...opts,
    });
  } finally {
    client.close();
  }
}

async function namespaceUid(cluster: Cluster, name: string): Promise<string> {
  const out = await kubectl(env, cluster.kubeconfig, ["get", "namespaces", "-o", "json"]);
  const items = JSON.parse(out).items as Array<{ metadata: { name: string; uid: string } }>;
  return items.find((ns) => ns.metadata.name === name)?.metadata.uid ?? "";
}

describe.each(env.clusters.map((c) => [c.name, c] as const))(
  "check against %s",
  (_name, cluster) => {
    test("valid inputs pass; observed records the issuer, the JWKS key ids and private connectivity", async () => {
      const { inputs, failures } = await checkConnection({}, news(cluster));
      expect(failures).toEqual([]);
      const checked = inputs as CheckedInputs;
      const kids = await jwksKids(cluster);
      expect(observedOf(checked)).toEqual({
        activeKeyId: expect.any(String),
        agentNamespaceUid: await namespaceUid(cluster, "gulfstream"),
        clusterUid: await namespaceUid(cluster, "kube-system"),
        connectivity: "private",
        issuer: cluster.issuer,
        jwksUri: "",
        signingKeyIds: kids,
      });
      expect(kids).toContain(observedOf(checked)?.activeKeyId);
      // Defaults applied, the carrier of the resource name consumed, the engine's key left alone;
      // what was observed under the names of the outputs it becomes, as state has them.
      expect(checked).toMatchObject({
        clusterName: "conn",
        connectivity: "private",
        group: GROUP,
        issuer: cluster.issuer,
        requestedConnectivity: "auto",
        signingKeyIds: kids,
      });
      expect(checked).not.toHaveProperty("resourceName");
      expect(checked).not.toHaveProperty("__provider");
    });
  },
);

describe("check against cluster-1 (more)", () => {
  const cluster = at(env.clusters, 0);

  test("checked inputs are plain JSON with sorted keys, identical from one check to the next", async () => {
    const first = await checkConnection({}, news(cluster));
    const second = await checkConnection(first.inputs, news(cluster));
    expect(JSON.stringify(second.inputs)).toBe(JSON.stringify(first.inputs));
    expect(JSON.parse(JSON.stringify(first.inputs))).toEqual(first.inputs);
    const sortedEverywhere = (value: unknown): boolean =>
      Array.isArray(value)
        ? value.every(sortedEverywhere)
        : typeof value !== "object" || value === null
          ? true
          : Object.keys(value).join() === Object.keys(value).sort().join() &&
            Object.values(value).every(sortedEverywhere);
    expect(sortedEverywhere(first.inputs)).toBe(true);
  });

  // The floor for an `auto` connection whose issuer is private: the two Namespaces in one list,
  // a TokenRequest (the key that signs now), the JWKS and the anonymous probe. One more: the
  // dry-run Pod of the projection check.
  test("a no-change check sends 5 requests: the floor of 4 and the projection check", async () => {
    const previous = await checkConnection({}, news(cluster));
    const { result, requests } = await requestsDuring(cluster, () =>
      checkConnection(previous.inputs, news(cluster)),
    );
    expect(result.failures).toEqual([]);
    expect(
      requests
        .map(
          (r) =>
            `${r.verb} ${r.user.username === "system:anonymous" ? "anonymous " : ""}${r.requestURI}`,
        )
        .sort(),
    ).toEqual([
      "create /api/v1/namespaces/kube-system/pods?dryRun=All",
      "create /api/v1/namespaces/kube-system/serviceaccounts/default/token",
      "get /openid/v1/jwks",
      "get anonymous /.well-known/openid-configuration",
      `list /api/v1/namespaces?${new URLSearchParams({ labelSelector: "kubernetes.io/metadata.name in (kube-system,gulfstream)" }).toString()}`,
    ]);
  });

  // Whether the credentials may install the agent is asked only when they are new: one review
  // for everything, which cluster-admin passes.
  test("a new connection's check, and one whose kubeconfig changed, also asks one SelfSubjectAccessReview", async () => {
    const reviews = (requests: AuditEvent[]) =>
      requests.filter((r) => r.requestURI.includes("selfsubjectaccessreviews")).length;
    const first = await requestsDuring(cluster, () => checkConnection({}, news(cluster)));
    expect(first.result.failures).toEqual([]);
    expect(reviews(first.requests)).toBe(1);
    const rotated = stringify(parse(fs.readFileSync(cluster.kubeconfig, "utf8")));
    const changed = await requestsDuring(cluster, () =>
      checkConnection(first.result.inputs, news(cluster, { kubeconfig: `${rotated}\n` })),
    );
    expect(changed.result.failures).toEqual([]);
    expect(reviews(changed.requests)).toBe(1);
  });

  test("a private check verifies the cluster's token against the JWKS that would be uploaded", async () => {
    const { facts, problems } = await clusterFacts(cluster);
    expect(problems).toEqual([]);
    expect(facts.connectivity).toBe("private");
    expect(facts.tokenSignature).toEqual({
      status: "verified",
      kid: facts.activeKeyId,
      keySource: "uploaded",
    });
    expect(await jwksKids(cluster)).toContain(facts.activeKeyId);
    // The token is kept for create's re-verification, but never shows when the facts are printed.
    const token = facts.probeToken?.reveal() ?? "";
    expect(jwtHeader(token).kid).toBe(facts.activeKeyId);
    expect(JSON.stringify(facts)).not.toContain(token);
    expect(inspect(facts, { depth: 5 })).not.toContain(token);
  });

  test("with the discovery binding, a public check verifies against the issuer's anonymous JWKS; the next check reads the keys only that way", async () => {
    await kubectl(env, cluster.kubeconfig, BINDING_CMD.split(" ").slice(1));
    let previous: Awaited<ReturnType<typeof checkConnection>>;
    try {
      const { facts, problems } = await clusterFacts(cluster);
      expect(problems).toEqual([]);
      expect(facts.connectivity).toBe("public");
      expect(facts.tokenSignature).toEqual({
        status: "verified",
        kid: facts.activeKeyId,
        keySource: "anonymous",
        jwksUri: `${cluster.issuer}/openid/v1/jwks`,
      });

      previous = await checkConnection({}, news(cluster));
      const { result, requests } = await requestsDuring(cluster, () =>
        checkConnection(previous.inputs, news(cluster)),
      );
      expect(result.failures).toEqual([]);
      expect(result.inputs).toEqual(previous.inputs);
      // The discovery document and its jwks_uri, anonymous as the platform fetches them; the
      // API server's keys are not read with credentials as well.
      expect(
        requests
          .filter((r) => r.requestURI.startsWith("/openid") || r.requestURI.startsWith("/.well"))
          .map((r) => `${r.user.username} ${r.requestURI}`)
          .sort(),
      ).toEqual([
        "system:anonymous /.well-known/openid-configuration",
        "system:anonymous /openid/v1/jwks",
      ]);
      expect(requests).toHaveLength(5);
    } finally {
      await kubectl(env, cluster.kubeconfig, [
        "delete",
        "clusterrolebinding",
        "public-issuer-discovery",
      ]);
    }
    // The issuer is private again: what the last check found is a wrong guess now, which costs
    // a second round and changes no answer.
    const after = await checkConnection(previous.inputs, news(cluster));
    expect(after.failures).toEqual([]);
    expect(after.inputs).toEqual(await checkConnection({}, news(cluster)).then((r) => r.inputs));
    expect(after.inputs).toMatchObject({
      connectivity: "private",
      signingKeyIds: await jwksKids(cluster),
    });
  });

  test("the cluster's real token against another cluster's JWKS: a failure on connectivity naming the key", async () => {
    const other = at(env.clusters, 1);
    const token = (
      await kubectl(env, cluster.kubeconfig, [
        "-n",
        "kube-system",
        "create",
        "token",
        "default",
        `--audience=${AGENT_AUDIENCE}`,
      ])
    ).trim();
    const kid = jwtHeader(token).kid;
    const result = await verifyClusterToken({
      token,
      issuer: cluster.issuer,
      jwks: JSON.parse(await kubectl(env, other.kubeconfig, ["get", "--raw", "/openid/v1/jwks"])),
      keySource: "uploaded",
      audience: AGENT_AUDIENCE,
    });
    expect(result).toEqual({
      ok: false,
      problem: {
        check: "tokenSignature",
        property: "connectivity",
        reason:
          `the token the cluster issues now is signed with key ${kid}, which the JWKS that would be uploaded ` +
          `(the API server's /openid/v1/jwks) does not list (it lists ${(await jwksKids(other)).join(", ")})`,
        remedy: expect.stringContaining("--service-account-signing-key-file"),
      },
    });
    expect(JSON.stringify(result)).not.toContain(token);
  });

  test('connectivity "public" on a private cluster fails on connectivity, naming the binding command', async () => {
    const { failures } = await checkConnection({}, news(cluster, { connectivity: "public" }));
    expect(failures).toHaveLength(1);
    const failure = at(failures, 0);
    expect(failure.property).toBe("connectivity");
    expect(failure.reason).toContain("not reachable without credentials (HTTP 403)");
    expect(failure.reason).toMatch(/\. Fix: /);
    expect(failure.reason).toContain(BINDING_CMD);
    expect(failure.reason).toContain('connectivity: "private"');
  });

  test("exposeIssuerDiscovery makes an API-server issuer count as public", async () => {
    const { inputs, failures } = await checkConnection(
      {},
      news(cluster, { exposeIssuerDiscovery: true }),
    );
    expect(failures).toEqual([]);
    expect(inputs).toMatchObject({ connectivity: "public", requestedConnectivity: "auto" });
  });

  test.each(["kubeconfig", "context", "connectivity", "exposeIssuerDiscovery"])(
    "an unknown %s: no failures and no request to the API server",
    async (property) => {
      const { result, requests } = await requestsDuring(cluster, () =>
        checkConnection({}, news(cluster, { [property]: UNKNOWN_VALUE })),
      );
      expect(result.failures).toEqual([]);
      expect(requests).toEqual([]);
      expect(result.inputs).toMatchObject({
        [property === "connectivity" ? "requestedConnectivity" : property]: UNKNOWN_VALUE,
        issuer: UNKNOWN_VALUE,
        signingKeyIds: UNKNOWN_VALUE,
        clusterName: "conn",
      });
    },
  );

  test("syntactically invalid input: failures naming the properties, and no request", async () => {
    const given = news(cluster, { group: "not-a-uidp", renewAfter: "40d", colour: "blue" });
    const { result, requests } = await requestsDuring(cluster, () => checkConnection({}, given));
    expect(result.failures.map((f) => f.property).sort()).toEqual([
      "colour",
      "group",
      "renewAfter",
    ]);
    expect(result.inputs).toBe(given);
    expect(requests).toEqual([]);
  });
});

describe("a check deferred to diff (PULUMI_PARALLEL_DIFF)", () => {
  const cluster = at(env.clusters, 0);
  const recent = new RecentChecks();
  const pending = new PendingChecks(recent);
  const urn = "urn:pulumi:dev::fleet::pulumi-enforce:index:EnforceClusterConnection::conn";

  test("returns the last check's observations at once; diff gets the cluster's, which match", async () => {
    const previous = await checkConnection({}, news(cluster, { resourceUrn: urn }));
    const deferred = await checkConnection(previous.inputs, news(cluster, { resourceUrn: urn }), {
      defer: true,
    });
    expect(deferred.failures).toEqual([]);
    expect(deferred.inputs).toEqual(previous.inputs);
    expect(deferred.later).toBeDefined();
    pending.start(urn, deferred.inputs, deferred.later!);
    expect(await pending.settle(urn)).toEqual(previous.inputs);
    // The observations go on to the apply that follows, once.
    expect(recent.take(urn, deferred.inputs)?.clusterUid).toBe(
      observedOf(previous.inputs as CheckedInputs)?.clusterUid,
    );
    expect(await pending.settle(urn)).toBeUndefined();
  });

  test("without a last check, it does not defer", async () => {
    const first = await checkConnection({}, news(cluster), { defer: true });
    expect(first.later).toBeUndefined();
    expect(observedOf(first.inputs as CheckedInputs)).toBeDefined();
  });

  test("a failure the cluster checks find is thrown by diff, naming the input and the fix, with no credential", async () => {
    const previous = await checkConnection({}, news(cluster, { resourceUrn: urn }));
    const kubeconfig = parse(fs.readFileSync(cluster.kubeconfig, "utf8"));
    kubeconfig.clusters[0].cluster.server = "https://127.0.0.1:1";
    const contents = stringify(kubeconfig);
    const deferred = await checkConnection(
      previous.inputs,
      news(cluster, { resourceUrn: urn, kubeconfig: contents }),
      { defer: true },
    );
    expect(deferred.failures).toEqual([]);
    pending.start(urn, deferred.inputs, deferred.later!);
    const thrown = await pending.settle(urn).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(thrown).toBeInstanceOf(CheckFailedError);
    const message = (thrown as Error).message;
    expect(message).toMatch(
      /^the connection's check failed: kubeconfig: .*https:\/\/127\.0\.0\.1:1.*Fix:/,
    );
    expect(message).not.toContain(kubeconfig.users[0].user["client-key-data"]);
    expect(recent.take(urn, deferred.inputs)).toBeUndefined();
  });
});

describe("failure reasons never carry the kubeconfig", () => {
  const cluster = at(env.clusters, 0);
  const admin = parse(fs.readFileSync(cluster.kubeconfig, "utf8"));
  const clientKey: string = admin.users[0].user["client-key-data"];
  const clientCert: string = admin.users[0].user["client-certificate-data"];
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "provider-check-"))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("an unreachable API server: the failure is on kubeconfig, names the server, shows no credential", async () => {
    const kubeconfig = structuredClone(admin);
    kubeconfig.clusters[0].cluster.server = "https://127.0.0.1:1";
    const contents = stringify(kubeconfig);
    const { failures } = await checkConnection({}, news(cluster, { kubeconfig: contents }));
    expect(failures).toHaveLength(1);
    const failure = at(failures, 0);
    expect(failure.property).toBe("kubeconfig");
    expect(failure.reason).toContain("https://127.0.0.1:1");
    expect(failure.reason).toContain("Fix:");
    for (const secret of [clientKey, clientCert, contents]) {
      expect(failure.reason).not.toContain(secret);
    }
  });

  test("an exec plugin that fails printing its secret: the secret is redacted", async () => {
    const secret = `plugin-secret-${randomUUID()}`;
    const plugin = path.join(dir, "failing-plugin.js");
    fs.writeFileSync(
      plugin,
      `#!${process.execPath}\nprocess.stderr.write("login failed for " + process.env.PLUGIN_SECRET + "\\n");\nprocess.exit(1);\n`,
      { mode: 0o700 },
    );
    const kubeconfig = structuredClone(admin);
    kubeconfig.users = [
      {
        name: "exec-user",
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1",
            command: plugin,
            env: [{ name: "PLUGIN_SECRET", value: secret }],
            interactiveMode: "Never",
          },
        },
      },
    ];
    kubeconfig.contexts[0].context.user = "exec-user";
    const { failures } = await checkConnection(
      {},
      news(cluster, { kubeconfig: stringify(kubeconfig) }),
    );
    expect(failures).toHaveLength(1);
    const failure = at(failures, 0);
    expect(failure.property).toBe("kubeconfig");
    expect(failure.reason).toContain("login failed for [REDACTED]");
    expect(failure.reason).not.toContain(secret);
  });
});
