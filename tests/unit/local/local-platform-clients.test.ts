import { PlatformHttpError } from "../../../provider/platform";
import { AuditClient, IssuerClient } from "../../../local/platform";
import {
  GROUP,
  TOKEN,
  grpcError,
  json,
  recordingSleep,
  startServer,
  type Handler,
  type TestServer,
} from "../../support/platform-test-server";

/** The issuer and audit clients of the local environment, against a real server on loopback. */

const CLUSTER_ID = `${GROUP}/aaaabbbbccccdddd`;
const CLUSTER_TOKEN = "eyJhbGciOiJSUzI1NiJ9.cluster.sig";

let server: TestServer;
let closers: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  try {
    await Promise.all(closers.map((c) => c.close()));
  } finally {
    closers = [];
    await server?.close();
  }
});

function only(): (typeof server.requests)[number] {
  expect(server.requests).toHaveLength(1);
  return server.requests[0]!;
}

async function serveIssuer(handler: Handler): Promise<IssuerClient> {
  server = await startServer(handler);
  const issuer = new IssuerClient({
    issuerUrl: `${server.url}/`,
    timeoutMs: 2000,
    retry: { maxRetries: 0, sleep: recordingSleep().sleep },
  });
  closers.push(issuer);
  return issuer;
}

describe("IssuerClient calls", () => {
  test("register posts the body with the cluster token", async () => {
    const issuer = await serveIssuer((_req, res) =>
      json(res, 200, { identity: "id-1", group: GROUP, clusterId: CLUSTER_ID }),
    );
    const body = {
      code: "invite-code",
      remoteId: "r-1",
      clusterName: "prod",
      clusterDescription: "",
      identityId: `${GROUP}/01`,
    };
    await expect(issuer.register(CLUSTER_TOKEN, body)).resolves.toEqual({
      identity: "id-1",
      group: GROUP,
      clusterId: CLUSTER_ID,
    });
    const req = only();
    expect([req.method, req.url]).toEqual(["POST", "/auth/v1/register"]);
    expect(req.headers.authorization).toBe(`Bearer ${CLUSTER_TOKEN}`);
    expect(JSON.parse(req.body)).toEqual(body);
  });

  test("exchange and heartbeat", async () => {
    const issuer = await serveIssuer((req, res) =>
      req.url === "/sts/exchange"
        ? json(res, 200, { token: "platform-jwt" })
        : json(res, 200, { lastSeen: "2025-01-01T00:00:00Z" }),
    );
    const exchange = { aud: ["a"], scope: "s", identity: "id-1", cap: [] };
    await expect(issuer.exchange(CLUSTER_TOKEN, exchange)).resolves.toEqual({
      token: "platform-jwt",
    });
    await expect(issuer.heartbeat(CLUSTER_TOKEN, { clusterId: CLUSTER_ID })).resolves.toEqual({
      lastSeen: "2025-01-01T00:00:00Z",
    });
    expect(server.requests.map((r) => [r.method, r.url, JSON.parse(r.body)])).toEqual([
      ["POST", "/sts/exchange", exchange],
      ["POST", "/auth/v1/heartbeat", { clusterId: CLUSTER_ID }],
    ]);
    expect(
      server.requests.every((r) => r.headers.authorization === `Bearer ${CLUSTER_TOKEN}`),
    ).toBe(true);
  });

  test("discovery is anonymous", async () => {
    const doc = { issuer: "https://issuer.example", jwks_uri: "https://issuer.example/keys", x: 1 };
    const issuer = await serveIssuer((_req, res) => json(res, 200, doc));
    await expect(issuer.discovery()).resolves.toEqual(doc);
    const req = only();
    expect([req.method, req.url]).toEqual(["GET", "/.well-known/openid-configuration"]);
    expect(req.headers.authorization).toBeUndefined();
  });

  test("a refusal is the provider's PlatformHttpError, naming the call", async () => {
    const issuer = await serveIssuer((_req, res) => grpcError(res, 403, 7, "invite expired"));
    const err = await issuer
      .register(CLUSTER_TOKEN, {
        code: "c",
        remoteId: "r",
        clusterName: "n",
        clusterDescription: "",
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformHttpError);
    expect(err).toMatchObject({ code: "ERR_PLATFORM_HTTP", call: "register", statusCode: 403 });
    expect((err as Error).message).toMatch(
      /^register: the Enforce platform answered POST \/auth\/v1\/register with HTTP 403 \(PermissionDenied\): "invite expired"/,
    );
  });

  test("a malformed cluster token is refused before anything is sent", async () => {
    const issuer = await serveIssuer((_req, res) => json(res, 200, {}));
    await expect(issuer.heartbeat("has space", { clusterId: CLUSTER_ID })).rejects.toThrow(
      new TypeError(
        "clusterToken of heartbeat must be a non-empty token of visible ASCII characters",
      ),
    );
    expect(server.requests).toEqual([]);
  });

  test("a standalone IssuerClient closes its own connections", async () => {
    server = await startServer((_req, res) => json(res, 200, { issuer: "i", jwks_uri: "j" }));
    const own = new IssuerClient({ issuerUrl: server.url });
    await expect(own.discovery()).resolves.toMatchObject({ issuer: "i" });
    await own.close();
    await own.close(); // idempotent
  });
});

describe("AuditClient", () => {
  test("reads entries after a sequence number, with the platform token", async () => {
    const entry = {
      seq: "4",
      time: "2025-01-01T00:00:00Z",
      method: "GET",
      path: "/x",
      status: 200,
    };
    server = await startServer((_req, res) => json(res, 200, { items: [entry] }));
    const audit = new AuditClient({ apiUrl: server.url, token: TOKEN });
    closers.push(audit);
    await expect(audit.audit(3)).resolves.toEqual([{ ...entry, seq: 4 }]);
    const req = only();
    expect([req.method, req.url]).toEqual(["GET", "/_emulator/v1/audit?after=3"]);
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  test("misuse is a TypeError naming the argument", async () => {
    server = await startServer((_req, res) => json(res, 200, { items: [] }));
    expect(() => new AuditClient({ apiUrl: server.url, token: "" })).toThrow(
      new TypeError("options.token must be a non-empty token of visible ASCII characters"),
    );
    const audit = new AuditClient({ apiUrl: server.url, token: TOKEN });
    closers.push(audit);
    await expect(audit.audit(-1)).rejects.toThrow(
      new TypeError("after must be a non-negative integer, got -1"),
    );
    expect(server.requests).toEqual([]);
  });
});
