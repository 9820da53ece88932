/**
 * Errors the provider's operations throw (as opposed to `check` failures, which are returned).
 * Each says what happened, why, and what to do; none contains a credential.
 * @module
 */

/** Codes of the provider's errors. */
export type ProviderErrorCode =
  | "ERR_PREREQUISITES"
  | "ERR_REGISTRATION_TIMEOUT"
  | "ERR_REGISTERED_ELSEWHERE"
  | "ERR_CLUSTER_UNREACHABLE"
  | "ERR_PARTIAL";

/** Base of the provider's errors: `code` tells them apart. */
export abstract class ProviderError extends Error {
  abstract readonly code: ProviderErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The cluster no longer meets a prerequisite that `check` verified during preview. */
export class PrerequisiteError extends ProviderError {
  readonly code = "ERR_PREREQUISITES" as const;
  constructor(readonly problems: { property: string; reason: string; remedy: string }[]) {
    super(
      `the cluster does not meet the agent's prerequisites: ` +
        problems.map((p) => `${p.property}: ${p.reason} Fix: ${p.remedy}`).join("; "),
    );
  }
}

/** The agent did not register within `registrationTimeout`; the message says what was seen. */
export class RegistrationTimeoutError extends ProviderError {
  readonly code = "ERR_REGISTRATION_TIMEOUT" as const;
}

/** The agent's installation is registered in another group by something other than this package. */
export class RegisteredElsewhereError extends ProviderError {
  readonly code = "ERR_REGISTERED_ELSEWHERE" as const;
}

/** The cluster could not be reached for an operation that cannot be completed without it. */
export class ClusterUnreachableError extends ProviderError {
  readonly code = "ERR_CLUSTER_UNREACHABLE" as const;
}

/**
 * `create` or `update` failed after changing something. Carries what the engine needs to keep
 * the resource in state as partially created (`id`, `properties`, `reasons`, read by Pulumi's
 * dynamic provider host), so that the next `pulumi up` finishes it and `pulumi destroy` removes it.
 */
export class PartialFailureError extends ProviderError {
  readonly code = "ERR_PARTIAL" as const;
  readonly reasons: string[];
  constructor(
    readonly id: string,
    public properties: Record<string, unknown>,
    cause: Error,
  ) {
    super(
      `${cause.message} The connection was partly ${properties.clusterId ? "updated" : "created"} and is kept in the stack: ` +
        "run `pulumi up` again to finish it, or `pulumi destroy` to remove what was installed.",
      { cause },
    );
    this.reasons = [cause.message];
  }
}
