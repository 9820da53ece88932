/**
 * Proof, before anything is installed or uploaded, that the keys the platform will hold verify
 * the tokens the cluster issues: the token the TokenRequest check minted is verified with jose's
 * `jwtVerify` against a local copy of that key set. Pure: no I/O beyond jose (ESM-only, so
 * loaded with `import()`). Reasons name key ids, algorithms and issuers, never the token.
 * @module
 */

import type { CryptoKey, JWK, JWTPayload } from "jose" with { "resolution-mode": "import" };
import type * as JoseModule from "jose" with { "resolution-mode": "import" };
import type { Problem } from "./cluster-checks";
import { quoteShort } from "../util/json";
import { REDACTED } from "../util/redact";
import { REMEDY } from "./remedies";

/**
 * The key set the platform will verify the agent's tokens with: `uploaded`, the API server's
 * JWKS a private connection uploads; `anonymous`, the issuer's `jwks_uri` as fetched without
 * credentials; `exposed`, the API server's JWKS that the binding this connection creates will
 * make public (`exposeIssuerDiscovery`).
 */
export type KeySource = "uploaded" | "anonymous" | "exposed";

const RSA_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
/** The curve each ECDSA algorithm signs on. */
const EC_CURVES: Record<string, string> = { ES256: "P-256", ES384: "P-384", ES512: "P-521" };
/** What a token or a JWK may name as `alg`; kube-apiserver signs with RS256 or ES256. */
export const ACCEPTED_ALGORITHMS = [...RSA_ALGORITHMS, ...Object.keys(EC_CURVES)];

type Jose = typeof JoseModule;

/** The token was minted a moment ago by the API server, whose clock may differ a little. */
const CLOCK_TOLERANCE_SECONDS = 60;

export interface TokenVerificationRequest {
  /** The token the cluster issued (compact JWS). A credential: never echoed. */
  token: string;
  /** The issuer the discovery document names. */
  issuer: string;
  /** The key set as read, not validated yet. */
  jwks: unknown;
  keySource: KeySource;
  /** Where the `anonymous` key set was fetched from, for messages. */
  jwksUri?: string;
  /** The audience the token must carry. */
  audience: string;
  /** @default new Date() */
  currentDate?: Date;
}

export type TokenVerification =
  | { ok: true; kid: string; alg: string }
  | { ok: false; problem: Problem };

/**
 * A service-account token held in memory (e.g. between `check` and the upload in `create`):
 * `reveal()` gives it to the verifier; JSON, `String()` and `console.log` show {@link REDACTED}.
 */
export class ProbeToken {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return REDACTED;
  }
  toString(): string {
    return REDACTED;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `ProbeToken ${REDACTED}`;
  }
}

/** How a person calls a key source: "the JWKS that would be uploaded", ... */
export function describeKeySource(source: KeySource, jwksUri = ""): string {
  switch (source) {
    case "uploaded":
      return "the JWKS that would be uploaded (the API server's /openid/v1/jwks)";
    case "anonymous":
      return `the issuer's anonymous JWKS (${jwksUri})`;
    case "exposed":
      return "the JWKS the API server serves at /openid/v1/jwks (public once exposeIssuerDiscovery's binding exists)";
  }
}

/**
 * Verifies `token` against `jwks` as the platform will: an https issuer equal to the token's
 * `iss`, a well-formed key set (every key parses, usable `kty`/`alg`, unique kids), an accepted
 * signature algorithm, a valid signature, the audience and the expiry. A failure is a
 * `tokenSignature` problem on `connectivity` that says what did not verify and what to do.
 */
export async function verifyClusterToken(
  req: TokenVerificationRequest,
): Promise<TokenVerification> {
  const jose = await import("jose");
  const run: Verification = {
    jose,
    req,
    source: describeKeySource(req.keySource, req.jwksUri),
    remedy: remedies(req),
  };
  const token = decodeToken(run);
  if ("reason" in token) return failed(token);
  const keys = await keysForToken(run, token);
  if (!Array.isArray(keys)) return failed(keys);
  const problem = await verifySignature(run, token, keys);
  return problem ? failed(problem) : { ok: true, kid: token.kid, alg: token.alg };
}

/** What one verification works with: the request, how to name its key set, and the fixes. */
interface Verification {
  jose: Jose;
  req: TokenVerificationRequest;
  /** The key set as a person calls it (see {@link describeKeySource}). */
  source: string;
  remedy: Remedies;
}

/** What did not verify, and the fix. */
interface Failure {
  reason: string;
  fix: string;
}

/** The header fields of a token that decoded and names an accepted algorithm. */
interface DecodedToken {
  alg: string;
  /** `""` when the header names no key. */
  kid: string;
}

function failed({ reason, fix }: Failure): TokenVerification {
  return {
    ok: false,
    problem: { check: "tokenSignature", property: "connectivity", reason, remedy: fix },
  };
}

/**
 * The checks that need no key: the discovery document's issuer is an https URL, the token is a
 * signed JWT, its `alg` is one the platform accepts, and its `iss` is that issuer.
 */
function decodeToken({ jose, req, remedy }: Verification): DecodedToken | Failure {
  if (!isHttpsUrl(req.issuer)) {
    return {
      reason: `the service account issuer ${quoteShort(req.issuer)} is not an https URL, so the platform would not trust its keys`,
      fix: REMEDY.issuerDiscovery,
    };
  }
  let alg: unknown;
  let kid = "";
  let payload: JWTPayload;
  try {
    const header = jose.decodeProtectedHeader(req.token);
    alg = header.alg;
    kid = typeof header.kid === "string" ? header.kid : "";
    payload = jose.decodeJwt(req.token);
  } catch {
    return {
      reason: "the TokenRequest API issued a token that is not a signed JWT",
      fix: REMEDY.tokenProjection,
    };
  }
  if (typeof alg !== "string" || !ACCEPTED_ALGORITHMS.includes(alg)) {
    return {
      reason: `the token the cluster issues is signed with alg ${quoteShort(alg)}, which the platform refuses (accepted: ${ACCEPTED_ALGORITHMS.join(", ")})`,
      fix: remedy.signingKey,
    };
  }
  if (payload.iss !== req.issuer) {
    return {
      reason: `the token the cluster issues names issuer ${quoteShort(payload.iss)}, but the discovery document names ${quoteShort(req.issuer)}, and the platform requires them to be equal`,
      fix: remedy.issuer,
    };
  }
  return { alg, kid };
}

/**
 * The key set, once it is well formed and, when the token names a key, lists that key with a
 * type (and `alg`, if the key names one) that fits the token's algorithm.
 */
async function keysForToken(
  { jose, req, source, remedy }: Verification,
  { alg, kid }: DecodedToken,
): Promise<CheckedKey[] | Failure> {
  const keys = await readKeySet(jose, req.jwks);
  if (typeof keys === "string") return { reason: `${source} ${keys}`, fix: remedy.keySet };
  const key = kid ? keys.find((k) => k.kid === kid) : undefined;
  if (kid && !key) {
    return {
      reason: `the token the cluster issues now is signed with key ${kid}, which ${source} does not list (it lists ${listKids(keys)})`,
      fix: remedy.missingKey,
    };
  }
  if (key && (keyTypeOf(alg) !== key.kty || (key.alg !== undefined && key.alg !== alg))) {
    return {
      reason: `the token the cluster issues now is signed with key ${kid} using ${alg}, but ${source} lists that key as ${key.kty}${key.alg ? ` for ${key.alg}` : ""}`,
      fix: remedy.missingKey,
    };
  }
  return keys;
}

/**
 * jose's `jwtVerify` against a local copy of the key set: signature, issuer, audience, expiry.
 * A token without a kid matches every key of its type, and verifies if one of them does.
 * @returns undefined when the token verifies.
 */
async function verifySignature(
  run: Verification,
  token: DecodedToken,
  keys: CheckedKey[],
): Promise<Failure | undefined> {
  const { jose, req } = run;
  const now = req.currentDate ?? new Date();
  const keySet = jose.createLocalJWKSet({ keys } as Parameters<typeof jose.createLocalJWKSet>[0]);
  const options = {
    issuer: req.issuer,
    audience: req.audience,
    algorithms: ACCEPTED_ALGORITHMS,
    requiredClaims: ["exp"],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    currentDate: now,
  };
  try {
    await jwtVerifyWithAnyKey(jose, req.token, keySet, options);
    return undefined;
  } catch (err) {
    return verificationFailure(run, token, err, now);
  }
}

type VerifyOptions = Parameters<Jose["jwtVerify"]>[2];

/**
 * `jwtVerify`, except that a token matching several keys (it names no kid) verifies if one of
 * them verifies it. @throws jose's error, for several keys the last one's.
 */
async function jwtVerifyWithAnyKey(
  jose: Jose,
  token: string,
  keySet: ReturnType<Jose["createLocalJWKSet"]>,
  options: VerifyOptions,
): Promise<void> {
  try {
    await jose.jwtVerify(token, keySet, options);
  } catch (err) {
    if (codeOf(err) !== "ERR_JWKS_MULTIPLE_MATCHING_KEYS") throw err;
    let last: unknown = err;
    for await (const candidate of err as AsyncIterable<CryptoKey>) {
      try {
        await jose.jwtVerify(token, candidate, options);
        return;
      } catch (attempt) {
        last = attempt;
      }
    }
    throw last;
  }
}

/**
 * What jose's verification error means for this cluster, by its code, and the fix; `now` is the
 * clock the expiry was judged by.
 */
function verificationFailure(
  { req, source, remedy }: Verification,
  { alg, kid }: DecodedToken,
  err: unknown,
  now: Date,
): Failure {
  switch (codeOf(err)) {
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return {
        reason: `the token the cluster issues now is signed with key ${kid || "(no kid)"}, but the signature does not verify with the key ${source} lists under that id: it is not the key the cluster signs with`,
        fix: remedy.missingKey,
      };
    case "ERR_JWKS_NO_MATCHING_KEY":
      return {
        reason: `the token the cluster issues now (key ${kid || "(no kid)"}, ${alg}) matches no key of ${source} usable for verifying signatures`,
        fix: remedy.missingKey,
      };
    case "ERR_JWT_EXPIRED":
      return {
        reason: `the token the cluster has just issued is already expired by this machine's clock (${now.toISOString()})`,
        fix: remedy.clock,
      };
    case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
      const { claim, reason } = err as { claim?: string; reason?: string };
      if (claim === "nbf" || claim === "iat") {
        return {
          reason: `the token the cluster has just issued is not valid yet by this machine's clock (${now.toISOString()})`,
          fix: remedy.clock,
        };
      }
      return { reason: claimReason(claim, reason, req.audience), fix: remedy.claims };
    }
    default:
      return {
        reason: `the token the cluster issues cannot be verified with ${kid ? `key ${kid}` : "any key"} of ${source} (${errorSummary(err)})`,
        fix: remedy.keySet,
      };
  }
}

/** A JWK that passed {@link readKeySet}. */
type CheckedKey = JWK & { kty: "RSA" | "EC" };

/** The keys, or what is wrong with the set (completing "<source> ..."). */
async function readKeySet(jose: Jose, jwks: unknown): Promise<CheckedKey[] | string> {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) return "lists no keys";
  const seen = new Set<string>();
  for (const [i, key] of (keys as unknown[]).entries()) {
    const kid = (key as { kid?: unknown } | null)?.kid;
    const name = typeof kid === "string" ? `key ${kid}` : `key #${i + 1} (no kid)`;
    const wrong = await keyProblem(jose, key);
    if (wrong) return `has ${name}, which ${wrong}`;
    if (typeof kid === "string") {
      if (seen.has(kid)) return `lists key id ${kid} more than once`;
      seen.add(kid);
    }
  }
  return keys as CheckedKey[];
}

/** What makes one JWK unusable for verifying cluster tokens, or undefined. */
async function keyProblem(jose: Jose, key: unknown): Promise<string | undefined> {
  if (typeof key !== "object" || key === null || Array.isArray(key)) return "is not a JSON object";
  const { kty, alg, crv, use } = key as Record<string, unknown>;
  if (kty !== "RSA" && kty !== "EC") {
    return `has kty ${quoteShort(kty)}: only "RSA" and "EC" signing keys are usable`;
  }
  if ("d" in key) return "holds private key material (d): a JWKS publishes public keys only";
  if (use !== undefined && use !== "sig") return `has use ${quoteShort(use)}, not "sig"`;
  if (alg !== undefined) {
    if (typeof alg !== "string" || !ACCEPTED_ALGORITHMS.includes(alg)) {
      return `has alg ${quoteShort(alg)}, which the platform refuses (accepted: ${ACCEPTED_ALGORITHMS.join(", ")})`;
    }
    if (keyTypeOf(alg) !== kty) return `has alg ${alg}, which does not fit its key type ${kty}`;
    if (kty === "EC" && EC_CURVES[alg] !== crv) {
      return `has alg ${alg} on curve ${quoteShort(crv)}; ${alg} signs on ${EC_CURVES[alg]}`;
    }
  }
  const importAlg =
    typeof alg === "string"
      ? alg
      : kty === "RSA"
        ? "RS256"
        : Object.keys(EC_CURVES).find((a) => EC_CURVES[a] === crv);
  if (!importAlg) return `has curve ${quoteShort(crv)}: only P-256, P-384 and P-521 are usable`;
  const members = kty === "RSA" ? ["n", "e"] : ["x", "y"];
  const absent = members.filter((m) => typeof (key as Record<string, unknown>)[m] !== "string");
  if (absent.length) return `does not parse as an ${kty} public key (no ${absent.join(", ")})`;
  let imported: CryptoKey | Uint8Array;
  try {
    imported = await jose.importJWK(key as JWK, importAlg);
  } catch (err) {
    return `does not parse as an ${kty} public key (${errorSummary(err)})`;
  }
  const bits = (imported as CryptoKey).algorithm as { modulusLength?: number };
  if (kty === "RSA" && (bits.modulusLength ?? 0) < 2048) {
    return `is an RSA key of ${bits.modulusLength} bits; the platform needs 2048 bits or more`;
  }
  return undefined;
}

/** The fixes, by what failed. */
type Remedies = ReturnType<typeof remedies>;

/** The fixes, by what failed; they depend on where the keys come from. */
function remedies(req: TokenVerificationRequest) {
  const anonymous = req.keySource === "anonymous";
  const publishOrPrivate =
    `publish the cluster's current JWKS (kubectl get --raw /openid/v1/jwks) unchanged at ${req.jwksUri}, ` +
    `or set connectivity: "private" so that this connection uploads the cluster's keys instead.`;
  const retry = "then run the check again.";
  return {
    missingKey: anonymous
      ? `The issuer's anonymous JWKS is not the one the cluster signs with: ${publishOrPrivate}`
      : "The API server signs with a key its JWKS does not publish. Right after a key rotation, wait until every " +
        "API server lists the new key (kubectl get --raw /openid/v1/jwks) and run the check again; otherwise restart " +
        "kube-apiserver with a --service-account-key-file that holds the public key of its --service-account-signing-key-file.",
    keySet: anonymous
      ? `The platform would refuse this key set: ${publishOrPrivate}`
      : "Give kube-apiserver --service-account-key-file public keys of RSA (2048 bits or more) or ECDSA " +
        `(P-256, P-384, P-521) only, each once; ${retry}`,
    signingKey:
      "Give kube-apiserver a --service-account-signing-key-file that holds an RSA (2048 bits or more) or ECDSA " +
      `P-256 private key (it then signs with RS256 or ES256); ${retry}`,
    issuer:
      "Tokens carry kube-apiserver's first --service-account-issuer: the discovery document must name that same " +
      `https URL (if a copy of the document is served elsewhere, update it); ${retry}`,
    clock: `Synchronise the clocks of this machine and the API server (e.g. with NTP); ${retry}`,
    claims:
      `The API server must issue TokenRequest tokens with the audience requested ("${req.audience}") and an expiry: ` +
      `check its --api-audiences and any admission webhook on serviceaccounts/token; ${retry}`,
  };
}

function claimReason(claim: string | undefined, reason: string | undefined, audience: string) {
  if (claim === "aud") {
    return `the token the cluster issues does not carry the audience "${audience}" it was requested for`;
  }
  if (reason === "missing") return `the token the cluster issues has no "${claim}" claim`;
  return `the token the cluster issues has an invalid "${claim}" claim (${reason})`;
}

function keyTypeOf(alg: string): "RSA" | "EC" | undefined {
  if (RSA_ALGORITHMS.includes(alg)) return "RSA";
  return alg in EC_CURVES ? "EC" : undefined;
}

function listKids(keys: CheckedKey[]): string {
  const kids = keys.map((k) => k.kid).filter((k): k is string => !!k);
  return kids.length ? kids.join(", ") : "no key ids";
}

function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === "https:";
  } catch {
    return false;
  }
}

function codeOf(err: unknown): string {
  return typeof err === "object" && err !== null && "code" in err ? String(err.code) : "";
}

/** jose's code, or (for a TypeError) its message, or the error's name: none names key material. */
function errorSummary(err: unknown): string {
  // Duck-typed: WebCrypto's DOMException and errors from another realm fail `instanceof Error`.
  const { name, message } = (err ?? {}) as { name?: unknown; message?: unknown };
  if (name === "TypeError" && typeof message === "string") return message;
  const code = codeOf(err);
  if (code.startsWith("ERR_")) return code;
  return typeof name === "string" ? name : "unknown error";
}
