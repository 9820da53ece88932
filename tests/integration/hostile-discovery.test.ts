import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type * as http from "node:http";
import { parse, stringify } from "yaml";
import { checkConnection } from "../../provider/lifecycle/check-connection";
import { kubectl, repoRoot, sharedEnv } from "../support/env";
import { at } from "../support/fixture";
import { startJwksProxy, type JwksProxy, type JwksRoute } from "../support/jwks-proxy";

/**
 * `check` and `pulumi-enforce doctor` end to end against the shared environment's real API
 * server, behind a proxy that answers the API server's key set (`GET /openid/v1/jwks`, read with
 * the kubeconfig's credentials) with a broken or hostile one. Every other request reaches the
 * API server. Each is refused within seconds, naming the input and the fix, with no credential.
 * The anonymous issuer probe meets the same documents in tests/unit/checks-hostile-discovery.
 */

const env = sharedEnv();
const cluster = at(env.clusters, 0);
const GROUP = "0123456789abcdef0123456789abcdef01234567";
const admin = parse(fs.readFileSync(cluster.kubeconfig, "utf8"));
const CLIENT_KEY: string = admin.users[0].user["client-key-data"];
const CLIENT_CERT: string = admin.users[0].user["client-certificate-data"];
const MiB = 1024 * 1024;

let proxy: JwksProxy;
let dir: string;
let kubeconfigFile: string;
let realJwks: { keys: Array<Record<string, unknown>> };

beforeAll(async () => {
  proxy = await startJwksProxy({
    server: cluster.apiServer,
    ca: fs.readFileSync(cluster.caFile, "utf8"),
    cert: Buffer.from(CLIENT_CERT, "base64").toString("utf8"),
    key: Buffer.from(CLIENT_KEY, "base64").toString("utf8"),
  });
  const kubeconfig = structuredClone(admin);
  kubeconfig.clusters[0].cluster = {
    server: proxy.url,
    "certificate-authority-data": Buffer.from(proxy.caPem).toString("base64"),
  };
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostile-discovery-"));
  kubeconfigFile = path.join(dir, "kubeconfig");
  fs.writeFileSync(kubeconfigFile, stringify(kubeconfig), { mode: 0o600 });
  realJwks = JSON.parse(
    await kubectl(env, cluster.kubeconfig, ["get", "--raw", "/openid/v1/jwks"]),
  );
});
afterAll(async () => {
  await proxy?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(() => (proxy.route = undefined));

const serveJson =
  (body: unknown): JwksRoute =>
  (res) =>
    void res
      .writeHead(200, { "content-type": "application/jwk-set+json" })
      .end(JSON.stringify(body));

/** `total` bytes, as fast as the client reads; counts what went out in `sent`. */
function hugeBody(total: number, sent: { bytes: number }): JwksRoute {
  return (res: http.ServerResponse) => {
    res.writeHead(200, { "content-type": "application/jwk-set+json" });
    const chunk = Buffer.alloc(64 * 1024, " ");
    const pump = (): void => {
      while (sent.bytes < total && !res.destroyed) {
        sent.bytes += chunk.length;
        if (!res.write(chunk)) return void res.once("drain", pump);
      }
      if (!res.destroyed) res.end();
    };
    res.write('{"keys":[');
    pump();
  };
}

/** `check` of a connection to the cluster through the proxy: its failures and how long it took. */
async function check() {
  const start = Date.now();
  const { failures } = await checkConnection(
    {},
    {
      __provider: "serialized provider text",
      resourceName: "conn",
      kubeconfig: fs.readFileSync(kubeconfigFile, "utf8"),
      group: GROUP,
    },
  );
  const ms = Date.now() - start;
  for (const failure of failures) {
    for (const secret of [CLIENT_KEY, CLIENT_CERT]) expect(failure.reason).not.toContain(secret);
    expect(failure.reason).not.toMatch(/\n\s+at /); // no stack trace
  }
  return { failures, ms };
}

describe("check through a proxy that answers the API server's key set itself", () => {
  test("passed through unchanged, the check passes: the proxy alone changes nothing", async () => {
    expect((await check()).failures).toEqual([]);
  });

  test("a 50 MiB key set: refused on kubeconfig at 1 MiB, within seconds", async () => {
    const sent = { bytes: 0 };
    proxy.route = hugeBody(50 * MiB, sent);
    const { failures, ms } = await check();
    expect(failures).toHaveLength(1);
    expect(at(failures, 0).property).toBe("kubeconfig");
    expect(at(failures, 0).reason).toMatch(
      /^the API server's key set is unusable: GET \/openid\/v1\/jwks answered more than 1 MiB, which is no key set\. Fix: .*kubectl get --raw \/openid\/v1\/jwks/,
    );
    expect(sent.bytes).toBeLessThan(8 * MiB);
    expect(ms).toBeLessThan(10_000);
  });

  test("a key set that is not JSON: refused on kubeconfig, saying so", async () => {
    proxy.route = (res) => void res.writeHead(200).end("<html>sign in</html>");
    const { failures } = await check();
    expect(failures).toHaveLength(1);
    expect(at(failures, 0)).toMatchObject({
      property: "kubeconfig",
      reason: expect.stringContaining(
        "the API server's key set is unusable: the answer of GET /openid/v1/jwks is not a JSON object",
      ),
    });
  });

  test("duplicate kids: refused on connectivity, naming the kid", async () => {
    proxy.route = serveJson({ keys: [...realJwks.keys, ...realJwks.keys] });
    const { failures } = await check();
    expect(failures).toHaveLength(1);
    const kid = String(realJwks.keys[0]?.kid);
    expect(at(failures, 0)).toMatchObject({
      property: "connectivity",
      reason: expect.stringContaining(`lists key id ${kid} more than once`),
    });
  });

  test('a key with alg "none": refused on connectivity', async () => {
    proxy.route = serveJson({ keys: realJwks.keys.map((k) => ({ ...k, alg: "none" })) });
    const { failures } = await check();
    expect(failures).toHaveLength(1);
    expect(at(failures, 0)).toMatchObject({
      property: "connectivity",
      reason: expect.stringContaining('alg "none", which the platform refuses'),
    });
  });

  test("a key set that trickles a byte every 100 ms: refused at the 10 s deadline", async () => {
    proxy.route = (res) => {
      res.writeHead(200, { "content-type": "application/jwk-set+json" });
      const timer = setInterval(() => res.write(" "), 100);
      res.on("close", () => clearInterval(timer));
    };
    const { failures, ms } = await check();
    expect(failures).toHaveLength(1);
    expect(at(failures, 0)).toMatchObject({
      property: "kubeconfig",
      reason: expect.stringMatching(
        /^the API server's key set is unusable: GET \/openid\/v1\/jwks did not answer within 10 s\. Fix: /,
      ),
    });
    expect(ms).toBeGreaterThanOrEqual(10_000);
    expect(ms).toBeLessThan(15_000);
  }, 30_000);
});

describe("pulumi-enforce doctor through the same proxy", () => {
  const run = promisify(execFile);

  test("a 50 MiB key set: doctor fails within seconds, naming the check and the fix", async () => {
    proxy.route = hugeBody(50 * MiB, { bytes: 0 });
    const start = Date.now();
    const res = await run(process.execPath, [
      path.join(repoRoot, "bin/pulumi-enforce.js"),
      "doctor",
      "--kubeconfig",
      kubeconfigFile,
      "--json",
    ]).then(
      () => ({ code: 0, stdout: "" }),
      (err: { code: number; stdout: string }) => err,
    );
    expect(res.code).toBe(1);
    expect(Date.now() - start).toBeLessThan(15_000);
    const report = JSON.parse(res.stdout);
    expect(report.problems).toEqual([
      expect.objectContaining({
        check: "issuerDiscovery",
        property: "kubeconfig",
        reason:
          "the API server's key set is unusable: GET /openid/v1/jwks answered more than 1 MiB, which is no key set",
      }),
    ]);
    expect(res.stdout).not.toContain(CLIENT_KEY);
  });
});
