/**
 * Verification of a cluster's service-account token (jose, loaded with
 * `import()` since it is ESM-only). A token must carry a valid signature,
 * `exp`, audience `gulfstream` and subject
 * `system:serviceaccount:gulfstream:controller`; its keys come either from a
 * static-key identity (private clusters) or from anonymous issuer discovery
 * (public ones).
 */
import type {
  JWTPayload,
  JWTVerifyGetKey,
  JWTVerifyOptions,
  KeyInput,
} from "jose" with { "resolution-mode": "import" };
import type { IssuerDiscovery } from "./discovery";
import type { IdentityRecord } from "../store";
import { CLUSTER_AUDIENCE, CLUSTER_SUBJECT } from "./cluster-claims";
import { ALGORITHMS, codeOf, peek, refusal, type KeySource, type Peek } from "./token-refusals";
import { VerificationError } from "./verification-error";

/** What a verified token established. */
export interface VerifiedToken {
  issuer: string;
  subject: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** Runs jwtVerify, trying each candidate when a kid-less token matches several keys. */
async function verifyAgainst(
  token: string,
  keys: JWTVerifyGetKey,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  const { jwtVerify } = await import("jose");
  try {
    return (await jwtVerify(token, keys, options)).payload;
  } catch (error) {
    if (codeOf(error) !== "ERR_JWKS_MULTIPLE_MATCHING_KEYS") throw error;
    let last: unknown = error;
    for await (const key of error as AsyncIterable<KeyInput>) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (attempt) {
        last = attempt;
        if (codeOf(attempt) !== "ERR_JWS_SIGNATURE_VERIFICATION_FAILED") break;
      }
    }
    throw last;
  }
}

async function verifyWithKeySet(
  token: string,
  peeked: Peek,
  jwks: unknown,
  issuer: string,
  now: Date,
  source: KeySource,
): Promise<VerifiedToken> {
  const { createLocalJWKSet } = await import("jose");
  try {
    const keys = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
    const payload = await verifyAgainst(token, keys, {
      algorithms: ALGORITHMS,
      audience: CLUSTER_AUDIENCE,
      subject: CLUSTER_SUBJECT,
      issuer,
      currentDate: now,
      requiredClaims: ["exp"],
    });
    return { issuer, subject: String(payload.sub), expiresAt: (payload.exp as number) * 1000 };
  } catch (error) {
    throw refusal(error, peeked, source);
  }
}

/**
 * Verifies against a static-key identity: its uploaded JWKS, its issuer and subject.
 * The caller checks the identity's expiration.
 */
export async function verifyWithIdentity(
  token: string,
  identity: IdentityRecord,
  now: Date,
): Promise<VerifiedToken> {
  const peeked = await peek(token);
  if (peeked.payload.iss !== identity.issuer) {
    throw new VerificationError(
      "TOKEN_CLAIM_INVALID",
      `the cluster token's issuer ${JSON.stringify(peeked.payload.iss)} is not the issuer ` +
        `${JSON.stringify(identity.issuer)} of identity ${identity.id}; upload the cluster's ` +
        "issuer and keys as a new identity",
    );
  }
  let jwks: unknown;
  try {
    jwks = JSON.parse(identity.issuerKeys);
  } catch (cause) {
    throw new VerificationError(
      "KEYS_INVALID",
      `the keys of identity ${identity.id} are not JSON`,
      { cause },
    );
  }
  const verified = await verifyWithKeySet(token, peeked, jwks, identity.issuer, now, {
    describe: `the keys uploaded with identity ${identity.id}`,
    noMatchingKey: (kid) =>
      `none of the keys uploaded with identity ${identity.id} matches the token's signing key ` +
      `(kid ${kid}); the cluster's service-account signing key has changed since the upload: ` +
      "upload the cluster's current JWKS as a new identity and register with it",
  });
  if (verified.subject !== identity.subject) {
    throw new VerificationError(
      "TOKEN_CLAIM_INVALID",
      `identity ${identity.id} is for subject ${JSON.stringify(identity.subject)}, not ` +
        `${JSON.stringify(verified.subject)}; create the identity for subject "${CLUSTER_SUBJECT}"`,
    );
  }
  return verified;
}

/**
 * Verifies against the keys the token's issuer publishes, fetched anonymously.
 * With `expectedIssuer`, the token must come from that issuer (a registered cluster's).
 */
export async function verifyWithDiscovery(
  token: string,
  discovery: IssuerDiscovery,
  now: Date,
  expectedIssuer?: string,
): Promise<VerifiedToken> {
  const peeked = await peek(token);
  const issuer = peeked.payload.iss;
  if (typeof issuer !== "string" || issuer === "") {
    throw new VerificationError("TOKEN_CLAIM_INVALID", 'the cluster token has no "iss" claim');
  }
  if (expectedIssuer !== undefined && issuer !== expectedIssuer) {
    throw new VerificationError(
      "TOKEN_CLAIM_INVALID",
      `the cluster token's issuer ${JSON.stringify(issuer)} is not the issuer ` +
        `${JSON.stringify(expectedIssuer)} the cluster registered with; register the cluster again`,
    );
  }
  let fetched = await discovery.keys(issuer);
  const source = (): KeySource => ({
    describe: `the keys the issuer publishes at ${fetched.jwksUri}`,
    noMatchingKey: (kid) =>
      `the issuer ${issuer} publishes no key matching the token's signing key (kid ${kid}) ` +
      `at ${fetched.jwksUri}`,
  });
  try {
    return await verifyWithKeySet(token, peeked, fetched.jwks, issuer, now, source());
  } catch (error) {
    if (
      !(error instanceof VerificationError) ||
      error.code !== "NO_MATCHING_KEY" ||
      !fetched.fromCache
    ) {
      throw error;
    }
    // An unknown kid may be a rotated key: refetch once before refusing.
    fetched = await discovery.keys(issuer, true);
    return verifyWithKeySet(token, peeked, fetched.jwks, issuer, now, source());
  }
}
