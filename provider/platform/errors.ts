/**
 * Errors of the platform client, following the provider's convention (`../util/errors`):
 * codes `ERR_PLATFORM_*`, what the platform said as fields. Messages say what happened, why
 * and what to do; they never contain a bearer token, an invite code or a request body (the
 * transport redacts the credentials it sent from anything the platform echoes back).
 *
 * @module
 */

import { EnforceError } from "../util/errors";

/** Every `code` this module's errors can carry. */
export type PlatformErrorCode =
  | "ERR_PLATFORM_HTTP"
  | "ERR_PLATFORM_UNREACHABLE"
  | "ERR_PLATFORM_RESPONSE"
  | "ERR_PLATFORM_CONFIG";

/** Base class of the platform client's errors; catch this to catch them all. */
export abstract class PlatformError extends EnforceError {
  /** Stable, machine-readable error code. */
  abstract override readonly code: PlatformErrorCode;
}

/** gRPC status names by code, as grpc-gateway puts them in `code`. */
const GRPC_NAMES = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
] as const;

/** The gRPC status name of a code (`5` → `"NotFound"`), or undefined if unknown. */
export function grpcCodeName(code: number | undefined): string | undefined {
  return code === undefined ? undefined : GRPC_NAMES[code];
}

/** Which credential a call carried, so that a 401 can say which one to fix. */
export type CallCredential = "platform-token" | "cluster-token" | "none";

/** Details of a {@link PlatformHttpError}. */
export interface PlatformHttpErrorDetails {
  call: string;
  method: string;
  path: string;
  statusCode: number;
  grpcCode: number | undefined;
  platformMessage: string | undefined;
  headers: Record<string, string | string[]>;
  body: string;
  attempts: number;
  credential: CallCredential;
}

/** The platform answered with a non-2xx status; fields keep what it said. */
export class PlatformHttpError extends PlatformError {
  static readonly code = "ERR_PLATFORM_HTTP";
  override readonly code = PlatformHttpError.code;
  /** The client method that failed, e.g. `"createInvite"`. */
  readonly call: string;
  readonly method: string;
  /** Request path and query (ids, filters; never credentials). */
  readonly path: string;
  readonly statusCode: number;
  /** gRPC code from the grpc-gateway error body, when it had one. */
  readonly grpcCode: number | undefined;
  /** The platform's `message`, with any credential this call sent redacted. */
  readonly platformMessage: string | undefined;
  /** Response headers (credentials redacted, `set-cookie` dropped). */
  readonly headers: Record<string, string | string[]>;
  /** Response body text (credentials redacted, truncated to a few KiB). */
  readonly body: string;
  /** How many times the request was sent. */
  readonly attempts: number;

  constructor(details: PlatformHttpErrorDetails) {
    const grpcName = grpcCodeName(details.grpcCode);
    const status = `HTTP ${details.statusCode}${grpcName ? ` (${grpcName})` : ""}`;
    const said = details.platformMessage ? `"${details.platformMessage}"` : "no message";
    const fix = statusHint(details.statusCode, details.credential);
    super(
      `${details.call}: the Enforce platform answered ${details.method} ${details.path} with ` +
        `${status}${attemptsText(details.attempts)}: ${said}. ${fix}`,
      { fix },
    );
    this.call = details.call;
    this.method = details.method;
    this.path = details.path;
    this.statusCode = details.statusCode;
    this.grpcCode = details.grpcCode;
    this.platformMessage = details.platformMessage;
    this.headers = details.headers;
    this.body = details.body;
    this.attempts = details.attempts;
  }
}

/** Why a request got no answer. */
export type UnreachableReason = "timeout" | "tls" | "connection";

/** Details of a {@link PlatformUnreachableError}. */
export interface PlatformUnreachableErrorDetails {
  call: string;
  method: string;
  origin: string;
  path: string;
  attempts: number;
  reason: UnreachableReason;
  /** Code of the underlying error, e.g. `ECONNREFUSED` or `UND_ERR_HEADERS_TIMEOUT`. */
  causeCode: string | undefined;
  timeoutMs: number;
  /** The config key and env var that set the base URL, to name in the advice. */
  urlSetting: { key: string; envVar: string };
  cause: unknown;
}

/** No HTTP answer: connection refused or reset, TLS failure, or timeout. */
export class PlatformUnreachableError extends PlatformError {
  static readonly code = "ERR_PLATFORM_UNREACHABLE";
  override readonly code = PlatformUnreachableError.code;
  readonly call: string;
  readonly method: string;
  readonly origin: string;
  readonly path: string;
  readonly attempts: number;
  readonly reason: UnreachableReason;
  readonly causeCode: string | undefined;

  constructor(d: PlatformUnreachableErrorDetails) {
    const where = `${d.origin} (${d.method} ${d.path})`;
    const code = d.causeCode ?? "no error code";
    // Duck-typed: errors from another realm (vm contexts, test runners) fail instanceof.
    const causeMessage = (d.cause as { message?: unknown } | undefined)?.message;
    const detail =
      typeof causeMessage === "string" && causeMessage ? `${code}: ${causeMessage}` : code;
    const setting = `${d.urlSetting.key} (or ${d.urlSetting.envVar})`;
    let what: string;
    let fix: string;
    if (d.reason === "timeout") {
      what =
        `${d.call}: no answer from the Enforce platform at ${where} within ${d.timeoutMs} ms` +
        `${attemptsText(d.attempts)} (${code}).`;
      fix = `Check that ${setting} points at a running platform, or raise the client's timeoutMs.`;
    } else if (d.reason === "tls") {
      what = `${d.call}: the TLS certificate of ${where} is not trusted (${detail}).`;
      fix =
        `If this is the local emulator, trust its CA with \`pulumi config set enforce:caFile <ca.pem>\` ` +
        `or ENFORCE_CA_FILE; otherwise check ${setting}.`;
    } else {
      what =
        `${d.call}: could not reach the Enforce platform at ${where}${attemptsText(d.attempts)} ` +
        `(${detail}).`;
      fix = `Check that ${setting} is right and the platform is reachable from here.`;
    }
    super(`${what} ${fix}`, { cause: d.cause, fix });
    this.call = d.call;
    this.method = d.method;
    this.origin = d.origin;
    this.path = d.path;
    this.attempts = d.attempts;
    this.reason = d.reason;
    this.causeCode = d.causeCode;
  }
}

/** Details of a {@link PlatformResponseError}. */
export interface PlatformResponseErrorDetails {
  call: string;
  method: string;
  path: string;
  statusCode: number;
  /** What was wrong, e.g. `"items[0].id is not a string"`; never the body itself. */
  problem: string;
  cause?: unknown;
}

/**
 * The platform answered 2xx with a body this client cannot use. The body is
 * not kept: a successful answer may hold a credential (an invite code, a token).
 */
export class PlatformResponseError extends PlatformError {
  static readonly code = "ERR_PLATFORM_RESPONSE";
  override readonly code = PlatformResponseError.code;
  readonly call: string;
  readonly method: string;
  readonly path: string;
  readonly statusCode: number;
  readonly problem: string;

  constructor(d: PlatformResponseErrorDetails) {
    super(
      `${d.call}: the Enforce platform answered ${d.method} ${d.path} with HTTP ${d.statusCode} ` +
        `but the body is not what this client expects (${d.problem}). The URL may point at ` +
        `something other than the platform, or the platform's API changed.`,
      { cause: d.cause },
    );
    this.call = d.call;
    this.method = d.method;
    this.path = d.path;
    this.statusCode = d.statusCode;
    this.problem = d.problem;
  }
}

/** Details of a {@link PlatformConfigError}. */
export interface PlatformConfigErrorDetails {
  /** The stack config key, e.g. `enforce:token`. */
  key: string;
  /** The environment variable that can stand in for it, e.g. `ENFORCE_TOKEN`. */
  envVar: string;
  /** What is wrong, as a clause after the setting's name (`"is not set"`). */
  problem: string;
  /** What to do about it, a full sentence. */
  fix: string;
  cause?: unknown;
}

/** A platform setting is missing or invalid. Never quotes a secret value. */
export class PlatformConfigError extends PlatformError {
  static readonly code = "ERR_PLATFORM_CONFIG";
  override readonly code = PlatformConfigError.code;
  readonly key: string;
  readonly envVar: string;

  constructor(d: PlatformConfigErrorDetails) {
    super(`${d.key} ${d.problem}. ${d.fix}`, { cause: d.cause, fix: d.fix });
    this.key = d.key;
    this.envVar = d.envVar;
  }
}

function attemptsText(attempts: number): string {
  return attempts > 1 ? ` after ${attempts} attempts` : "";
}

function statusHint(status: number, credential: CallCredential): string {
  switch (status) {
    case 400:
      return "The platform rejected the request as invalid; check the values given to this call.";
    case 401:
      if (credential === "platform-token") {
        return (
          "The platform token was not accepted (expired, revoked or for another platform); " +
          "set a fresh one with `pulumi config set --secret enforce:token <token>` or ENFORCE_TOKEN."
        );
      }
      return credential === "cluster-token"
        ? "The cluster's service-account token was not accepted; the platform's message says which check failed."
        : "The call was refused as unauthenticated.";
    case 403:
      return "The credential was accepted but may not do this; use one allowed to act on this group.";
    case 404:
      return "The object does not exist: it may have been deleted outside Pulumi, or the id or URL is wrong.";
    case 409:
      return "It conflicts with an existing object; see the platform's message.";
    case 412:
      return "A precondition of the call does not hold; see the platform's message.";
    case 429:
      return "The platform is rate-limiting this client; wait a little and run again.";
    default:
      return status >= 500
        ? "The platform is failing or unavailable; run again later."
        : "This client does not expect that status; see the platform's message.";
  }
}
