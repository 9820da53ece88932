/**
 * The one convention every error of the provider follows. An error is a class deriving from
 * {@link EnforceError}, with:
 * - a stable `code`, `ERR_<AREA>_<WHAT>` (`ERR_KUBE_STATUS`, `ERR_PLATFORM_HTTP`,
 *   `ERR_CONNECTION_PARTIAL`...), on the class (`static code`) and on each instance;
 * - a message that says what happened, why, and what to do;
 * - `fix`, the what-to-do part alone, when there is one, for a program that shows it apart;
 * - the ids it talks about as typed fields (`clusterId`, `group`, `remoteId`, `identityId`...),
 *   so that a program does not have to parse the message for them;
 * - `name` set from the class, `cause` kept, and never a credential.
 *
 * It sits in `util/` so that every layer, the Kubernetes and platform clients included, can
 * derive from it.
 * @module
 */

/** Options every {@link EnforceError} takes. */
export interface EnforceErrorOptions {
  /** The error that led to this one. */
  cause?: unknown;
  /** What to do about it, when the message says so: the same words, without the rest. */
  fix?: string;
}

/** Base class of the provider's errors: catch it to catch them all, tell them apart by `code`. */
export abstract class EnforceError extends Error {
  /** Stable, machine-readable code, `ERR_<AREA>_<WHAT>`; the class has it as `static code` too. */
  abstract readonly code: string;
  /** What to do about it, when known: the advice the message ends with, alone. */
  readonly fix: string | undefined;

  constructor(message: string, options: EnforceErrorOptions = {}) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.fix = options.fix;
  }
}

/** The `code` of an error, if it has one (an {@link EnforceError}'s, or Node's `ECONNRESET`...). */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" && code !== "" ? code : undefined;
}

/**
 * An error's message apart from the fix it ends with (`fix` undefined when it has none), so that
 * a report can put the fix where its reader looks for one.
 */
export function splitFix(err: Error): { what: string; fix: string | undefined } {
  const fix = err instanceof EnforceError ? err.fix : undefined;
  if (!fix || !err.message.endsWith(fix)) return { what: err.message, fix };
  const what = err.message.slice(0, -fix.length).replace(/[\s;:,.]+$/, "");
  return { what, fix };
}
