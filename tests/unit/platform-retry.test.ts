import type { ServerResponse } from "node:http";
import {
  PlatformClient,
  PlatformHttpError,
  PlatformUnreachableError,
  backoffDelay,
  decideRetry,
  parseRetryAfter,
  retryPolicy,
  type RetryOptions,
} from "../../provider/platform";
import {
  GROUP,
  TOKEN,
  freePort,
  grpcError,
  json,
  recordingSleep,
  startServer,
  type Handler,
  type TestServer,
} from "../support/platform-test-server";

const IDENTITY = { id: `${GROUP}/0000000000000009`, name: "n" };
const IDENTITY_OPTIONS = {
  name: "n",
  issuer: "https://kubernetes.default.svc",
  subject: "system:serviceaccount:gulfstream:controller",
  issuerKeys: '{"keys":[]}',
  expiration: new Date("2025-02-01T00:00:00Z"),
};
const INVITE = { id: `${GROUP}/0000000000000001`, code: "invite-code-1" };

let servers: TestServer[] = [];
let clients: PlatformClient[] = [];
let delays: number[];

async function serve(handler: Handler): Promise<TestServer> {
  const server = await startServer(handler);
  servers.push(server);
  return server;
}

function connect(url: string, retry: RetryOptions = {}, timeoutMs = 2000): PlatformClient {
  const recorder = recordingSleep();
  delays = recorder.delays;
  const client = new PlatformClient({
    apiUrl: url,
    token: TOKEN,
    timeoutMs,
    retry: { random: () => 0.5, sleep: recorder.sleep, ...retry },
  });
  clients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
  clients = [];
  servers = [];
});

// Never answers: the request hangs until the client's timeout.
const hang = (): void => undefined;
const drop = (res: ServerResponse): void => void res.socket?.destroy();

describe("retries through undici's RetryHandler", () => {
  test("a 503 then success: retried once after a jittered backoff", async () => {
    const server = await serve((_req, res, n) =>
      n === 1 ? grpcError(res, 503, 14, "try later") : json(res, 200, { items: [] }),
    );
    await expect(connect(server.url).listClusters()).resolves.toEqual([]);
    expect(server.requests).toHaveLength(2);
    // random() = 0.5 of the first ceiling, 500 ms.
    expect(delays).toEqual([250]);
  });

  test("backoff doubles per attempt up to maxDelayMs", async () => {
    const server = await serve((_req, res, n) =>
      n <= 4 ? grpcError(res, 502, 14, "bad gateway") : json(res, 200, { items: [] }),
    );
    const client = connect(server.url, { baseDelayMs: 100, maxDelayMs: 300, random: () => 0.99 });
    await expect(client.listIdentities()).resolves.toEqual([]);
    expect(delays).toEqual([99, 198, 297, 297]);
  });

  test("a dropped connection then success, for a GET", async () => {
    const server = await serve((_req, res, n) => (n === 1 ? drop(res) : json(res, 200, {})));
    await expect(connect(server.url).listClusters()).resolves.toEqual([]);
    expect(server.requests).toHaveLength(2);
  });

  test("a dropped connection then success, for createInvite (safe to repeat)", async () => {
    const server = await serve((_req, res, n) => (n === 1 ? drop(res) : json(res, 200, INVITE)));
    await expect(connect(server.url).createInvite(GROUP, { ttlSeconds: 60 })).resolves.toEqual({
      ...INVITE,
      expiration: "",
      keyId: "",
      role: "",
    });
    expect(server.requests.map((r) => r.body)).toEqual(['{"ttl":"60s"}', '{"ttl":"60s"}']);
  });

  test("429 with Retry-After in seconds is honoured, even for a POST", async () => {
    const server = await serve((_req, res, n) =>
      n === 1
        ? grpcError(res, 429, 8, "slow down", { "retry-after": "2" })
        : json(res, 200, IDENTITY),
    );
    await expect(connect(server.url).createIdentity(GROUP, IDENTITY_OPTIONS)).resolves.toEqual({
      ...IDENTITY,
      description: "",
    });
    expect(server.requests).toHaveLength(2);
    expect(delays).toEqual([2000]);
  });

  test("Retry-After as an HTTP date counts from now() and is capped", async () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    const server = await serve((_req, res, n) => {
      if (n === 1) grpcError(res, 503, 14, "x", { "retry-after": "Wed, 01 Jan 2025 00:00:05 GMT" });
      else if (n === 2) grpcError(res, 503, 14, "x", { "retry-after": "3600" });
      else json(res, 200, {});
    });
    const client = connect(server.url, { now: () => now, maxRetryAfterMs: 7000 });
    await expect(client.listClusters()).resolves.toEqual([]);
    expect(delays).toEqual([5000, 7000]);
  });

  test("Retry-After delays a real wait (measured lower bound)", async () => {
    const server = await serve((_req, res, n) =>
      n === 1 ? grpcError(res, 503, 14, "x", { "retry-after": "0.2" }) : json(res, 200, {}),
    );
    const client = new PlatformClient({ apiUrl: server.url, token: TOKEN, retry: {} });
    clients.push(client);
    const started = performance.now();
    await client.listClusters();
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  test("gives up after the bound with an error naming the call, status and attempts", async () => {
    const server = await serve((_req, res) => grpcError(res, 503, 14, "the platform is down"));
    const err = await connect(server.url, { maxRetries: 2 })
      .createInvite(GROUP, { ttlSeconds: 60 })
      .catch((e: unknown) => e);
    expect(server.requests).toHaveLength(3);
    expect(err).toBeInstanceOf(PlatformHttpError);
    expect(err).toMatchObject({
      code: "ERR_PLATFORM_HTTP",
      name: "PlatformHttpError",
      call: "createInvite",
      statusCode: 503,
      grpcCode: 14,
      platformMessage: "the platform is down",
      attempts: 3,
    });
    expect((err as Error).message).toBe(
      `createInvite: the Enforce platform answered POST /iam/v1/group_invites/${GROUP} with ` +
        'HTTP 503 (Unavailable) after 3 attempts: "the platform is down". ' +
        "The platform is failing or unavailable; run again later.",
    );
  });

  test.each([
    [400, 3, "InvalidArgument"],
    [401, 16, "Unauthenticated"],
    [403, 7, "PermissionDenied"],
    [404, 5, "NotFound"],
    [409, 6, "AlreadyExists"],
    [412, 9, "FailedPrecondition"],
  ])("never retries HTTP %i", async (status, grpc, name) => {
    const server = await serve((_req, res) => grpcError(res, status, grpc, "no"));
    const err = await connect(server.url)
      .listClusters({ name: "x" })
      .catch((e: unknown) => e);
    expect(server.requests).toHaveLength(1);
    expect(delays).toEqual([]);
    expect(err).toMatchObject({ code: "ERR_PLATFORM_HTTP", statusCode: status, attempts: 1 });
    expect((err as Error).message).toMatch(
      new RegExp(
        `^listClusters: the Enforce platform answered GET /tenant/v1/clusters\\?name=x with HTTP ${status} \\(${name}\\): "no"\\. `,
      ),
    );
  });

  test("a 401 tells how to set a fresh token", async () => {
    const server = await serve((_req, res) => grpcError(res, 401, 16, "token expired"));
    await expect(connect(server.url).listClusters()).rejects.toThrow(
      'listClusters: the Enforce platform answered GET /tenant/v1/clusters with HTTP 401 (Unauthenticated): "token expired". ' +
        "The platform token was not accepted (expired, revoked or for another platform); " +
        "set a fresh one with `pulumi config set --secret enforce:token <token>` or ENFORCE_TOKEN.",
    );
  });
});

describe("non-idempotent POSTs", () => {
  test("createIdentity is not retried after a reset once sent", async () => {
    const server = await serve((_req, res) => drop(res));
    const err = await connect(server.url)
      .createIdentity(GROUP, IDENTITY_OPTIONS)
      .catch((e: unknown) => e);
    expect(server.requests).toHaveLength(1);
    expect(err).toBeInstanceOf(PlatformUnreachableError);
    expect(err).toMatchObject({
      code: "ERR_PLATFORM_UNREACHABLE",
      call: "createIdentity",
      reason: "connection",
      attempts: 1,
    });
    expect((err as PlatformUnreachableError).causeCode).toMatch(/^(UND_ERR_SOCKET|ECONNRESET)$/);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^createIdentity: could not reach the Enforce platform at ${server.url} \\(POST /iam/v1/identities/${GROUP}\\) \\((UND_ERR_SOCKET|ECONNRESET): .+\\)\\. Check that enforce:apiUrl \\(or ENFORCE_API_URL\\) is right and the platform is reachable from here\\.$`,
      ),
    );
  });

  test("createIdentity is not retried on a 500 but createInvite is", async () => {
    const server = await serve((_req, res, n) =>
      n === 2 ? json(res, 200, INVITE) : grpcError(res, 500, 13, "boom"),
    );
    const client = connect(server.url);
    await expect(client.createInvite(GROUP, { ttlSeconds: 60 })).resolves.toMatchObject(INVITE);
    await expect(client.createIdentity(GROUP, IDENTITY_OPTIONS)).rejects.toMatchObject({
      statusCode: 500,
      attempts: 1,
    });
    expect(server.requests.map((r) => r.url)).toEqual([
      `/iam/v1/group_invites/${GROUP}`,
      `/iam/v1/group_invites/${GROUP}`,
      `/iam/v1/identities/${GROUP}`,
    ]);
  });

  test("createIdentity is retried when the connection was refused (never sent)", async () => {
    const port = await freePort();
    const recorder = recordingSleep();
    let server: TestServer | undefined;
    const client = new PlatformClient({
      apiUrl: `http://127.0.0.1:${port}`,
      token: TOKEN,
      retry: {
        random: () => 0,
        // The platform comes up while the client waits to retry.
        sleep: async (ms) => {
          await recorder.sleep(ms);
          server ??= await startServer((_req, res) => json(res, 200, IDENTITY), { port });
          servers.push(server);
        },
      },
    });
    clients.push(client);
    await expect(client.createIdentity(GROUP, IDENTITY_OPTIONS)).resolves.toMatchObject(IDENTITY);
    expect(recorder.delays).toEqual([0]);
    expect(server?.requests).toHaveLength(1);
  });

  test("connection refused every time: unreachable after the bound", async () => {
    const port = await freePort();
    const client = connect(`http://127.0.0.1:${port}`, { maxRetries: 1 });
    const err = await client.listClusters().catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: "ERR_PLATFORM_UNREACHABLE",
      reason: "connection",
      causeCode: "ECONNREFUSED",
      attempts: 2,
    });
    expect((err as Error).message).toMatch(
      new RegExp(
        `^listClusters: could not reach the Enforce platform at http://127\\.0\\.0\\.1:${port} \\(GET /tenant/v1/clusters\\) after 2 attempts \\(ECONNREFUSED: .*\\)\\. Check that enforce:apiUrl`,
      ),
    );
    expect((err as Error).cause).toMatchObject({ code: "ECONNREFUSED" });
  });
});

describe("timeouts", () => {
  test("no answer within timeoutMs: a timeout error naming the call", async () => {
    const server = await serve(hang);
    const err = await connect(server.url, { maxRetries: 0 }, 100)
      .listClusters()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformUnreachableError);
    expect(err).toMatchObject({
      code: "ERR_PLATFORM_UNREACHABLE",
      reason: "timeout",
      causeCode: "UND_ERR_HEADERS_TIMEOUT",
    });
    expect((err as Error).message).toBe(
      `listClusters: no answer from the Enforce platform at ${server.url} (GET /tenant/v1/clusters) ` +
        "within 100 ms (UND_ERR_HEADERS_TIMEOUT). Check that enforce:apiUrl (or ENFORCE_API_URL) " +
        "points at a running platform, or raise the client's timeoutMs.",
    );
  });

  test("a GET that timed out is retried", async () => {
    const server = await serve((_req, res, n) => (n === 1 ? hang() : json(res, 200, {})));
    await expect(connect(server.url, {}, 100).listClusters()).resolves.toEqual([]);
    expect(server.requests).toHaveLength(2);
  });

  test("a createIdentity that timed out is not retried", async () => {
    const server = await serve(hang);
    await expect(
      connect(server.url, {}, 100).createIdentity(GROUP, IDENTITY_OPTIONS),
    ).rejects.toMatchObject({ reason: "timeout", attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  test("a body that stalls after the headers times out without a Range retry", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      res.write('{"items":');
    });
    const err = await connect(server.url, {}, 100)
      .listClusters()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "timeout", causeCode: "UND_ERR_BODY_TIMEOUT" });
    expect(server.requests).toHaveLength(1);
  });
});

describe("retry policy", () => {
  const policy = retryPolicy({ random: () => 0.5, now: () => 0 });
  const get = { call: "c", method: "GET", safeToRepeat: false };
  const post = { call: "c", method: "POST", safeToRepeat: false };

  test("statuses and error codes", () => {
    expect(decideRetry({ statusCode: 503 }, 1, post, policy)).toEqual({
      retry: true,
      delayMs: 250,
      reason: "HTTP 503",
    });
    expect(decideRetry({ statusCode: 502 }, 1, post, policy)).toEqual({
      retry: false,
      reason: "HTTP 502 to a POST that may have taken effect",
    });
    expect(
      decideRetry({ statusCode: 502 }, 1, { ...post, safeToRepeat: true }, policy),
    ).toMatchObject({ retry: true });
    expect(decideRetry({ statusCode: 409 }, 1, get, policy)).toEqual({
      retry: false,
      reason: "HTTP 409 is final",
    });
    expect(decideRetry({ code: "ECONNRESET" }, 1, post, policy)).toEqual({
      retry: false,
      reason: "ECONNRESET after a POST may have been sent",
    });
    expect(decideRetry({ code: "UND_ERR_CONNECT_TIMEOUT" }, 1, post, policy)).toMatchObject({
      retry: true,
    });
    expect(decideRetry({ code: "EPROTO" }, 1, get, policy)).toEqual({
      retry: false,
      reason: "EPROTO is not transient",
    });
    const aggregate = Object.assign(new AggregateError([{ code: "ECONNREFUSED" }]), {});
    expect(decideRetry(aggregate, 1, post, policy)).toMatchObject({ retry: true });
    expect(decideRetry({ statusCode: 503 }, 5, get, policy)).toEqual({
      retry: false,
      reason: "HTTP 503; no retries left after 5 attempts",
    });
  });

  test("Retry-After parsing", () => {
    expect(parseRetryAfter("3", 0)).toBe(3000);
    expect(parseRetryAfter(["1.5"], 0)).toBe(1500);
    expect(parseRetryAfter("Thu, 01 Jan 1970 00:00:02 GMT", 500)).toBe(1500);
    expect(parseRetryAfter("Thu, 01 Jan 1970 00:00:02 GMT", 9000)).toBe(0);
    expect(parseRetryAfter("soon", 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });

  test("full jitter stays below the ceiling", () => {
    const p = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, p))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelay(3, retryPolicy({ random: () => 0 }))).toBe(0);
  });

  test("bad options are TypeErrors naming the option", () => {
    expect(() => retryPolicy({ maxRetries: -1 })).toThrow(
      new TypeError("retry.maxRetries must be a non-negative integer, got -1"),
    );
  });
});
