/**
 * A local emulator of the parts of the Enforce platform this package uses:
 * the API of docs/platform-api.md and the issuer, backed by SQLite.
 */
export { startEmulator, type RunningEmulator } from "./emulator";
export { PLATFORM_IDENTITY_MAX_LIFETIME_SECONDS, type EmulatorOptions } from "./options";
export { CLUSTER_AUDIENCE, CLUSTER_SUBJECT } from "./verify";
export { EXCHANGED_TOKEN_LIFETIME_SECONDS, JWKS_PATH } from "./issuer";
export { DEFAULT_INVITE_TTL_MS, MAX_INVITE_TTL_MS } from "./iam-invites";
export { keyIdOf } from "./signing-key";
export { isChildOf, isDescendantOf, isUidp, newChildUidp, newRootUidp } from "./uidp";
export type { Logger } from "./log";
