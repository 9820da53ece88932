/**
 * The platform calls that only the local environment and the tests make: the
 * issuer's (the agent's side of registration) and the emulator's audit trail.
 * Errors, retries and transport are the provider's (`provider/platform`).
 *
 * @module
 */
export * from "./types";
export { IssuerClient, type IssuerClientOptions } from "./issuer-client";
export { AuditClient, type AuditClientOptions } from "./audit-client";
