import { randomUUID, generateKeyPairSync, sign } from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { parse, stringify } from "yaml";
import { CHECK_REQUEST_TIMEOUT_MS } from "../../provider/checks/cluster-checks";
import { EXEC_PLUGIN_TIMEOUT_MS } from "../../provider/kube/exec-deadline";
import { checkConnection } from "../../provider/lifecycle/check-connection";
import type { CheckFailure } from "../../provider/inputs";
import { runPulumiEnforce } from "../support/bin";
import { eventually, kubectl, sharedEnv } from "../support/env";
import { at } from "../support/fixture";
import { makeCertificate, type TestCert } from "../support/test-pki";

/**
 * Bad and hostile kubeconfigs: each is refused by `check` (and by `pulumi-enforce doctor`) within a
 * bound of seconds, with a reason that names the input at fault and the fix, no stack trace and no
 * credential. The bounds are correctness bounds (a refusal, never a hang), each the deadline the
 * provider sets plus slack for a shared machine. Against the shared environment's cluster-1 and
 * servers on loopback that misbehave on purpose.
 */

const env = sharedEnv();
const cluster = at(env.clusters, 0);
const GROUP = "0123456789abcdef0123456789abcdef01234567";
/** What a refusal without network waits (none) or a refused connection costs, with slack. */
const QUICK_MS = 5_000;
/** Slack over a deadline the provider sets. */
const SLACK_MS = 5_000;

type Kubeconfig = {
  clusters: Array<{ name: string; cluster: Record<string, unknown> }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
  users: Array<{ name: string; user: Record<string, unknown> }>;
  [key: string]: unknown;
};
const adminText = fs.readFileSync(cluster.kubeconfig, "utf8");
const admin = parse(adminText) as Kubeconfig;
const adminUser = at(admin.users, 0).user;
/** Every credential of the admin kubeconfig: none may show in a reason. */
const ADMIN_SECRETS = [adminUser["client-key-data"], adminUser["client-certificate-data"]].filter(
  (s): s is string => typeof s === "string",
);

/** The admin kubeconfig with `change` applied to a copy; as YAML text. */
function variant(change: (k: Kubeconfig) => void): string {
  const copy = structuredClone(admin);
  change(copy);
  return stringify(copy);
}

/** The admin kubeconfig's cluster with another user (the one context uses it). */
function withUser(user: Record<string, unknown>): string {
  return variant((k) => {
    k.users = [{ name: "hostile-user", user }];
    at(k.contexts, 0).context.user = "hostile-user";
  });
}

/** A kubeconfig for `server`, trusting `ca` (PEM), with the admin's credentials. */
function pointingAt(server: string, ca?: string): string {
  return variant((k) => {
    const c = at(k.clusters, 0).cluster;
    c.server = server;
    if (ca) c["certificate-authority-data"] = Buffer.from(ca).toString("base64");
  });
}

interface Refusal {
  failures: CheckFailure[];
  elapsedMs: number;
}

/** `check` of a new connection with this kubeconfig (and context), timed. */
async function check(kubeconfig: string, extra: Record<string, unknown> = {}): Promise<Refusal> {
  const started = Date.now();
  const { failures } = await checkConnection(
    {},
    { resourceName: "conn", kubeconfig, group: GROUP, ...extra },
  );
  return { failures, elapsedMs: Date.now() - started };
}

/** How the cluster checks' failures give their fix. */
const FIX = /\. Fix: \S/;
/** How input validation's failures give theirs: the last sentence, saying what to pass. */
const PASS_FIX = /kubectl config view --raw --minify" prints a complete one\.$/;

/** The one failure, on `property`, within `boundMs`, with its `fix`, quoting nothing secret. */
function expectRefused(
  refusal: Refusal,
  property: "kubeconfig" | "context",
  boundMs: number,
  { fix = FIX, secrets = [] }: { fix?: RegExp; secrets?: string[] } = {},
): string {
  expect(refusal.failures).toHaveLength(1);
  const failure = at(refusal.failures, 0);
  expect(failure.property).toBe(property);
  expect(refusal.elapsedMs).toBeLessThan(boundMs);
  expect(failure.reason).toMatch(fix);
  expect(failure.reason).not.toMatch(/\n\s+at /);
  for (const secret of [...ADMIN_SECRETS, ...secrets]) expect(failure.reason).not.toContain(secret);
  return failure.reason;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Listens on loopback; resolves with the port. Connections are kept so that close ends them. */
async function listen(server: net.Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => sockets.add(s));
  servers.push({ server, sockets });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}
const servers: Array<{ server: net.Server; sockets: Set<net.Socket> }> = [];
afterAll(async () => {
  for (const { server, sockets } of servers) {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A throwaway CA and a certificate for 127.0.0.1 it signed. */
function makePki(cn: string): { ca: TestCert; server: TestCert } {
  const ca = makeCertificate({ cn, ca: true, keyUsage: ["keyCertSign", "cRLSign"] });
  const server = makeCertificate(
    { cn: "127.0.0.1", ca: false, serverAuth: true, ips: ["127.0.0.1"] },
    ca,
  );
  return { ca, server };
}

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "hostile-kubeconfigs-"))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("a malformed kubeconfig is refused without a request", () => {
  test("not YAML: refused on kubeconfig, naming the contents, not quoting them", async () => {
    const text = `${adminText}\n{ not: yaml: [`;
    const reason = expectRefused(await check(text), "kubeconfig", QUICK_MS, { fix: PASS_FIX });
    expect(reason).toContain("The kubeconfig contents could not be parsed as YAML or JSON");
  });

  test.each([
    ["a YAML map", "colour: blue\nsize: 3\n", "has no 'clusters'"],
    ["a YAML list", "- a\n- b\n", "it holds a list, not a mapping"],
    ["no contexts", "apiVersion: v1\nkind: Config\nclusters: []\n", "has no 'contexts'"],
  ])("YAML but not a kubeconfig (%s): refused on kubeconfig", async (_what, text, says) => {
    const reason = expectRefused(await check(text), "kubeconfig", QUICK_MS, { fix: PASS_FIX });
    expect(reason).toContain(says);
  });

  test("a context that does not exist: refused on context, listing those that do", async () => {
    const refusal = await check(adminText, { context: "no-such-context" });
    const fix = /Pass one of those as 'context'\.$/;
    const reason = expectRefused(refusal, "context", QUICK_MS, { fix });
    expect(reason).toContain(`Context "no-such-context" is not in the kubeconfig`);
    expect(reason).toContain(at(admin.contexts, 0).name);
  });

  test.each([
    ["cluster", (k: Kubeconfig) => (at(k.contexts, 0).context.cluster = "ghost-cluster")],
    ["user", (k: Kubeconfig) => (at(k.contexts, 0).context.user = "ghost-user")],
  ])(
    "a context naming a %s the kubeconfig does not define: refused on kubeconfig",
    async (what, change) => {
      const fix = /Fix the kubeconfig, or pass another 'context' \(available: "[^"]+"\)\.$/;
      const reason = expectRefused(await check(variant(change)), "kubeconfig", QUICK_MS, { fix });
      expect(reason).toContain(`not in the kubeconfig's ${what}s`);
    },
  );

  test.each([
    [
      "no contexts",
      "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
      "defines no context",
    ],
    [
      "a context naming a missing user",
      variant((k) => (at(k.contexts, 0).context.user = "ghost-user")),
      'names user "ghost-user"',
    ],
  ])(
    "doctor, given a file with %s: exit 2, the refusal named, no stack trace",
    async (_what, text, says) => {
      const file = path.join(dir, `bad-${randomUUID()}.yaml`);
      fs.writeFileSync(file, text, { mode: 0o600 });
      const run = await runPulumiEnforce(["doctor", "--kubeconfig", file]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(says);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      for (const secret of ADMIN_SECRETS) expect(run.stdout + run.stderr).not.toContain(secret);
    },
  );
});

describe("a server that is not there or does not answer is refused within a bound", () => {
  const silentBound = CHECK_REQUEST_TIMEOUT_MS + SLACK_MS;
  const silentSeconds = `did not answer within ${CHECK_REQUEST_TIMEOUT_MS / 1000} s`;

  test("a closed port: refused at once, naming the server", async () => {
    const server = `https://127.0.0.1:${await closedPort()}`;
    const reason = expectRefused(await check(pointingAt(server)), "kubeconfig", QUICK_MS);
    expect(reason).toContain(`cannot reach the Kubernetes API server at ${server}`);
    expect(reason).toContain("connection refused");
  });

  test("a server that accepts TCP and never answers: refused within the check's deadline", async () => {
    const port = await listen(net.createServer(() => undefined));
    const reason = expectRefused(
      await check(pointingAt(`https://127.0.0.1:${port}`)),
      "kubeconfig",
      silentBound,
    );
    expect(reason).toContain(silentSeconds);
  });

  test("a server that completes TLS and never answers HTTP: refused within the check's deadline", async () => {
    const { ca, server } = makePki("silent-https-ca");
    const port = await listen(tls.createServer({ cert: server.cert, key: server.key }));
    const reason = expectRefused(
      await check(pointingAt(`https://127.0.0.1:${port}`, ca.cert)),
      "kubeconfig",
      silentBound,
    );
    expect(reason).toContain(silentSeconds);
  });

  test("a certificate of another CA: refused, and no request reaches the server's HTTP layer", async () => {
    const trusted = makePki("the-kubeconfig-ca");
    const other = makePki("another-ca");
    let requests = 0;
    const server = https.createServer(
      { cert: other.server.cert, key: other.server.key },
      (_, res) => {
        requests += 1;
        res.end("{}");
      },
    );
    const port = await listen(server);
    const reason = expectRefused(
      await check(pointingAt(`https://127.0.0.1:${port}`, trusted.ca.cert)),
      "kubeconfig",
      QUICK_MS,
    );
    expect(reason).toContain("TLS certificate is not trusted");
    expect(requests).toBe(0);
  });
});

describe("credentials the API server refuses", () => {
  test("a random bearer token: refused (401), quoting no token", async () => {
    const token = `hostile-${randomUUID()}`;
    const refusal = await check(withUser({ token }));
    const reason = expectRefused(refusal, "kubeconfig", QUICK_MS, { secrets: [token] });
    expect(reason).toContain("credentials were refused (401 Unauthorized)");
  });

  test("an expired service account token signed by a key the API server does not trust: refused (401)", async () => {
    const token = untrustedExpiredToken(cluster.issuer);
    const refusal = await check(withUser({ token }));
    const reason = expectRefused(refusal, "kubeconfig", QUICK_MS, { secrets: [token] });
    expect(reason).toContain("credentials were refused (401 Unauthorized)");
  });
});

describe("credentials without the rights the install needs", () => {
  const name = `hostile-limited-${randomUUID().slice(0, 8)}`;
  const k = (args: string[], input?: string) => kubectl(env, cluster.kubeconfig, args, input);
  let token: string;

  beforeAll(async () => {
    // What the checks need, and what the install needs of ConfigMaps and Secrets: not CRDs,
    // webhooks or anything else.
    const role = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name },
      rules: [
        { apiGroups: [""], resources: ["namespaces"], verbs: ["get", "list"] },
        { apiGroups: [""], resources: ["pods", "serviceaccounts/token"], verbs: ["create"] },
        {
          apiGroups: [""],
          resources: ["configmaps", "secrets"],
          verbs: ["create", "patch", "get", "delete", "list"],
        },
      ],
    };
    await k(["apply", "-f", "-"], JSON.stringify(role));
    await k(["-n", "default", "create", "serviceaccount", name]);
    await k([
      "create",
      "clusterrolebinding",
      name,
      `--clusterrole=${name}`,
      `--serviceaccount=default:${name}`,
    ]);
    token = (await k(["-n", "default", "create", "token", name, "--duration=10m"])).trim();
  });
  afterAll(async () => {
    await k(["delete", "clusterrolebinding", name, "--ignore-not-found"]);
    await k(["delete", "clusterrole", name, "--ignore-not-found"]);
    await k(["-n", "default", "delete", "serviceaccount", name, "--ignore-not-found"]);
  });

  test("check names each right missing, from SelfSubjectAccessReviews, and only those", async () => {
    const refusal = await check(withUser({ token }));
    const reason = expectRefused(refusal, "kubeconfig", QUICK_MS, { secrets: [token] });
    expect(reason).toContain("SelfSubjectAccessReview denied");
    // Every verb on what the role does not mention; on Namespaces, what it lacks.
    for (const missing of [
      "create, patch, delete namespaces (cluster-wide)",
      "create, patch, get, delete, list customresourcedefinitions.apiextensions.k8s.io (cluster-wide)",
      "create, patch, get, delete, list validatingwebhookconfigurations.admissionregistration.k8s.io (cluster-wide)",
      "create, patch, get, delete statefulsets.apps in namespace gulfstream",
      "create, patch, get, delete roles.rbac.authorization.k8s.io in namespace cosign-system",
      "list statefulsets.apps (cluster-wide)",
    ]) {
      expect(reason).toContain(missing);
    }
    expect(reason).not.toMatch(/configmaps|secrets/);
    expect(reason).toContain("cluster-admin");
  });

  test("doctor names them too, and fails", async () => {
    const file = path.join(dir, "limited.yaml");
    fs.writeFileSync(file, withUser({ token }), { mode: 0o600 });
    const run = await runPulumiEnforce(["doctor", "--kubeconfig", file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("Problem (installRights)");
    expect(run.stdout).toContain("customresourcedefinitions.apiextensions.k8s.io (cluster-wide)");
    expect(run.stdout + run.stderr).not.toContain(token);
  });
});

describe("exec credential plugins", () => {
  test("a plugin that fails: refused at once, its stderr shown with its secret redacted", async () => {
    const secret = `plugin-secret-${randomUUID()}`;
    const plugin = path.join(dir, "failing-plugin.js");
    fs.writeFileSync(
      plugin,
      `#!${process.execPath}\nprocess.stderr.write("login failed for " + process.env.PLUGIN_SECRET + "\\n");\nprocess.exit(1);\n`,
      { mode: 0o700 },
    );
    const kubeconfig = withUser({
      exec: {
        apiVersion: "client.authentication.k8s.io/v1",
        command: plugin,
        env: [{ name: "PLUGIN_SECRET", value: secret }],
        interactiveMode: "Never",
      },
    });
    const refusal = await check(kubeconfig);
    const reason = expectRefused(refusal, "kubeconfig", QUICK_MS, { secrets: [secret] });
    expect(reason).toContain("login failed for [REDACTED]");
  });

  test("a plugin that never answers: refused within the plugin's deadline, naming it; it is stopped", async () => {
    const pids = path.join(dir, "hanging-plugin.pids");
    const plugin = path.join(dir, "hanging-plugin.js");
    fs.writeFileSync(
      plugin,
      `#!${process.execPath}\nrequire("node:fs").appendFileSync(${JSON.stringify(pids)}, process.pid + "\\n");\nsetInterval(() => {}, 1000);\n`,
      { mode: 0o700 },
    );
    const secret = `plugin-arg-${randomUUID()}`;
    const kubeconfig = withUser({
      exec: {
        apiVersion: "client.authentication.k8s.io/v1",
        command: plugin,
        args: ["--token-for", secret],
        interactiveMode: "Never",
      },
    });
    const refusal = await check(kubeconfig);
    const reason = expectRefused(refusal, "kubeconfig", EXEC_PLUGIN_TIMEOUT_MS + SLACK_MS, {
      secrets: [secret],
    });
    expect(reason).toContain(`exec credential plugin "${plugin}" did not answer within`);
    expect(reason).toContain("it was stopped");
    // Every run of the plugin (one per request sent at once) is gone.
    const started = fs.readFileSync(pids, "utf8").trim().split("\n").map(Number);
    expect(started.length).toBeGreaterThan(0);
    await eventually("the plugin's processes to end", async () =>
      started.every((pid) => !alive(pid)) ? true : undefined,
    );
  }, 60_000);
});

describe("doctor refuses them too", () => {
  test("a malformed kubeconfig: exit 2, the file named, no stack trace", async () => {
    const file = path.join(dir, "malformed.yaml");
    fs.writeFileSync(file, "{ not: yaml: [");
    const run = await runPulumiEnforce(["doctor", "--kubeconfig", file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`cannot load ${file}`);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  test("a server that never answers: exit 1 within the deadline, saying so", async () => {
    const port = await listen(net.createServer(() => undefined));
    const file = path.join(dir, "silent.yaml");
    fs.writeFileSync(file, pointingAt(`https://127.0.0.1:${port}`), { mode: 0o600 });
    const started = Date.now();
    const run = await runPulumiEnforce(["doctor", "--kubeconfig", file]);
    expect(Date.now() - started).toBeLessThan(CHECK_REQUEST_TIMEOUT_MS + SLACK_MS);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`did not answer within ${CHECK_REQUEST_TIMEOUT_MS / 1000} s`);
    for (const secret of ADMIN_SECRETS) expect(run.stdout + run.stderr).not.toContain(secret);
    expect(run.stdout + run.stderr).not.toMatch(/\n\s+at /);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A service account token for `issuer`, expired an hour ago, signed by a key made here: what a
 * stale token from another cluster looks like. The API server cannot verify it: 401.
 */
function untrustedExpiredToken(issuer: string): string {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const header = b64({ alg: "ES256", kid: "untrusted", typ: "JWT" });
  const payload = b64({
    iss: issuer,
    aud: [issuer],
    sub: "system:serviceaccount:kube-system:default",
    iat: now - 7200,
    nbf: now - 7200,
    exp: now - 3600,
  });
  const signature = sign("sha256", Buffer.from(`${header}.${payload}`), {
    key: privateKey,
    dsaEncoding: "ieee-p1363",
  }).toString("base64url");
  return `${header}.${payload}.${signature}`;
}
