import type { RunningEmulator } from "../../../local/emulator/emulator";
import {
  call,
  Clock,
  ClusterKey,
  FakeIssuer,
  removeTempDirs,
  serviceAccountToken,
  startTestEmulator,
} from "../../support/emulator-fixtures";
import { makeCertificate } from "../../support/test-pki";

interface Pki {
  ca: string;
  key: string;
  cert: string;
}

/** A throwaway CA and a server certificate for 127.0.0.1 it signed. */
function makePki(): Pki {
  const ca = makeCertificate({
    cn: "emulator-test-ca",
    ca: true,
    keyUsage: ["keyCertSign", "cRLSign"],
  });
  const server = makeCertificate(
    { cn: "127.0.0.1", ca: false, serverAuth: true, ips: ["127.0.0.1"] },
    ca,
  );
  return { ca: ca.cert, key: server.key, cert: server.cert };
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
