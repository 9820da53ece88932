/**
 * Why a cluster token was refused. Verification code throws these; the issuer
 * routes turn them into 401 (or 503 when retrying may help). Messages name
 * issuers, key ids and claims, never the token.
 */

export type VerificationErrorCode =
  | "TOKEN_MALFORMED"
  | "TOKEN_EXPIRED"
  | "TOKEN_CLAIM_INVALID"
  | "TOKEN_ALG_UNSUPPORTED"
  | "SIGNATURE_INVALID"
  | "NO_MATCHING_KEY"
  | "KEYS_INVALID"
  | "ISSUER_INSECURE"
  | "ISSUER_PRIVATE"
  | "ISSUER_UNREACHABLE"
  | "ISSUER_UNTRUSTED"
  | "ISSUER_MISMATCH"
  | "ISSUER_BAD_RESPONSE"
  | "ISSUER_UNAVAILABLE";

export class VerificationError extends Error {
  override readonly name = "VerificationError";
  constructor(
    readonly code: VerificationErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }

  /** Whether the same call may succeed later without changes (issuer overloaded or slow). */
  get retryable(): boolean {
    return this.code === "ISSUER_UNAVAILABLE";
  }
}
