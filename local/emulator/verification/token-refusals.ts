/**
 * Reading a cluster token before verification, and turning jose's failures
 * into refusals a person can act on. Messages name claims, issuers and key
 * ids, never the token.
 */
import type { JWTPayload } from "jose" with { "resolution-mode": "import" };
import { formatTimestamp } from "../http/time";
import { VerificationError } from "./verification-error";
import { CLUSTER_AUDIENCE, CLUSTER_SUBJECT } from "./cluster-claims";

/** Signature algorithms accepted on cluster tokens. */
export const ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
];

/** Header and claims read without verification, to decide how to verify. */
export interface Peek {
  kid: string | undefined;
  payload: JWTPayload;
}

export async function peek(token: string): Promise<Peek> {
  const { decodeJwt, decodeProtectedHeader } = await import("jose");
  try {
    const header = decodeProtectedHeader(token);
    const payload = decodeJwt(token);
    return { kid: typeof header.kid === "string" ? header.kid : undefined, payload };
  } catch (cause) {
    throw new VerificationError("TOKEN_MALFORMED", "the bearer token is not a JWT", { cause });
  }
}

/** Where the keys came from, for messages. */
export interface KeySource {
  /** e.g. "the keys uploaded with identity <id>". */
  describe: string;
  /** The refusal when no key matches the token's kid. */
  noMatchingKey: (kid: string) => string;
}

export const codeOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";

function claimRefusal(error: unknown, peeked: Peek): VerificationError {
  const claim = (error as { claim?: string }).claim;
  const reason = (error as { reason?: string }).reason;
  const p = peeked.payload;
  if (reason === "missing") {
    return new VerificationError(
      "TOKEN_CLAIM_INVALID",
      `the cluster token has no "${claim}" claim`,
    );
  }
  const messages: Record<string, string> = {
    aud: `the cluster token's audience is ${JSON.stringify(p.aud)}; it must include "${CLUSTER_AUDIENCE}" (request the token with that audience)`,
    sub: `the cluster token's subject is ${JSON.stringify(p.sub)}; the agent registers as "${CLUSTER_SUBJECT}"`,
    iss: `the cluster token's issuer ${JSON.stringify(p.iss)} is not the expected one`,
    nbf: `the cluster token is not valid before ${typeof p.nbf === "number" ? formatTimestamp(p.nbf * 1000) : "its nbf"}`,
    iat: "the cluster token's iat claim is invalid",
  };
  return new VerificationError(
    "TOKEN_CLAIM_INVALID",
    messages[claim ?? ""] ?? `the cluster token's "${claim}" claim is invalid`,
    { cause: error },
  );
}

export function refusal(error: unknown, peeked: Peek, source: KeySource): VerificationError {
  const code = codeOf(error);
  switch (code) {
    case "ERR_JWT_EXPIRED": {
      const exp = peeked.payload.exp;
      const when = typeof exp === "number" ? ` at ${formatTimestamp(exp * 1000)}` : "";
      return new VerificationError(
        "TOKEN_EXPIRED",
        `the cluster token expired${when}; send a fresh service-account token`,
        { cause: error },
      );
    }
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return claimRefusal(error, peeked);
    case "ERR_JWKS_NO_MATCHING_KEY":
      return new VerificationError("NO_MATCHING_KEY", source.noMatchingKey(peeked.kid ?? "none"), {
        cause: error,
      });
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return new VerificationError(
        "SIGNATURE_INVALID",
        `the cluster token's signature does not verify with ${source.describe}`,
        { cause: error },
      );
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return new VerificationError(
        "TOKEN_ALG_UNSUPPORTED",
        `the cluster token's signing algorithm is not accepted (accepted: ${ALGORITHMS.join(", ")})`,
        { cause: error },
      );
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return new VerificationError("TOKEN_MALFORMED", "the bearer token is not a valid JWT", {
        cause: error,
      });
    case "ERR_JWKS_INVALID":
    case "ERR_JWK_INVALID":
      return new VerificationError("KEYS_INVALID", `${source.describe} are not a usable JWK Set`, {
        cause: error,
      });
    default:
      if (error instanceof VerificationError) return error;
      if (error instanceof TypeError || code.startsWith("ERR_J")) {
        // jose reports unusable keys (e.g. an RSA modulus under 2048 bits) as TypeError.
        return new VerificationError(
          "SIGNATURE_INVALID",
          `the cluster token cannot be verified with ${source.describe}: ${error instanceof Error ? error.message : code}`,
          { cause: error },
        );
      }
      throw error;
  }
}
