/**
 * The platform calls that only the local environment and the tests make: the
 * issuer's (the agent's side of registration), the emulator's audit trail, its
 * fault injection and its token minting.
 * Errors, retries and transport are the provider's (`provider/platform`).
 *
 * @module
 */
export * from "./types";
export { IssuerClient, type IssuerClientOptions } from "./issuer-client";
export { AuditClient, type AuditClientOptions } from "./audit-client";
export { FaultClient, type FaultClientOptions } from "./fault-client";
export { TokenClient, type TokenClientOptions } from "./token-client";
