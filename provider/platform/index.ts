/**
 * Typed client of the Enforce platform API.
 *
 * @module
 */
export * from "./types";
export {
  PlatformError,
  PlatformHttpError,
  PlatformUnreachableError,
  PlatformResponseError,
  PlatformConfigError,
  grpcCodeName,
  type PlatformErrorCode,
  type CallCredential,
  type UnreachableReason,
} from "./errors";
export {
  resolvePlatformConfig,
  missingTokenError,
  DEFAULT_API_URL,
  DEFAULT_ISSUER_URL,
  PLATFORM_SETTINGS,
  type PlatformConfig,
  type PlatformSetting,
  type StackConfig,
} from "./config";
export { readCaFile } from "./ca";
export {
  retryPolicy,
  decideRetry,
  backoffDelay,
  parseRetryAfter,
  createRetryInterceptor,
  type RetryOptions,
  type RetryPolicy,
  type RetryCallInfo,
  type RetryDecision,
} from "./retry";
export { createPlatformDispatcher, type PlatformDispatcherOptions } from "./dispatcher";
export { PlatformClient, MAX_INVITE_TTL_SECONDS, type PlatformClientOptions } from "./client";
export { platformClientFromConfig, type PlatformClientExtras } from "./from-config";
