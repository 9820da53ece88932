import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import tls = require("node:tls");
import { join } from "node:path";
import { inspect } from "node:util";
import {
  PlatformClient,
  PlatformConfigError,
  platformClientFromConfig,
  readCaFile,
  resolvePlatformConfig,
} from "../../provider/platform";
import { IssuerClient } from "../../local/platform";
import {
  GROUP,
  TOKEN,
  freePort,
  grpcError,
  json,
  startServer,
  type TestServer,
} from "../support/platform-test-server";
import { makeCertificate } from "../support/test-pki";

const INVITE_CODE = "inv-3f9c2a7d1e8b4c6a";
const CLUSTER_TOKEN = "eyJhbGciOiJFUzI1NiJ9.c2EtdG9rZW4.c2ln";

let servers: TestServer[] = [];
let clients: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
  clients = [];
  servers = [];
});

function client(url: string, extra: { ca?: string } = {}): PlatformClient {
  const c = new PlatformClient({
    apiUrl: url,
    token: TOKEN,
    retry: { maxRetries: 1, sleep: async () => undefined },
    ...extra,
  });
  clients.push(c);
  return c;
}

/** Everything an error exposes: message, fields, cause, inspection. */
function exposed(err: unknown): string {
  return [
    String(err),
    JSON.stringify(err),
    JSON.stringify({ ...(err as object) }),
    inspect(err, { depth: 10, showHidden: true }),
  ].join("\n");
}

describe("credentials never appear in errors", () => {
  test("a platform message echoing the token is redacted", async () => {
    const server = await startServer((_req, res) =>
      grpcError(res, 401, 16, `token ${TOKEN} is revoked`, { "x-echo": `Bearer ${TOKEN}` }),
    );
    servers.push(server);
    const err = await client(server.url)
      .listClusters()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: "ERR_PLATFORM_HTTP",
      statusCode: 401,
      platformMessage: "token [REDACTED] is revoked",
    });
    expect((err as Error).message).toContain('"token [REDACTED] is revoked"');
    expect(exposed(err)).not.toContain(TOKEN);
  });

  test("register: neither the invite code nor the cluster token leaks", async () => {
    const server = await startServer((req, res) =>
      grpcError(res, 403, 7, `code ${INVITE_CODE} refused; request was ${req.body}`),
    );
    servers.push(server);
    const issuer = new IssuerClient({
      issuerUrl: server.url,
      retry: { maxRetries: 1, sleep: async () => undefined },
    });
    clients.push(issuer);
    const err = await issuer
      .register(CLUSTER_TOKEN, {
        code: INVITE_CODE,
        remoteId: "r",
        clusterName: "c",
        clusterDescription: "",
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ERR_PLATFORM_HTTP", call: "register", statusCode: 403 });
    expect((err as Error).message).toMatch(
      /^register: the Enforce platform answered POST \/auth\/v1\/register with HTTP 403 \(PermissionDenied\): "code \[REDACTED\] refused;/,
    );
    const text = exposed(err);
    expect(text).not.toContain(INVITE_CODE);
    expect(text).not.toContain(CLUSTER_TOKEN);
  });

  test("a createInvite answer that is not JSON is not quoted", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(`{"id":"x","code":"${INVITE_CODE}"`);
    });
    servers.push(server);
    const err = await client(server.url)
      .createInvite(GROUP, { ttlSeconds: 60 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ERR_PLATFORM_RESPONSE", problem: "it is not JSON" });
    const text = exposed(err);
    expect(text).not.toContain(INVITE_CODE);
    expect(text).not.toContain(TOKEN);
  });

  test("connection failures carry no credential", async () => {
    const port = await freePort();
    const err = await client(`http://127.0.0.1:${port}`)
      .createInvite(GROUP, { ttlSeconds: 60 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ERR_PLATFORM_UNREACHABLE", attempts: 2 });
    expect(exposed(err)).not.toContain(TOKEN);
  });

  test("a malformed token is refused without being quoted", () => {
    const bad = `${TOKEN}\n`;
    let err: unknown;
    try {
      resolvePlatformConfig({ "enforce:token": `a ${TOKEN}` }, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlatformConfigError);
    expect(exposed(err)).not.toContain(TOKEN);
    expect(() => new PlatformClient({ apiUrl: "https://x.example", token: bad })).toThrow(
      new TypeError("options.token must be a token of visible ASCII characters"),
    );
  });
});

describe("TLS with an extra CA", () => {
  let dir: string;
  let key: string;
  let cert: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "platform-tls-"));
    const made = makeCertificate({ cn: "enforce-emulator-test", ca: true, ips: ["127.0.0.1"] });
    writeFileSync(join(dir, "cert.pem"), made.cert);
    key = made.key;
    cert = readCaFile(join(dir, "cert.pem"));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function tlsServer(): Promise<TestServer> {
    const server = await startServer((_req, res) => json(res, 200, { items: [] }), {
      tls: { key, cert },
    });
    servers.push(server);
    return server;
  }

  test("trusted through ca", async () => {
    const server = await tlsServer();
    await expect(client(server.url, { ca: cert }).listClusters()).resolves.toEqual([]);
  });

  test("clients trusting the same CA share one TLS context, however many connections they open", async () => {
    // Node.js would otherwise build a context per connection, parsing every root certificate
    // again (about 0.9 MiB and 6 ms each): dozens in an `up` of a fleet.
    const server = await tlsServer();
    const built = jest.spyOn(tls, "createSecureContext");
    try {
      for (let i = 0; i < 3; i++) {
        // A client of its own each time, so a connection of its own.
        await expect(client(server.url, { ca: cert }).listClusters()).resolves.toEqual([]);
      }
      expect(built.mock.calls.length).toBeLessThanOrEqual(1);
    } finally {
      built.mockRestore();
    }
  });

  test("trusted through enforce:caFile", async () => {
    const server = await tlsServer();
    const config = resolvePlatformConfig(
      {
        "enforce:apiUrl": server.url,
        "enforce:caFile": join(dir, "cert.pem"),
        "enforce:token": TOKEN,
      },
      {},
    );
    const c = platformClientFromConfig(config, { retry: { maxRetries: 0 } });
    clients.push(c);
    await expect(c.listClusters()).resolves.toEqual([]);
  });

  test("untrusted: a TLS error that says how to trust the emulator's CA", async () => {
    const server = await tlsServer();
    const err = await client(server.url)
      .listClusters()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ERR_PLATFORM_UNREACHABLE", reason: "tls", attempts: 1 });
    expect((err as Error).message).toMatch(
      new RegExp(
        `^listClusters: the TLS certificate of ${server.url} \\(GET /tenant/v1/clusters\\) is not trusted \\([A-Z_]+: .+\\)\\. ` +
          "If this is the local emulator, trust its CA with `pulumi config set enforce:caFile <ca\\.pem>` " +
          "or ENFORCE_CA_FILE; otherwise check enforce:apiUrl \\(or ENFORCE_API_URL\\)\\.$",
      ),
    );
  });

  test("readCaFile names the setting when the file is missing or not PEM", () => {
    const missing = join(dir, "missing.pem");
    expect(() => readCaFile(missing)).toThrow(
      expect.objectContaining({
        code: "ERR_PLATFORM_CONFIG",
        key: "enforce:caFile",
        message:
          `enforce:caFile names ${missing}, which cannot be read (ENOENT). Set it to the PEM file ` +
          "of the CA to trust: `pulumi config set enforce:caFile <path>` or ENFORCE_CA_FILE.",
      }),
    );
    const notPem = join(dir, "not.pem");
    writeFileSync(notPem, "hello");
    expect(() => readCaFile(notPem)).toThrow(
      expect.objectContaining({
        code: "ERR_PLATFORM_CONFIG",
        message: expect.stringMatching(
          /^enforce:caFile names .*not\.pem, which holds no PEM certificate\./,
        ),
      }),
    );
  });
});
