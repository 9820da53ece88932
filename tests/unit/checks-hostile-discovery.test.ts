import type * as http from "node:http";
import * as net from "node:net";
import { probeAnonymousDiscovery, type AnonymousOptions } from "../../provider/checks/anonymous";
import { readServerKeys } from "../../provider/checks/api-server-checks";
import { verifyClusterToken } from "../../provider/checks/token-verification";
import { KubeClient, MAX_ANSWER_BYTES } from "../../provider/kube/client";
import { KubeResponseTooLargeError } from "../../provider/kube/errors";
import { startServer, type Recorded, type TestServer } from "../support/platform-test-server";
import { makeCertificate } from "../support/test-pki";

/**
 * The anonymous discovery probe of `check` against issuers that misbehave: real HTTPS servers on
 * loopback serving broken or hostile discovery documents and key sets. Each is refused with a
 * reason, within the probe's deadline, reading no more than its bound. The server plays the API
 * server's own origin, the one origin the probe trusts the cluster's CA for. The API server's own
 * key set, read with credentials, is bounded the same way (the last block).
 */

const DOC_PATH = "/.well-known/openid-configuration";
const JWKS_PATH = "/openid/v1/jwks";
/** The probe's deadline in these tests; the default is 5 s. */
const TIMEOUT_MS = 1500;

const ca = makeCertificate({ cn: "hostile-issuer-ca", ca: true, keyUsage: ["keyCertSign"] });
const leaf = makeCertificate(
  { cn: "127.0.0.1", ca: false, serverAuth: true, ips: ["127.0.0.1"] },
  ca,
);

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

type Route = (res: http.ServerResponse, server: TestServer) => void;

/** An https issuer on loopback answering each path with its route; 404 elsewhere. */
async function issuerServing(routes: Record<string, Route>): Promise<TestServer> {
  // Requests arrive once `server` is assigned: startServer resolves when it listens.
  const server: TestServer = await startServer(
    (req: Recorded, res) => {
      const route = routes[req.url];
      if (!route) return void res.writeHead(404).end();
      route(res, server);
    },
    { tls: { key: leaf.key, cert: leaf.cert } },
  );
  servers.push(server);
  return server;
}

const sendJson =
  (body: unknown): Route =>
  (res) =>
    void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));

const sendText =
  (text: string): Route =>
  (res) =>
    void res.writeHead(200, { "content-type": "application/json" }).end(text);

/** A valid discovery document of `server`, naming `jwksUri` (its own JWKS by default). */
const validDoc =
  (jwksUri?: string): Route =>
  (res, server) =>
    sendJson({ issuer: server.url, jwks_uri: jwksUri ?? `${server.url}${JWKS_PATH}` })(res, server);

/** Counts what a route sent, for the bounded-read assertions. */
interface Sent {
  bytes: number;
}

/** `total` bytes of a JSON string, written as fast as the client reads them. */
function hugeBody(total: number, sent: Sent): Route {
  return (res) => {
    res.writeHead(200, { "content-type": "application/json" });
    const chunk = Buffer.alloc(64 * 1024, "a");
    const pump = (): void => {
      while (sent.bytes < total && !res.destroyed) {
        sent.bytes += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      if (!res.destroyed) res.end();
    };
    res.write('{"keys":"');
    pump();
  };
}

/** One byte every 100 ms, forever (until the client goes away). */
const trickle: Route = (res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.write("{");
  const timer = setInterval(() => res.write(" "), 100);
  res.on("close", () => clearInterval(timer));
};

function probe(server: TestServer, extra: Partial<AnonymousOptions> = {}) {
  return probeAnonymousDiscovery(server.url, {
    apiServer: server.url,
    clusterCa: ca.cert,
    keys: true,
    timeoutMs: TIMEOUT_MS,
    ...extra,
  });
}

/** Runs `action` and returns its result with how long it took. */
async function timed<T>(action: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = Date.now();
  const result = await action();
  return { result, ms: Date.now() - start };
}

const MiB = 1024 * 1024;

describe("a hostile or broken discovery document is refused with a reason", () => {
  test("malformed JSON: not reachable, the answer is not JSON", async () => {
    const server = await issuerServing({ [DOC_PATH]: sendText('{"issuer": "https://') });
    expect(await probe(server)).toEqual({
      reachable: false,
      status: 200,
      detail: "the answer is not JSON",
    });
  });

  test("a 50 MiB document: the read stops at 1 MiB, within the deadline", async () => {
    const sent: Sent = { bytes: 0 };
    const server = await issuerServing({ [DOC_PATH]: hugeBody(50 * MiB, sent) });
    const { result, ms } = await timed(() => probe(server));
    expect(result).toMatchObject({ reachable: false, detail: "the answer is larger than 1 MiB" });
    expect(ms).toBeLessThan(TIMEOUT_MS);
    // What the server got out before the probe hung up: the bound plus socket buffers, not 50 MiB.
    expect(sent.bytes).toBeLessThan(8 * MiB);
  });

  test("a server that trickles a byte every 100 ms forever: timed out at the deadline", async () => {
    const server = await issuerServing({ [DOC_PATH]: trickle });
    const { result, ms } = await timed(() => probe(server));
    expect(result).toMatchObject({
      reachable: false,
      detail: `no complete answer within ${TIMEOUT_MS} ms`,
    });
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(ms).toBeLessThan(TIMEOUT_MS + 1000);
  });

  test("a server that accepts TCP and never answers (not even the TLS handshake): the deadline", async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const url = `https://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    try {
      const { result, ms } = await timed(() =>
        probeAnonymousDiscovery(url, { apiServer: url, clusterCa: ca.cert, timeoutMs: TIMEOUT_MS }),
      );
      expect(result).toEqual({
        reachable: false,
        detail: `no complete answer within ${TIMEOUT_MS} ms`,
      });
      expect(ms).toBeLessThan(TIMEOUT_MS + 1000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test("an http issuer is not fetched", async () => {
    const server = await issuerServing({ [DOC_PATH]: validDoc() });
    const issuer = server.url.replace("https:", "http:");
    expect(await probeAnonymousDiscovery(issuer, { apiServer: server.url })).toEqual({
      reachable: false,
      detail: `the issuer "${issuer}" is not an https URL`,
    });
    expect(server.requests).toHaveLength(0);
  });

  test("a redirect to itself is not followed: one request, the status and where it pointed", async () => {
    const server = await issuerServing({
      [DOC_PATH]: (res, self) =>
        void res.writeHead(301, { location: `${self.url}${DOC_PATH}` }).end(),
    });
    const { result, ms } = await timed(() => probe(server));
    expect(result).toEqual({
      reachable: false,
      status: 301,
      detail: `HTTP 301, a redirect to ${server.url}${DOC_PATH}, which is not followed (the platform does not follow redirects either)`,
    });
    expect(ms).toBeLessThan(TIMEOUT_MS);
    expect(server.requests.filter((r) => r.url === DOC_PATH)).toHaveLength(1);
  });

  test("a redirect to another host is not followed, and its query is not shown", async () => {
    const other = await issuerServing({ [DOC_PATH]: validDoc() });
    const server = await issuerServing({
      [DOC_PATH]: (res) =>
        void res.writeHead(302, { location: `${other.url}${DOC_PATH}?token=s3cr3t` }).end(),
    });
    const result = await probe(server);
    expect(result.detail).toBe(
      `HTTP 302, a redirect to ${other.url}${DOC_PATH}, which is not followed (the platform does not follow redirects either)`,
    );
    expect(other.requests).toHaveLength(0);
  });

  test("an issuer of 100 KB in the document: refused, and the reason stays short", async () => {
    const server = await issuerServing({
      [DOC_PATH]: sendJson({ issuer: `https://${"x".repeat(100_000)}`, jwks_uri: "https://a/" }),
    });
    const result = await probe(server);
    expect(result.reachable).toBe(false);
    expect(result.detail.length).toBeLessThan(300);
    expect(result.detail).toMatch(/^the document names issuer "https:\/\/x{50,}\.\.\.", not "/);
  });
});

describe("a hostile or broken key set (jwks_uri) is refused with a reason", () => {
  test("malformed JSON: the document is public, its keys are not JSON", async () => {
    const server = await issuerServing({ [DOC_PATH]: validDoc(), [JWKS_PATH]: sendText("{keys") });
    const result = await probe(server);
    expect(result.reachable).toBe(true);
    expect(result.keys).toEqual({
      uri: `${server.url}${JWKS_PATH}`,
      detail: "the answer is not JSON",
    });
  });

  test("a 50 MiB key set: the read stops at 1 MiB, within the deadline", async () => {
    const sent: Sent = { bytes: 0 };
    const server = await issuerServing({
      [DOC_PATH]: validDoc(),
      [JWKS_PATH]: hugeBody(50 * MiB, sent),
    });
    const { result, ms } = await timed(() => probe(server));
    expect(result.keys).toEqual({
      uri: `${server.url}${JWKS_PATH}`,
      detail: "the answer is larger than 1 MiB",
    });
    expect(ms).toBeLessThan(TIMEOUT_MS);
    expect(sent.bytes).toBeLessThan(8 * MiB);
  });

  test("a key set that trickles forever: timed out at the deadline", async () => {
    const server = await issuerServing({ [DOC_PATH]: validDoc(), [JWKS_PATH]: trickle });
    const { result, ms } = await timed(() => probe(server));
    expect(result.keys?.detail).toBe(`no complete answer within ${TIMEOUT_MS} ms`);
    expect(ms).toBeLessThan(TIMEOUT_MS + 1000);
  });

  test("an http jwks_uri is not fetched", async () => {
    const server = await issuerServing({ [DOC_PATH]: validDoc("http://127.0.0.1:9/jwks") });
    const result = await probe(server);
    expect(result.keys).toEqual({
      uri: "http://127.0.0.1:9/jwks",
      detail: 'its jwks_uri "http://127.0.0.1:9/jwks" is not an https URL',
    });
  });

  test("a jwks_uri redirecting to itself: one request, not followed", async () => {
    const server = await issuerServing({
      [DOC_PATH]: validDoc(),
      [JWKS_PATH]: (res, self) =>
        void res.writeHead(307, { location: `${self.url}${JWKS_PATH}` }).end(),
    });
    const result = await probe(server);
    expect(result.keys?.detail).toBe(
      `HTTP 307, a redirect to ${server.url}${JWKS_PATH}, which is not followed (the platform does not follow redirects either)`,
    );
    expect(server.requests.filter((r) => r.url === JWKS_PATH)).toHaveLength(1);
  });

  test("a jwks_uri of 1 MiB less a little: refused as too long, and neither reason nor uri carry it", async () => {
    const uri = `https://127.0.0.1/${"k".repeat(MiB - 100)}`;
    const server = await issuerServing({ [DOC_PATH]: validDoc(uri) });
    const result = await probe(server);
    expect(result.keys?.detail.length).toBeLessThan(300);
    expect(result.keys?.uri.length).toBeLessThan(300);
    expect(result.keys?.detail).toMatch(
      /^its jwks_uri "https:\/\/127\.0\.0\.1\/k+\.\.\." is longer than 2048 characters$/,
    );
  });
});

describe("a key set that is read but hostile is refused by the verification", () => {
  /** A token signed with `alg`, and the anonymous key set `keys` served by a loopback issuer. */
  async function verifyAgainstServed(keys: (jwk: object) => unknown[], tokenAlg = "RS256") {
    const jose = await import("jose");
    const { privateKey, publicKey } = await jose.generateKeyPair("RS256");
    const jwk = { ...(await jose.exportJWK(publicKey)), kid: "kid-1", alg: "RS256", use: "sig" };
    const server = await issuerServing({
      [DOC_PATH]: validDoc(),
      [JWKS_PATH]: sendJson({ keys: keys(jwk) }),
    });
    const token =
      tokenAlg === "none"
        ? [
            { alg: "none", kid: "kid-1" },
            { iss: server.url, aud: "gulfstream", exp: 2e9 },
          ]
            .map((part) => Buffer.from(JSON.stringify(part)).toString("base64url"))
            .join(".") + "."
        : await new jose.SignJWT({})
            .setProtectedHeader({ alg: tokenAlg, kid: "kid-1" })
            .setIssuer(server.url)
            .setAudience("gulfstream")
            .setExpirationTime("10m")
            .sign(privateKey);
    const probed = await probe(server);
    expect(probed.reachable).toBe(true);
    return verifyClusterToken({
      token,
      issuer: server.url,
      jwks: probed.keys?.jwks,
      keySource: "anonymous",
      jwksUri: probed.keys?.uri,
      audience: "gulfstream",
    });
  }

  test("duplicate kids", async () => {
    const result = await verifyAgainstServed((jwk) => [jwk, jwk]);
    expect(result).toMatchObject({
      ok: false,
      problem: { check: "tokenSignature", property: "connectivity" },
    });
    expect(!result.ok && result.problem.reason).toMatch(/lists key id kid-1 more than once$/);
  });

  test('a key with alg "none"', async () => {
    const result = await verifyAgainstServed((jwk) => [{ ...jwk, alg: "none" }]);
    expect(!result.ok && result.problem.reason).toContain(
      'has key kid-1, which has alg "none", which the platform refuses',
    );
  });

  test('a token with alg "none"', async () => {
    const result = await verifyAgainstServed((jwk) => [jwk], "none");
    expect(!result.ok && result.problem.reason).toContain(
      'the token the cluster issues is signed with alg "none", which the platform refuses',
    );
  });

  test("a key set of 2,000 keys under 1 MiB is judged within 3 s", async () => {
    const { result, ms } = await timed(() =>
      verifyAgainstServed((jwk) =>
        Array.from({ length: 2000 }, (_, i) => ({ ...jwk, kid: `kid-${i + 1}` })),
      ),
    );
    expect(result.ok).toBe(true);
    expect(ms).toBeLessThan(3000);
  });
});

describe("the API server's key set, read with the kubeconfig's credentials, is bounded", () => {
  const TOKEN = "kube-token-5d1c9e0f7a2b";
  const clients: KubeClient[] = [];
  afterEach(() => clients.splice(0).forEach((c) => c.close()));

  /** A client of `server` with a bearer token, as a kubeconfig gives it. */
  async function clientOf(server: TestServer): Promise<KubeClient> {
    const kubeconfig = JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "c",
          cluster: {
            server: server.url,
            "certificate-authority-data": Buffer.from(ca.cert).toString("base64"),
          },
        },
      ],
      users: [{ name: "u", user: { token: TOKEN } }],
      contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
      "current-context": "x",
    });
    const client = await KubeClient.load({ kubeconfig });
    clients.push(client);
    return client;
  }

  test("a 50 MiB key set: refused on kubeconfig at 1 MiB, within 3 s, no credential shown", async () => {
    const sent: Sent = { bytes: 0 };
    const server = await issuerServing({ [JWKS_PATH]: hugeBody(50 * MiB, sent) });
    const { result, ms } = await timed(async () => readServerKeys(await clientOf(server)));
    expect(result).toEqual({
      problem: {
        check: "issuerDiscovery",
        property: "kubeconfig",
        reason:
          "the API server's key set is unusable: GET /openid/v1/jwks answered more than 1 MiB, which is no key set",
        remedy: expect.stringContaining("kubectl get --raw /openid/v1/jwks"),
      },
    });
    expect(ms).toBeLessThan(3000);
    expect(sent.bytes).toBeLessThan(8 * MiB);
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  test("a key set that is not JSON: refused on kubeconfig, saying so", async () => {
    const server = await issuerServing({ [JWKS_PATH]: sendText("<html>login</html>") });
    const result = await readServerKeys(await clientOf(server));
    expect("problem" in result && result.problem.reason).toBe(
      "the API server's key set is unusable: the answer of GET /openid/v1/jwks is not a JSON object",
    );
  });

  test("a request with a deadline ends at it, however the server trickles its answer", async () => {
    const server = await issuerServing({ [JWKS_PATH]: trickle });
    const client = await clientOf(server);
    const { result, ms } = await timed(() =>
      client.get(JWKS_PATH, { timeoutMs: TIMEOUT_MS }).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(result).toMatchObject({
      code: "ERR_KUBE_UNREACHABLE",
      message: expect.stringContaining(
        `GET ${JWKS_PATH} did not answer within ${TIMEOUT_MS / 1000} s`,
      ),
    });
    expect(ms).toBeLessThan(TIMEOUT_MS + 1000);
  });

  test("any answer over the client's bound (64 MiB) is refused with a coded error", async () => {
    const sent: Sent = { bytes: 0 };
    const server = await issuerServing({ "/api/v1/namespaces": hugeBody(100 * MiB, sent) });
    const client = await clientOf(server);
    const err = await client.get("/api/v1/namespaces").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KubeResponseTooLargeError);
    expect(err).toMatchObject({
      code: "ERR_KUBE_TOO_LARGE",
      call: "GET /api/v1/namespaces",
      limitBytes: MAX_ANSWER_BYTES,
      message: expect.stringMatching(
        /^GET \/api\/v1\/namespaces: the answer from https:\/\/127\.0\.0\.1:\d+ is larger than 64 MiB, .*Check that the kubeconfig's server address/,
      ),
    });
    expect(sent.bytes).toBeLessThan(MAX_ANSWER_BYTES + 8 * MiB);
  });
});
