/**
 * Errors the provider's operations throw (as opposed to `check` failures, which are returned).
 * @module
 */

/** Codes of the provider's errors. */
export type ProviderErrorCode = "ERR_NOT_IMPLEMENTED";

/** Base of the provider's errors: `code` tells them apart. */
export abstract class ProviderError extends Error {
  abstract readonly code: ProviderErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An operation this version of the provider does not implement yet. */
export class NotImplementedError extends ProviderError {
  readonly code = "ERR_NOT_IMPLEMENTED" as const;
  constructor(readonly operation: string) {
    super(
      `EnforceClusterConnection ${operation} is not implemented yet in this version of pulumi-enforce: ` +
        "only preview (check) works. Run `pulumi preview` for now, or upgrade pulumi-enforce to a version that connects clusters.",
    );
  }
}
