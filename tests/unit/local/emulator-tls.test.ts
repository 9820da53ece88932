import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunningEmulator } from "../../../local/emulator";
import {
  call,
  Clock,
  ClusterKey,
  FakeIssuer,
  removeTempDirs,
  serviceAccountToken,
  startTestEmulator,
  tempDir,
} from "../../support/emulator-fixtures";

interface Pki {
  ca: string;
  key: string;
  cert: string;
}

/** A throwaway CA and a server certificate for 127.0.0.1, made with the openssl CLI. */
function makePki(): Pki {
  const dir = tempDir();
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    at("ca.key"),
    "-out",
    at("ca.crt"),
    "-days",
    "2",
    "-subj",
    "/CN=emulator-test-ca",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  openssl("req", ...ec, "-keyout", at("srv.key"), "-out", at("srv.csr"), "-subj", "/CN=127.0.0.1");
  writeFileSync(
    at("ext"),
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  openssl(
    "x509",
    "-req",
    "-in",
    at("srv.csr"),
    "-CA",
    at("ca.crt"),
    "-CAkey",
    at("ca.key"),
    "-CAcreateserial",
    "-out",
    at("srv.crt"),
    "-days",
    "2",
    "-extfile",
    at("ext"),
  );
  const read = (name: string) => readFileSync(at(name), "utf8");
  return { ca: read("ca.crt"), key: read("srv.key"), cert: read("srv.crt") };
}

let pki: Pki;
let clock: Clock;
let issuer: FakeIssuer;
const key = new ClusterKey();
const started: RunningEmulator[] = [];

beforeAll(() => {
  pki = makePki();
});

beforeEach(async () => {
  clock = new Clock();
  issuer = await new FakeIssuer(key).start({ key: pki.key, cert: pki.cert });
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.close()));
  await issuer.close();
});

afterAll(removeTempDirs);

async function emulator(trustedCAs: string[]): Promise<RunningEmulator> {
  const emu = await startTestEmulator(clock, {
    tls: { key: pki.key, cert: pki.cert },
    trustedCAs,
    allowInsecureIssuers: false,
  });
  started.push(emu);
  return emu;
}

async function registerWith(emu: RunningEmulator) {
  const invite = await call(emu.url, "POST", `/iam/v1/group_invites/${emu.rootGroup}`, {
    token: emu.token,
    body: {},
    ca: pki.ca,
  });
  return call(emu.url, "POST", "/auth/v1/register", {
    token: await serviceAccountToken(key, { issuer: issuer.url, clock }),
    body: { code: invite.json.code, remoteId: "r", clusterName: "n" },
    ca: pki.ca,
  });
}

describe("TLS", () => {
  it("serves HTTPS with the given key and certificate", async () => {
    const emu = await emulator([]);
    expect(emu.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const doc = await call(emu.url, "GET", "/.well-known/openid-configuration", { ca: pki.ca });
    expect(doc.json.issuer).toBe(emu.url);
  });

  it("refuses an issuer whose CA it was not given, saying so", async () => {
    const res = await registerWith(await emulator([]));
    expect(res.status).toBe(401);
    expect(res.json.message).toMatch(
      new RegExp(
        `^the TLS certificate of ${issuer.url.replace(/\./g, "\\.")} is not trusted \\([A-Z_]+\\); ` +
          "the platform trusts public CAs and the CAs it was started with \\(--trust-ca\\)",
      ),
    );
    expect(issuer.requests).toEqual([]);
  });

  it("verifies an https issuer signed by a trusted CA", async () => {
    const res = await registerWith(await emulator([pki.ca]));
    expect(res.status).toBe(200);
    expect(issuer.requests.map((r) => r.authorization)).toEqual([undefined, undefined]);
  });
});
