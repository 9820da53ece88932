/**
 * Retry policy for platform calls, plugged into undici's own retry support
 * (`interceptors.retry` / `RetryHandler`) through its `retry` callback: undici
 * re-dispatches the request, this module only decides whether and when.
 *
 * - Bounded: `maxRetries` retries after the first attempt (default 4).
 * - Delay: `Retry-After` (seconds or HTTP date) when the platform sends one,
 *   capped at `maxRetryAfterMs`; otherwise exponential backoff with full jitter.
 * - Retried: 429, 500, 502, 503, 504 and transient connection errors/timeouts.
 *   Never 400/401/403/404/409/412 or any other status.
 * - A POST that is not marked safe to repeat may already have taken effect, so
 *   it is retried only when the platform says it did nothing (429, 503) or the
 *   request was never sent (connection refused, connect timeout, DNS retry).
 *
 * @module
 */
import { debuglog } from "node:util";
import { interceptors, type Dispatcher, type RetryHandler } from "undici";

const debug = debuglog("enforce:platform");

/** Tuning knobs; the function-valued ones exist so tests can be fast and deterministic. */
export interface RetryOptions {
  /** Retries after the first attempt. @default 4 */
  maxRetries?: number;
  /** Backoff ceiling of the first retry; doubles each retry. @default 500 */
  baseDelayMs?: number;
  /** Largest backoff ceiling. @default 10000 */
  maxDelayMs?: number;
  /** Largest wait honoured from `Retry-After`. @default 30000 */
  maxRetryAfterMs?: number;
  /** Uniform random number in [0, 1) for jitter. @default Math.random */
  random?: () => number;
  /** Waits before a retry. @default a `setTimeout` promise */
  sleep?: (ms: number) => Promise<void>;
  /** Current time in ms, to turn an HTTP-date `Retry-After` into a delay. @default Date.now */
  now?: () => number;
}

/** {@link RetryOptions} with every default filled in. */
export type RetryPolicy = Required<RetryOptions>;

/** Statuses worth another attempt. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);
/** Statuses by which the platform says it did not act, so even a POST may be repeated. */
export const UNPROCESSED_STATUSES: ReadonlySet<number> = new Set([429, 503]);
/** Error codes of transient transport failures. */
export const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENETDOWN",
  "ENETUNREACH",
  "EHOSTDOWN",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
/** Of those, the failures that happen before a connection exists: the request was never sent. */
export const NOT_SENT_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "EAI_AGAIN",
  "ENETDOWN",
  "ENETUNREACH",
  "EHOSTDOWN",
  "EHOSTUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "OPTIONS",
  "PUT",
  "DELETE",
]);

/** Fills in and checks retry options. @throws TypeError naming a bad option. */
export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const policy: RetryPolicy = {
    maxRetries: options.maxRetries ?? 4,
    baseDelayMs: options.baseDelayMs ?? 500,
    maxDelayMs: options.maxDelayMs ?? 10_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
    random: options.random ?? Math.random,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    now: options.now ?? Date.now,
  };
  for (const key of ["maxRetries", "baseDelayMs", "maxDelayMs", "maxRetryAfterMs"] as const) {
    const value = policy[key];
    if (!Number.isInteger(value) || value < 0) {
      throw new TypeError(`retry.${key} must be a non-negative integer, got ${String(value)}`);
    }
  }
  return policy;
}

/** What the policy needs to know about a call. */
export interface RetryCallInfo {
  /** Client method name, for diagnostics. */
  call: string;
  method: string;
  /** The call may be repeated even if it took effect (e.g. creating an invite). */
  safeToRepeat: boolean;
}

/** The part of undici's failure that the policy looks at. */
export interface RetryFailure {
  /** Set when a response arrived (undici's `RequestRetryError`); null or absent otherwise. */
  statusCode?: number | null;
  code?: unknown;
  headers?: Record<string, string | string[] | undefined>;
  cause?: unknown;
}

/** Outcome of {@link decideRetry}. */
export type RetryDecision =
  | { retry: true; delayMs: number; reason: string }
  | { retry: false; reason: string };

/**
 * Decides whether attempt number `attempt` (1 for the first) of a call should
 * be followed by another, and after what delay. Pure apart from
 * `policy.random` and `policy.now`.
 */
export function decideRetry(
  failure: RetryFailure,
  attempt: number,
  info: RetryCallInfo,
  policy: RetryPolicy,
): RetryDecision {
  const repeatable = info.safeToRepeat || IDEMPOTENT_METHODS.has(info.method.toUpperCase());
  const status = typeof failure.statusCode === "number" ? failure.statusCode : undefined;
  let what: string;
  if (status !== undefined) {
    what = `HTTP ${status}`;
    if (!RETRYABLE_STATUSES.has(status)) return { retry: false, reason: `${what} is final` };
    if (!repeatable && !UNPROCESSED_STATUSES.has(status)) {
      return { retry: false, reason: `${what} to a ${info.method} that may have taken effect` };
    }
  } else {
    const code = failureCode(failure);
    what = code ?? "an error without code";
    if (code === undefined || !RETRYABLE_ERROR_CODES.has(code)) {
      return { retry: false, reason: `${what} is not transient` };
    }
    if (!repeatable && !NOT_SENT_ERROR_CODES.has(code)) {
      return { retry: false, reason: `${what} after a ${info.method} may have been sent` };
    }
  }
  if (attempt > policy.maxRetries) {
    return { retry: false, reason: `${what}; no retries left after ${attempt} attempts` };
  }
  const retryAfter = parseRetryAfter(failure.headers?.["retry-after"], policy.now());
  const delayMs =
    retryAfter !== undefined
      ? Math.min(retryAfter, policy.maxRetryAfterMs)
      : backoffDelay(attempt, policy);
  return { retry: true, delayMs, reason: what };
}

/** Full-jitter exponential backoff: uniform in [0, min(max, base·2^(attempt-1))). */
export function backoffDelay(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(policy.random() * ceiling);
}

/**
 * Milliseconds to wait according to a `Retry-After` value (delta seconds or an
 * HTTP date), never negative; `undefined` when absent or unparseable.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  nowMs: number,
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/**
 * What one call's retry callback reports back to the caller. Set
 * `responseStarted` once the response headers were handed over: from then on
 * nothing is retried, because undici would resume the body with a `Range`
 * request, which makes no sense for JSON API calls.
 */
export interface AttemptLog {
  /** Attempts made so far (the first one counts). */
  attempts: number;
  responseStarted: boolean;
}

/**
 * Builds the `retry` callback undici's `RetryHandler` calls after each failed
 * attempt. Pass `info`/`log` per request (as `retryOptions.retry`); without
 * `info`, the request's method alone decides.
 */
export function retryCallback(
  policy: RetryPolicy,
  info?: RetryCallInfo,
  log?: AttemptLog,
): RetryHandler.RetryCallback {
  return (err, { state, opts }, done) => {
    const call = info ?? { call: "request", method: opts.method, safeToRepeat: false };
    if (log?.responseStarted) {
      done(err);
      return;
    }
    const decision = decideRetry(err as RetryFailure, state.counter, call, policy);
    if (!decision.retry) {
      debug("%s: attempt %d failed, not retrying: %s", call.call, state.counter, decision.reason);
      if (log) log.attempts = state.counter;
      done(err);
      return;
    }
    debug(
      "%s: attempt %d failed (%s), retrying in %d ms",
      call.call,
      state.counter,
      decision.reason,
      decision.delayMs,
    );
    if (log) log.attempts = state.counter + 1;
    policy.sleep(decision.delayMs).then(
      () => done(null),
      // A failed wait ends the retries; undici passes the original failure on.
      () => done(err),
    );
  };
}

/**
 * undici's retry interceptor driven by this policy. Responses that are not
 * retried (including the last failed one) are passed on, body and all, so
 * the caller can read the platform's error message. Requests without their
 * own `retryOptions.retry` are judged by method alone, and a failure in the
 * middle of a body would be resumed by undici with a `Range` request; the
 * clients therefore pass a per-call callback with an {@link AttemptLog}.
 */
export function createRetryInterceptor(
  policy: RetryPolicy,
): Dispatcher.DispatcherComposeInterceptor {
  return interceptors.retry({
    throwOnError: false,
    maxRetries: policy.maxRetries,
    retry: retryCallback(policy),
  });
}

/** The error code of a transport failure, looking through `AggregateError` and `cause`. */
export function failureCode(failure: RetryFailure): string | undefined {
  if (typeof failure.code === "string") return failure.code;
  // Happy-eyeballs connects report an AggregateError; its parts carry the codes.
  const parts = (failure as { errors?: unknown }).errors;
  if (Array.isArray(parts) && parts.length > 0) return failureCode(parts[0] as RetryFailure);
  const cause = failure.cause as RetryFailure | undefined;
  return cause && typeof cause === "object" ? failureCode(cause) : undefined;
}
