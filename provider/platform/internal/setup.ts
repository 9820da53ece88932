/**
 * Constructor plumbing shared by every platform client (the provider's, and
 * the issuer and audit clients of the local environment): option checks and
 * the transport they send through.
 * @module
 */

import type { Agent, Dispatcher } from "undici";
import type { PlatformSetting } from "../config";
import { createPlatformDispatcher } from "../dispatcher";
import { retryPolicy, type RetryOptions } from "../retry";
import type { Transport } from "./transport";
import { parseBaseUrl } from "./url";

/** Default headers and body timeout of each attempt. */
export const DEFAULT_TIMEOUT_MS = 30_000;
// undici's own default; a connect that takes longer will not succeed later.
const MAX_CONNECT_TIMEOUT_MS = 10_000;

export interface SetupOptions {
  url: string;
  /** Name of the URL option, for TypeErrors (`options.apiUrl`). */
  urlOption: string;
  urlSetting: PlatformSetting;
  dispatcher?: Dispatcher;
  timeoutMs?: number;
  retry?: RetryOptions;
  ca?: string;
}

/** @throws TypeError naming the option that is wrong. */
export function setupTransport(options: SetupOptions): {
  transport: Transport;
  owned: Agent | undefined;
} {
  const parsed = parseBaseUrl(options.url);
  if (!parsed.ok) throw new TypeError(`${options.urlOption} ${parsed.problem}`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`options.timeoutMs must be a positive integer, got ${String(timeoutMs)}`);
  }
  if (options.ca !== undefined && !options.ca.includes("-----BEGIN CERTIFICATE-----")) {
    throw new TypeError("options.ca must be PEM text holding at least one certificate");
  }
  const retry = retryPolicy(options.retry);
  const { dispatcher, owned } = createPlatformDispatcher({
    dispatcher: options.dispatcher,
    ca: options.ca,
    connectTimeoutMs: Math.min(timeoutMs, MAX_CONNECT_TIMEOUT_MS),
    retry,
  });
  return {
    transport: {
      dispatcher,
      baseUrl: parsed.url,
      timeoutMs,
      retry,
      urlSetting: options.urlSetting,
    },
    owned,
  };
}

/** @throws TypeError naming `option` unless `value` is a non-empty string. */
export function requireText(value: unknown, option: string): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`${option} must be a non-empty string`);
  }
  return value;
}
