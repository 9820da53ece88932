import {
  PlatformClient,
  PlatformConfigError,
  PlatformHttpError,
  PlatformResponseError,
  type Cluster,
} from "../../provider/platform";
import {
  GROUP,
  ROOT,
  TOKEN,
  grpcError,
  json,
  recordingSleep,
  startServer,
  type Handler,
  type TestServer,
} from "../support/platform-test-server";
import { at } from "../support/fixture";

const CLUSTER_ID = `${GROUP}/aaaabbbbccccdddd`;
const CLUSTER: Cluster = {
  id: CLUSTER_ID,
  remoteId: "6a1c9f6e-2d0b-4a3e-9c57-1f0e2d3c4b5a",
  issuer: "https://kubernetes.default.svc",
  registered: "2025-01-02T03:04:05Z",
  lastSeen: "2025-01-02T04:04:05Z",
  version: "v1.31.0",
  agentVersion: "v0.9.0",
  name: "prod-eu",
  description: "production",
  group: GROUP,
  profiles: ["observer", "enforcer"],
  enforcerOptions: {
    webhookFailOpen: false,
    enableCipCache: true,
    namespaceEnforcementMode: "OptOut",
  },
  identityId: "",
};

let server: TestServer;
let client: PlatformClient;

async function serve(handler: Handler, token: string | null = TOKEN): Promise<void> {
  server = await startServer(handler);
  client = new PlatformClient({
    apiUrl: server.url,
    token: token ?? undefined,
    timeoutMs: 2000,
    retry: { maxRetries: 0, sleep: recordingSleep().sleep },
  });
}

afterEach(async () => {
  try {
    await client?.close();
  } finally {
    await server?.close();
  }
});

function only(): (typeof server.requests)[number] {
  expect(server.requests).toHaveLength(1);
  return server.requests[0]!;
}

describe("PlatformClient calls", () => {
  test("createInvite posts the ttl and role and returns the invite", async () => {
    const invite = {
      id: `${GROUP}/0000000000000001`,
      expiration: "2025-01-01T00:10:00Z",
      keyId: "k1",
      role: "viewer",
      code: "invite-code-secret",
    };
    await serve((_req, res) => json(res, 200, invite));
    await expect(client.createInvite(GROUP, { ttlSeconds: 600, role: "viewer" })).resolves.toEqual(
      invite,
    );
    const req = only();
    expect(req.method).toBe("POST");
    expect(req.url).toBe(`/iam/v1/group_invites/${GROUP}`);
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({ ttl: "600s", role: "viewer" });
  });

  test("createInvite leaves role out when not given", async () => {
    await serve((_req, res) => json(res, 200, { id: `${GROUP}/01`, code: "c" }));
    const invite = await client.createInvite(GROUP, { ttlSeconds: 60 });
    expect(JSON.parse(only().body)).toEqual({ ttl: "60s" });
    expect(invite).toEqual({ id: `${GROUP}/01`, code: "c", expiration: "", keyId: "", role: "" });
  });

  test("deleteInvite deletes by id, and answers false on 404", async () => {
    await serve((_req, res, n) =>
      n === 1 ? json(res, 200, {}) : grpcError(res, 404, 5, "invite not found"),
    );
    const id = `${GROUP}/0000000000000001`;
    await expect(client.deleteInvite(id)).resolves.toBe(true);
    await expect(client.deleteInvite(id)).resolves.toBe(false);
    expect(server.requests.map((r) => [r.method, r.url])).toEqual([
      ["DELETE", `/iam/v1/group_invites/${id}`],
      ["DELETE", `/iam/v1/group_invites/${id}`],
    ]);
  });

  test("createIdentity sends static keys with the JWKS as a string", async () => {
    const jwks = { keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y", kid: "k" }] };
    const identity = {
      id: `${GROUP}/9999888877776666`,
      name: "prod-eu",
      description: "",
      static: {
        issuer: "https://kubernetes.default.svc",
        subject: "system:serviceaccount:gulfstream:controller",
        issuerKeys: JSON.stringify(jwks),
        expiration: "2025-02-01T00:00:00.000Z",
      },
    };
    await serve((_req, res) => json(res, 200, identity));
    const created = await client.createIdentity(GROUP, {
      name: "prod-eu",
      issuer: identity.static.issuer,
      subject: identity.static.subject,
      issuerKeys: jwks,
      expiration: new Date("2025-02-01T00:00:00Z"),
    });
    expect(created).toEqual(identity);
    const req = only();
    expect([req.method, req.url]).toEqual(["POST", `/iam/v1/identities/${GROUP}`]);
    expect(JSON.parse(req.body)).toEqual({
      name: "prod-eu",
      description: "",
      static: identity.static,
    });
  });

  test("listIdentities passes id and uidp.childrenOf", async () => {
    await serve((_req, res) => json(res, 200, { items: [{ id: `${GROUP}/01`, name: "a" }] }));
    await expect(client.listIdentities({ id: `${GROUP}/01`, childrenOf: GROUP })).resolves.toEqual([
      { id: `${GROUP}/01`, name: "a", description: "" },
    ]);
    const url = new URL(only().url, server.url);
    expect(url.pathname).toBe("/iam/v1/identities");
    expect([...url.searchParams]).toEqual([
      ["id", `${GROUP}/01`],
      ["uidp.childrenOf", GROUP],
    ]);
  });

  test("deleteIdentity deletes by id, false on 404", async () => {
    await serve((_req, res) => grpcError(res, 404, 5, "no such identity"));
    await expect(client.deleteIdentity(`${GROUP}/01`)).resolves.toBe(false);
    expect([only().method, only().url]).toEqual(["DELETE", `/iam/v1/identities/${GROUP}/01`]);
  });

  test("listClusters passes every filter and fills omitted zero values", async () => {
    await serve((_req, res) =>
      json(res, 200, { items: [{ id: CLUSTER_ID, name: "prod-eu", extra: { kept: true } }] }),
    );
    const clusters = await client.listClusters({
      id: CLUSTER_ID,
      remoteId: "r-1",
      name: "prod eu",
      childrenOf: GROUP,
      descendantsOf: ROOT,
    });
    expect(clusters).toEqual([
      {
        id: CLUSTER_ID,
        name: "prod-eu",
        extra: { kept: true },
        remoteId: "",
        issuer: "",
        registered: "",
        lastSeen: "",
        version: "",
        agentVersion: "",
        description: "",
        group: "",
        profiles: [],
        enforcerOptions: {
          webhookFailOpen: false,
          enableCipCache: false,
          namespaceEnforcementMode: "OptIn",
        },
        identityId: "",
      },
    ]);
    const url = new URL(only().url, server.url);
    expect(url.pathname).toBe("/tenant/v1/clusters");
    expect([...url.searchParams]).toEqual([
      ["id", CLUSTER_ID],
      ["remoteId", "r-1"],
      ["name", "prod eu"],
      ["uidp.childrenOf", GROUP],
      ["uidp.descendantsOf", ROOT],
    ]);
  });

  test("listClusters without filters sends no query and reads an empty answer", async () => {
    await serve((_req, res) => json(res, 200, {}));
    await expect(client.listClusters()).resolves.toEqual([]);
    expect(only().url).toBe("/tenant/v1/clusters");
  });

  test("updateCluster puts the whole cluster and returns the platform's copy", async () => {
    await serve((req, res) => json(res, 200, JSON.parse(req.body)));
    const changed = { ...CLUSTER, name: "renamed" };
    await expect(client.updateCluster(changed)).resolves.toEqual(changed);
    const req = only();
    expect([req.method, req.url]).toEqual(["PUT", `/tenant/v1/clusters/${CLUSTER_ID}`]);
    expect(JSON.parse(req.body)).toEqual(changed);
  });

  test("deleteCluster: true, then false once gone; other errors throw", async () => {
    await serve((_req, res, n) =>
      at(
        [
          () => json(res, 200, {}),
          () => grpcError(res, 404, 5, "cluster not found"),
          () => grpcError(res, 412, 9, "cluster still has an agent"),
        ],
        n - 1,
      )(),
    );
    await expect(client.deleteCluster(CLUSTER_ID)).resolves.toBe(true);
    await expect(client.deleteCluster(CLUSTER_ID)).resolves.toBe(false);
    const err = await client.deleteCluster(CLUSTER_ID).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformHttpError);
    expect(err).toMatchObject({ code: "ERR_PLATFORM_HTTP", call: "deleteCluster", grpcCode: 9 });
    expect((err as Error).message).toBe(
      `deleteCluster: the Enforce platform answered DELETE /tenant/v1/clusters/${CLUSTER_ID} with ` +
        `HTTP 412 (FailedPrecondition): "cluster still has an agent". ` +
        "A precondition of the call does not hold; see the platform's message.",
    );
    expect(server.requests.map((r) => r.url)).toEqual(
      Array(3).fill(`/tenant/v1/clusters/${CLUSTER_ID}`),
    );
  });

  test("ids keep their slashes and have each segment encoded", async () => {
    await serve((_req, res) => json(res, 200, {}));
    await client.deleteCluster(`${ROOT}/a b`);
    expect(only().url).toBe(`/tenant/v1/clusters/${ROOT}/a%20b`);
  });
});

describe("misuse and bad answers", () => {
  test("an API call without a token fails before sending anything", async () => {
    await serve((_req, res) => json(res, 200, {}), null);
    const err = await client.listClusters().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformConfigError);
    expect(err).toMatchObject({
      code: "ERR_PLATFORM_CONFIG",
      name: "PlatformConfigError",
      key: "enforce:token",
      envVar: "ENFORCE_TOKEN",
    });
    expect((err as Error).message).toBe(
      "enforce:token is not set (nor ENFORCE_TOKEN), and listClusters needs a platform token. " +
        "Set it with `pulumi config set --secret enforce:token <token>` or export ENFORCE_TOKEN; " +
        "for the local emulator the token is in the ready.json written by `enforce-local up`.",
    );
    expect(server.requests).toHaveLength(0);
  });

  test("bad arguments are TypeErrors naming the argument", async () => {
    await serve((_req, res) => json(res, 200, {}));
    await expect(client.createInvite(GROUP, { ttlSeconds: 0 })).rejects.toThrow(
      new TypeError("options.ttlSeconds must be an integer from 1 to 604800 (168h), got 0"),
    );
    await expect(client.deleteCluster(`${ROOT}//x`)).rejects.toThrow(
      new TypeError(
        `id must be a UIDP like "<root>/<segment>", without empty or dot segments; got "${ROOT}//x"`,
      ),
    );
    await expect(
      client.createIdentity(GROUP, {
        name: "n",
        issuer: "i",
        subject: "s",
        issuerKeys: "{}",
        expiration: new Date("nope"),
      }),
    ).rejects.toThrow(new TypeError("options.expiration must be a valid Date"));
    expect(server.requests).toHaveLength(0);
    expect(() => new PlatformClient({ apiUrl: "http://example.com", token: TOKEN })).toThrow(
      new TypeError(
        'options.apiUrl must use https unless the host is a loopback address (got "http://example.com")',
      ),
    );
    expect(() => new PlatformClient({ apiUrl: server.url, timeoutMs: -1 })).toThrow(
      new TypeError("options.timeoutMs must be a positive integer, got -1"),
    );
  });

  test("a 2xx body of the wrong shape is a PlatformResponseError without the body", async () => {
    await serve((_req, res) => json(res, 200, { id: `${GROUP}/01` }));
    const err = await client.createInvite(GROUP, { ttlSeconds: 60 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformResponseError);
    expect(err).toMatchObject({ code: "ERR_PLATFORM_RESPONSE", call: "createInvite" });
    expect((err as Error).message).toBe(
      `createInvite: the Enforce platform answered POST /iam/v1/group_invites/${GROUP} with ` +
        "HTTP 200 but the body is not what this client expects (body.code is missing). The URL " +
        "may point at something other than the platform, or the platform's API changed.",
    );
  });

  test("a list item of the wrong type is named by its index", async () => {
    await serve((_req, res) => json(res, 200, { items: [{ id: "x" }, { id: 7 }] }));
    await expect(client.listClusters()).rejects.toMatchObject({
      code: "ERR_PLATFORM_RESPONSE",
      problem: "items[1].id is not a string",
    });
  });
});
