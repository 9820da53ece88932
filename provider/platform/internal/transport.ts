/**
 * One JSON call over undici: builds the request, lets the retry interceptor
 * repeat it per the call's policy, and turns every failure into one of the
 * module's errors, naming the call and keeping credentials out.
 */
import { debuglog } from "node:util";
import { request, type Dispatcher, type RetryHandler } from "undici";
import type { PlatformSetting } from "../config";
import {
  PlatformHttpError,
  PlatformResponseError,
  PlatformUnreachableError,
  type CallCredential,
  type UnreachableReason,
} from "../errors";
import { failureCode, retryCallback, type AttemptLog, type RetryPolicy } from "../retry";
import type { Fail } from "./json";
import { redact } from "../../util/redact";
import { joinUrl } from "./url";

const debug = debuglog("enforce:platform");
const MAX_ERROR_BODY_CHARS = 4096;

/** Where and how a client sends. */
export interface Transport {
  dispatcher: Dispatcher;
  baseUrl: URL;
  /** Headers and body timeout of each attempt, in ms. */
  timeoutMs: number;
  retry: RetryPolicy;
  /** The setting the base URL came from, named in connection advice. */
  urlSetting: PlatformSetting;
}

/** One call. */
export interface CallSpec<T> {
  /** Client method name, used in every error and log line. */
  call: string;
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Encoded path and query. */
  path: string;
  bearer?: string;
  credential: CallCredential;
  /** Sent as JSON. */
  body?: unknown;
  /** The call may be repeated even if it took effect. */
  safeToRepeat?: boolean;
  /** Values to scrub from anything the platform sends back in an error (e.g. an invite code). */
  secrets?: ReadonlyArray<string | undefined>;
  decode: (json: unknown, fail: Fail) => T;
}

type RequestOptions = NonNullable<Parameters<typeof request>[1]> & {
  retryOptions?: RetryHandler.RetryOptions;
};

/** Sends the call and decodes the 2xx answer. @throws a `PlatformError` otherwise. */
export async function send<T>(t: Transport, spec: CallSpec<T>): Promise<T> {
  const url = joinUrl(t.baseUrl, spec.path);
  const path = url.pathname + url.search;
  const log: AttemptLog = { attempts: 1, responseStarted: false };
  const answer = await exchange(t, spec, url, log);
  debug(
    "%s %s %s -> %d (%d attempts)",
    spec.call,
    spec.method,
    path,
    answer.statusCode,
    log.attempts,
  );
  if (answer.statusCode < 200 || answer.statusCode >= 300) {
    throw httpError(spec, path, answer, log.attempts);
  }
  return decodeAnswer(spec, path, answer);
}

/** A response as read in full. */
interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** The undici options of one call: JSON headers, the bearer, timeouts, and its retry policy. */
function requestOptions<T>(t: Transport, spec: CallSpec<T>, log: AttemptLog): RequestOptions {
  const headers: Record<string, string> = { accept: "application/json" };
  if (spec.bearer !== undefined) headers.authorization = `Bearer ${spec.bearer}`;
  if (spec.body !== undefined) headers["content-type"] = "application/json";
  return {
    dispatcher: t.dispatcher,
    method: spec.method,
    headers,
    body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
    headersTimeout: t.timeoutMs,
    bodyTimeout: t.timeoutMs,
    retryOptions: {
      retry: retryCallback(
        t.retry,
        { call: spec.call, method: spec.method, safeToRepeat: spec.safeToRepeat ?? false },
        log,
      ),
    },
  };
}

/**
 * Sends the request (retried per the call's policy) and reads the whole body.
 * @throws PlatformUnreachableError when no answer arrived, or the body could not be read.
 */
async function exchange<T>(
  t: Transport,
  spec: CallSpec<T>,
  url: URL,
  log: AttemptLog,
): Promise<Answer> {
  const path = url.pathname + url.search;
  try {
    const response = await request(url, requestOptions(t, spec, log));
    log.responseStarted = true;
    return {
      statusCode: response.statusCode,
      headers: response.headers,
      text: await response.body.text(),
    };
  } catch (err) {
    const causeCode = failureCode(err as object);
    debug("%s %s %s failed: %s", spec.call, spec.method, path, causeCode);
    throw new PlatformUnreachableError({
      call: spec.call,
      method: spec.method,
      origin: url.origin,
      path,
      attempts: log.attempts,
      reason: unreachableReason(causeCode),
      causeCode,
      timeoutMs: t.timeoutMs,
      urlSetting: t.urlSetting,
      cause: err,
    });
  }
}

/**
 * A non-2xx answer as an error: the platform's gRPC status and message, the headers and the
 * start of the body, with the bearer and the call's secrets redacted.
 */
function httpError<T>(
  spec: CallSpec<T>,
  path: string,
  answer: Answer,
  attempts: number,
): PlatformHttpError {
  const secrets = [spec.bearer, ...(spec.secrets ?? [])].filter((s): s is string => !!s);
  const status = parseStatusBody(answer.text);
  return new PlatformHttpError({
    call: spec.call,
    method: spec.method,
    path,
    statusCode: answer.statusCode,
    grpcCode: status.code,
    platformMessage: status.message === undefined ? undefined : redact(status.message, secrets),
    headers: safeHeaders(answer.headers, secrets),
    body: redact(answer.text.slice(0, MAX_ERROR_BODY_CHARS), secrets),
    attempts,
    credential: spec.credential,
  });
}

/**
 * A 2xx answer parsed (an empty body counts as `{}`) and handed to the call's decoder.
 * @throws PlatformResponseError when the body is not JSON or the decoder rejects it.
 */
function decodeAnswer<T>(spec: CallSpec<T>, path: string, answer: Answer): T {
  const fail: Fail = (problem) => {
    throw new PlatformResponseError({
      call: spec.call,
      method: spec.method,
      path,
      statusCode: answer.statusCode,
      problem,
    });
  };
  let json: unknown = {};
  if (answer.text.trim() !== "") {
    try {
      json = JSON.parse(answer.text);
    } catch {
      // No cause: V8's SyntaxError quotes the body, which may hold a credential.
      fail("it is not JSON");
    }
  }
  return spec.decode(json, fail);
}

function unreachableReason(code: string | undefined): UnreachableReason {
  if (code === undefined) return "connection";
  if (/TIMEOUT|ETIMEDOUT/.test(code)) return "timeout";
  if (/CERT|SELF_SIGNED|LEAF_SIGNATURE|TLS|SSL/.test(code)) return "tls";
  return "connection";
}

function parseStatusBody(text: string): { code?: number; message?: string } {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body !== "object" || body === null) return {};
    const { code, message } = body as { code?: unknown; message?: unknown };
    return {
      code: typeof code === "number" ? code : undefined,
      message: typeof message === "string" ? message : undefined,
    };
  } catch {
    return {};
  }
}

function safeHeaders(
  headers: Record<string, string | string[] | undefined>,
  secrets: readonly string[],
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === "set-cookie") continue;
    out[name] = Array.isArray(value)
      ? value.map((v) => redact(v, secrets))
      : redact(value, secrets);
  }
  return out;
}
