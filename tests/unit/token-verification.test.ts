import type { CryptoKey, JWK } from "jose" with { "resolution-mode": "import" };
import {
  verifyClusterToken,
  type KeySource,
  type TokenVerification,
} from "../../provider/checks/token-verification";

/**
 * The verification `check` runs on the token the cluster issues, with keys and tokens made by
 * jose: no cluster, no network, a frozen clock.
 */

const ISSUER = "https://oidc.example.com/cluster-1";
const JWKS_URI = "https://oidc.example.com/cluster-1/openid/v1/jwks";
const AUDIENCE = "gulfstream";
const NOW = new Date("2026-03-01T12:00:00Z");
const SECONDS = Math.floor(NOW.getTime() / 1000);

interface Key {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function newKey(kid: string, alg = "RS256"): Promise<Key> {
  const { exportJWK, generateKeyPair } = await import("jose");
  const { privateKey, publicKey } = await generateKeyPair(alg);
  // As kube-apiserver publishes them: kid, alg and use set.
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

/** A token like the one TokenRequest issues for kube-system/default. */
async function tokenOf(
  key: Key,
  claims: { iss?: string; aud?: string; exp?: number; kid?: string | null } = {},
): Promise<string> {
  const { SignJWT } = await import("jose");
  const header: { alg: string; kid?: string } = { alg: key.alg };
  if (claims.kid !== null) header.kid = claims.kid ?? key.kid;
  return new SignJWT({ "kubernetes.io": { namespace: "kube-system" } })
    .setProtectedHeader(header)
    .setIssuer(claims.iss ?? ISSUER)
    .setSubject("system:serviceaccount:kube-system:default")
    .setAudience(claims.aud ?? AUDIENCE)
    .setIssuedAt(SECONDS)
    .setNotBefore(SECONDS)
    .setExpirationTime(claims.exp ?? SECONDS + 600)
    .sign(key.privateKey);
}

function verify(
  token: string,
  jwks: unknown,
  opts: { issuer?: string; keySource?: KeySource; at?: Date } = {},
): Promise<TokenVerification> {
  const keySource = opts.keySource ?? "uploaded";
  return verifyClusterToken({
    token,
    issuer: opts.issuer ?? ISSUER,
    jwks,
    keySource,
    jwksUri: keySource === "anonymous" ? JWKS_URI : undefined,
    audience: AUDIENCE,
    currentDate: opts.at ?? NOW,
  });
}

/** The problem of a failed verification, checked for what every failure must be. */
function problemOf(result: TokenVerification, token: string) {
  if (result.ok) throw new Error(`expected a failure, got key ${result.kid} verified`);
  const { problem } = result;
  expect(problem).toMatchObject({ check: "tokenSignature", property: "connectivity" });
  expect(problem.remedy).not.toBe("");
  const text = JSON.stringify(problem);
  expect(text).not.toContain(token);
  for (const part of token.split(".").filter((p) => p !== "")) expect(text).not.toContain(part);
  return problem;
}

function unsignedToken(header: object, payload: object): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64(header)}.${b64(payload)}.`;
}

let rsa: Key;
let rotated: Key;
let ec: Key;
beforeAll(async () => {
  [rsa, rotated, ec] = await Promise.all([
    newKey("kid-rsa-1"),
    newKey("kid-rsa-2"),
    newKey("kid-ec-1", "ES256"),
  ]);
});

describe("verifyClusterToken", () => {
  test("a token signed with a key of the JWKS verifies and names the key", async () => {
    const token = await tokenOf(rsa);
    expect(await verify(token, { keys: [rsa.jwk] })).toEqual({
      ok: true,
      kid: "kid-rsa-1",
      alg: "RS256",
    });
    // ES256, and a JWKS that still lists the previous key (a rotation with the old key kept).
    expect(await verify(await tokenOf(ec), { keys: [rsa.jwk, ec.jwk] })).toEqual({
      ok: true,
      kid: "kid-ec-1",
      alg: "ES256",
    });
  });

  test("a rotated key the JWKS does not list yet: names the kid, the keys listed, and the fix", async () => {
    const token = await tokenOf(rotated);
    const problem = problemOf(await verify(token, { keys: [rsa.jwk] }), token);
    expect(problem.reason).toBe(
      "the token the cluster issues now is signed with key kid-rsa-2, which the JWKS that would be uploaded " +
        "(the API server's /openid/v1/jwks) does not list (it lists kid-rsa-1)",
    );
    expect(problem.remedy).toContain("wait until every API server lists the new key");
    expect(problem.remedy).toContain("--service-account-key-file");
  });

  test("an issuer's anonymous JWKS without the signing key: publish it there, or go private", async () => {
    const token = await tokenOf(rotated);
    const problem = problemOf(
      await verify(token, { keys: [rsa.jwk] }, { keySource: "anonymous" }),
      token,
    );
    expect(problem.reason).toContain(
      `signed with key kid-rsa-2, which the issuer's anonymous JWKS (${JWKS_URI}) does not list`,
    );
    expect(problem.remedy).toContain(
      "The issuer's anonymous JWKS is not the one the cluster signs with",
    );
    expect(problem.remedy).toContain(`unchanged at ${JWKS_URI}`);
    expect(problem.remedy).toContain('set connectivity: "private"');
  });

  test("a key listed under the token's kid that did not sign it: the signature does not verify", async () => {
    const token = await tokenOf(rotated, { kid: "kid-rsa-1" });
    const problem = problemOf(await verify(token, { keys: [rsa.jwk] }), token);
    expect(problem.reason).toContain(
      "is signed with key kid-rsa-1, but the signature does not verify with the key the JWKS that would be uploaded",
    );
  });

  test("duplicate kids are refused", async () => {
    const token = await tokenOf(rsa);
    const twin = { ...rotated.jwk, kid: "kid-rsa-1" };
    const problem = problemOf(await verify(token, { keys: [rsa.jwk, twin] }), token);
    expect(problem.reason).toBe(
      "the JWKS that would be uploaded (the API server's /openid/v1/jwks) lists key id kid-rsa-1 more than once",
    );
    expect(problem.remedy).toContain("each once");
  });

  test('alg "none" in the token header is refused', async () => {
    const token = unsignedToken(
      { alg: "none", kid: "kid-rsa-1" },
      { iss: ISSUER, aud: AUDIENCE, exp: SECONDS + 600 },
    );
    const problem = problemOf(await verify(token, { keys: [rsa.jwk] }), token);
    expect(problem.reason).toBe(
      'the token the cluster issues is signed with alg "none", which the platform refuses ' +
        "(accepted: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512)",
    );
    expect(problem.remedy).toContain("--service-account-signing-key-file");
  });

  test("an HMAC-signed token is refused like any unsupported algorithm", async () => {
    const { SignJWT } = await import("jose");
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", kid: "kid-rsa-1" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime(SECONDS + 600)
      .sign(new Uint8Array(32));
    const problem = problemOf(await verify(token, { keys: [rsa.jwk] }), token);
    expect(problem.reason).toContain('signed with alg "HS256", which the platform refuses');
  });

  test('alg "none" in a JWK is refused', async () => {
    const token = await tokenOf(rsa);
    const problem = problemOf(
      await verify(token, { keys: [rsa.jwk, { ...rotated.jwk, alg: "none" }] }),
      token,
    );
    expect(problem.reason).toBe(
      "the JWKS that would be uploaded (the API server's /openid/v1/jwks) has key kid-rsa-2, which has " +
        'alg "none", which the platform refuses (accepted: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512)',
    );
  });

  test("an RSA key with an EC alg (ES256) is refused", async () => {
    const token = await tokenOf(rsa);
    const problem = problemOf(await verify(token, { keys: [{ ...rsa.jwk, alg: "ES256" }] }), token);
    expect(problem.reason).toContain(
      "has key kid-rsa-1, which has alg ES256, which does not fit its key type RSA",
    );
  });

  test("an EC key on the wrong curve for its alg, and a key that does not parse, are refused", async () => {
    const token = await tokenOf(rsa);
    const wrongCurve = { ...ec.jwk, alg: "ES384" };
    expect(problemOf(await verify(token, { keys: [wrongCurve] }), token).reason).toContain(
      'has alg ES384 on curve "P-256"; ES384 signs on P-384',
    );
    const noModulus = { ...rotated.jwk, n: 42 };
    expect(problemOf(await verify(token, { keys: [rsa.jwk, noModulus] }), token).reason).toContain(
      "has key kid-rsa-2, which does not parse as an RSA public key (no n)",
    );
    const offCurve = { ...ec.jwk, x: "AAAA" };
    expect(problemOf(await verify(token, { keys: [rsa.jwk, offCurve] }), token).reason).toContain(
      "has key kid-ec-1, which does not parse as an EC public key (DataError)",
    );
    const short = { ...rotated.jwk, n: "AQAB" };
    expect(problemOf(await verify(token, { keys: [rsa.jwk, short] }), token).reason).toContain(
      "has key kid-rsa-2, which is an RSA key of 17 bits; the platform needs 2048 bits or more",
    );
  });

  test("an empty key set, and a key type that cannot sign, are refused", async () => {
    const token = await tokenOf(rsa);
    expect(problemOf(await verify(token, { keys: [] }), token).reason).toBe(
      "the JWKS that would be uploaded (the API server's /openid/v1/jwks) lists no keys",
    );
    const secret = { kty: "oct", kid: "kid-oct", k: "c2VjcmV0" };
    expect(problemOf(await verify(token, { keys: [secret] }), token).reason).toContain(
      'has key kid-oct, which has kty "oct": only "RSA" and "EC" signing keys are usable',
    );
  });

  test("a key set that is not a JWKS, and keys that are not objects, are refused", async () => {
    const token = await tokenOf(rsa);
    for (const notASet of ["keys", null, 42, [rsa.jwk], { keys: "all" }, { keys: {} }]) {
      expect(problemOf(await verify(token, notASet), token).reason).toBe(
        "the JWKS that would be uploaded (the API server's /openid/v1/jwks) lists no keys",
      );
    }
    for (const notAKey of [null, "kid-rsa-1", 7, [rsa.jwk]]) {
      expect(problemOf(await verify(token, { keys: [rsa.jwk, notAKey] }), token).reason).toBe(
        "the JWKS that would be uploaded (the API server's /openid/v1/jwks) has key #2 (no kid), which is not a JSON object",
      );
    }
  });

  test("a kid or alg of 100 KB in a key is cut short in the reason", async () => {
    const token = await tokenOf(rsa);
    const long = "x".repeat(100_000);
    const problem = problemOf(
      await verify(token, { keys: [rsa.jwk, { ...rotated.jwk, kid: "k2", alg: long }] }),
      token,
    );
    expect(problem.reason.length).toBeLessThan(400);
    expect(problem.reason).toContain(`has alg "${"x".repeat(100)}...", which the platform refuses`);
  });

  test("an http (not https) issuer is refused", async () => {
    const issuer = "http://oidc.example.com/cluster-1";
    const token = await tokenOf(rsa, { iss: issuer });
    const problem = problemOf(await verify(token, { keys: [rsa.jwk] }, { issuer }), token);
    expect(problem.reason).toBe(
      `the service account issuer "${issuer}" is not an https URL, so the platform would not trust its keys`,
    );
    expect(problem.remedy).toContain("--service-account-issuer to an https URL");
  });

  test("a token whose iss differs from the discovery document's issuer is refused", async () => {
    const token = await tokenOf(rsa, { iss: "https://kubernetes.default.svc.cluster.local" });
    const problem = problemOf(await verify(token, { keys: [rsa.jwk] }), token);
    expect(problem.reason).toBe(
      'the token the cluster issues names issuer "https://kubernetes.default.svc.cluster.local", but the ' +
        `discovery document names "${ISSUER}", and the platform requires them to be equal`,
    );
    expect(problem.remedy).toContain("first --service-account-issuer");
  });

  test("an expired token, and one for another audience, are refused", async () => {
    const token = await tokenOf(rsa);
    const later = new Date(NOW.getTime() + 3600_000);
    const expired = problemOf(await verify(token, { keys: [rsa.jwk] }, { at: later }), token);
    expect(expired.reason).toBe(
      `the token the cluster has just issued is already expired by this machine's clock (${later.toISOString()})`,
    );
    expect(expired.remedy).toContain("Synchronise the clocks");

    const other = await tokenOf(rsa, { aud: "https://kubernetes.default.svc" });
    expect(problemOf(await verify(other, { keys: [rsa.jwk] }), other).reason).toBe(
      'the token the cluster issues does not carry the audience "gulfstream" it was requested for',
    );
  });

  test("a token without a kid verifies when one of the keys of its type signed it", async () => {
    const token = await tokenOf(rsa, { kid: null });
    expect(await verify(token, { keys: [rotated.jwk, rsa.jwk] })).toEqual({
      ok: true,
      kid: "",
      alg: "RS256",
    });
    const problem = problemOf(await verify(token, { keys: [rotated.jwk] }), token);
    expect(problem.reason).toContain("(no kid)");
  });
});
