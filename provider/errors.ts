/**
 * Errors the provider's operations throw (as opposed to `check` failures, which are returned),
 * following the provider's convention (`util/errors`): codes `ERR_CONNECTION_*` for what
 * happened to a connection, `ERR_INSTALL_*` for the agent's installation, and the ids involved
 * as fields. Each says what happened, why, and what to do; none contains a credential.
 * @module
 */

import type { CheckFailure } from "./inputs/types";
import { EnforceError, errorCode, type EnforceErrorOptions } from "./util/errors";

/** Codes of the provider's errors. */
export type ProviderErrorCode =
  | "ERR_CONNECTION_PREREQUISITES"
  | "ERR_CONNECTION_CHECK_FAILED"
  | "ERR_CONNECTION_REGISTRATION_TIMEOUT"
  | "ERR_CONNECTION_REGISTERED_ELSEWHERE"
  | "ERR_CONNECTION_REGISTRATION_LOST"
  | "ERR_CONNECTION_NAMESPACE_TERMINATING"
  | "ERR_CONNECTION_KEYS_UNREADABLE"
  | "ERR_CONNECTION_CLUSTER_UNREACHABLE"
  | "ERR_CONNECTION_PARTIAL"
  | "ERR_INSTALL_MANIFEST"
  | "ERR_INSTALL_DELETE_TIMEOUT"
  | "ERR_INSTALL_WEBHOOK_LEFT";

/** Base of the provider's errors: `code` tells them apart. */
export abstract class ProviderError extends EnforceError {
  abstract override readonly code: ProviderErrorCode;
}

/** One unmet prerequisite, as `check` reports it. */
export interface Prerequisite {
  /** The input it concerns (`kubeconfig`, `connectivity`...). */
  property: string;
  /** What is wrong. */
  reason: string;
  /** What to do about it. */
  remedy: string;
}

/** The cluster no longer meets a prerequisite that `check` verified during preview. */
export class PrerequisiteError extends ProviderError {
  static readonly code = "ERR_CONNECTION_PREREQUISITES";
  override readonly code = PrerequisiteError.code;

  constructor(
    /** Each unmet prerequisite, with its remedy. */
    readonly problems: Prerequisite[],
  ) {
    super(
      `the cluster does not meet the agent's prerequisites: ` +
        problems.map((p) => `${p.property}: ${p.reason} Fix: ${p.remedy}`).join("; "),
      { fix: problems.map((p) => p.remedy).join(" ") },
    );
  }
}

/**
 * The cluster checks that `check` started and `diff` awaited (when the engine runs diffs
 * concurrently) found what `check` itself would have failed on: the same reasons, each naming
 * its input.
 */
export class CheckFailedError extends ProviderError {
  static readonly code = "ERR_CONNECTION_CHECK_FAILED";
  override readonly code = CheckFailedError.code;

  constructor(
    /** The failures, as `check` reports them. */
    readonly failures: CheckFailure[],
  ) {
    super(
      `the connection's check failed: ` +
        failures.map((f) => `${f.property}: ${f.reason}`).join("; "),
      {
        fix: "fix the inputs named, or the cluster, as each reason says; then run the command again",
      },
    );
  }
}

/** The ids of a registration, as options of the errors about it. */
export interface RegistrationIds {
  /** The cluster's name in Enforce. */
  clusterName?: string;
  /** The Enforce group (UIDP) the cluster is, or was to be, registered in. */
  group?: string;
  /** The agent installation's id: the UID of its namespace. */
  remoteId?: string;
  /** The Enforce cluster id. */
  clusterId?: string;
  /** The static-key identity the agent registers with; `""` for a public connection. */
  identityId?: string;
}

/**
 * Base of the errors about one connection's registration: the ids at hand when it was thrown
 * are fields (undefined when not known there).
 */
export abstract class RegistrationError extends ProviderError {
  /** The cluster's name in Enforce. */
  readonly clusterName: string | undefined;
  /** The Enforce group (UIDP) concerned. */
  readonly group: string | undefined;
  /** The agent installation's id: the UID of its namespace. */
  readonly remoteId: string | undefined;
  /** The Enforce cluster id. */
  readonly clusterId: string | undefined;
  /** The static-key identity the agent registers with; `""` for a public connection. */
  readonly identityId: string | undefined;

  constructor(message: string, options: EnforceErrorOptions & RegistrationIds = {}) {
    super(message, options);
    this.clusterName = options.clusterName;
    this.group = options.group;
    this.remoteId = options.remoteId;
    this.clusterId = options.clusterId;
    this.identityId = options.identityId;
  }
}

/** The agent did not register within `registrationTimeout`; the message says what was seen. */
export class RegistrationTimeoutError extends RegistrationError {
  static readonly code = "ERR_CONNECTION_REGISTRATION_TIMEOUT";
  override readonly code = RegistrationTimeoutError.code;
  /** How long it waited, in seconds. */
  readonly timeoutSeconds: number | undefined;

  constructor(
    message: string,
    options: EnforceErrorOptions & RegistrationIds & { timeoutSeconds?: number } = {},
  ) {
    super(message, options);
    this.timeoutSeconds = options.timeoutSeconds;
  }
}

/**
 * The agent's installation is registered in another group by something other than this package.
 * `group` and `clusterId` are that registration's, `remoteId` the installation's.
 */
export class RegisteredElsewhereError extends RegistrationError {
  static readonly code = "ERR_CONNECTION_REGISTERED_ELSEWHERE";
  override readonly code = RegisteredElsewhereError.code;
}

/** The platform lost the cluster's registration while an update ran. */
export class RegistrationLostError extends ProviderError {
  static readonly code = "ERR_CONNECTION_REGISTRATION_LOST";
  override readonly code = RegistrationLostError.code;

  constructor(
    /** The Enforce cluster id that is no longer registered. */
    readonly clusterId: string,
  ) {
    const fix = "Run `pulumi up` again to register it anew.";
    super(
      `cluster ${clusterId} is no longer registered with Enforce (deleted while this update ran?). ${fix}`,
      { fix },
    );
  }
}

/** The agent's namespace is being deleted, so the agent cannot be installed into it yet. */
export class NamespaceTerminatingError extends ProviderError {
  static readonly code = "ERR_CONNECTION_NAMESPACE_TERMINATING";
  override readonly code = NamespaceTerminatingError.code;

  constructor(
    /** The agent's namespace. */
    readonly namespace: string,
  ) {
    const fix = `wait until it is gone (kubectl get namespace ${namespace}), then run \`pulumi up\` again.`;
    super(
      `namespace ${namespace} is being deleted, so the agent cannot be installed into it yet. Fix: ${fix}`,
      { fix },
    );
  }
}

/** A private connection's keys to upload could not be read from the cluster. */
export class KeysUnreadableError extends ProviderError {
  static readonly code = "ERR_CONNECTION_KEYS_UNREADABLE";
  override readonly code = KeysUnreadableError.code;

  constructor(
    /** The cluster's service-account issuer, when known. */
    readonly issuer?: string,
  ) {
    const fix =
      "check that the cluster serves its JWKS to this kubeconfig (kubectl get --raw /openid/v1/jwks), " +
      "then run `pulumi up` again.";
    super(`the cluster's JWKS could not be read, so there are no keys to upload. Fix: ${fix}`, {
      fix,
    });
  }
}

/** The cluster could not be reached for an operation that cannot be completed without it. */
export class ClusterUnreachableError extends RegistrationError {
  static readonly code = "ERR_CONNECTION_CLUSTER_UNREACHABLE";
  override readonly code = ClusterUnreachableError.code;
}

/** The agent's manifests, as packaged, cannot be used: the package is damaged or mismatched. */
export class ManifestError extends ProviderError {
  static readonly code = "ERR_INSTALL_MANIFEST";
  override readonly code = ManifestError.code;
  /** The manifest file concerned, if one. */
  readonly file: string | undefined;

  constructor(
    problem: string,
    options: {
      /** The manifest file concerned, if one. */
      file?: string;
      cause?: unknown;
    } = {},
  ) {
    const fix = "reinstall pulumi-enforce: its manifests do not match its code.";
    super(`${problem}. Fix: ${fix}`, { ...options, fix });
    this.file = options.file;
  }
}

/** Deleted objects did not go away in time: finalizers still hold some of them. */
export class DeleteTimeoutError extends ProviderError {
  static readonly code = "ERR_INSTALL_DELETE_TIMEOUT";
  override readonly code = DeleteTimeoutError.code;

  constructor(
    /** What timed out, e.g. `timed out after 180s waiting for Namespace gulfstream to be deleted (...)`. */
    what: string,
    /** The objects it waited for, as `Kind namespace/name`. */
    readonly objects: string[],
    options: { cause?: unknown } = {},
  ) {
    const fix =
      "find what keeps them (`kubectl get <kind> <name> -o yaml` shows their finalizers, and a " +
      "namespace's conditions say what it still holds), resolve it, then run the Pulumi command " +
      "again: it resumes where this stopped.";
    super(`${what}. Fix: ${fix}`, { ...options, fix });
  }
}

/**
 * After an uninstall, webhook configurations still call a Service in the agent's namespace,
 * whose backend is gone: a fail-closed one would refuse every request it matches.
 */
export class WebhookLeftError extends ProviderError {
  static readonly code = "ERR_INSTALL_WEBHOOK_LEFT";
  override readonly code = WebhookLeftError.code;

  constructor(
    /** The namespace they point into. */
    readonly namespace: string,
    /** The configurations left, as `Kind name`. */
    readonly configurations: string[],
    /** The commands that delete them. */
    readonly commands: string[],
  ) {
    const fix = `delete them (${commands.join("; ")}), then run the command again.`;
    super(
      `after the uninstall, ${configurations.join(", ")} still call a Service in namespace ` +
        `${namespace}, whose agent is gone: a fail-closed webhook among them blocks every ` +
        `request it selects (such as pod creation). Fix: ${fix}`,
      { fix },
    );
  }
}

/**
 * `create` or `update` failed after changing something. Carries what the engine needs to keep
 * the resource in state as partially created (`id`, `properties`, `reasons`, read by Pulumi's
 * dynamic provider host), so that the next `pulumi up` finishes it and `pulumi destroy` removes it.
 */
export class PartialFailureError extends ProviderError {
  static readonly code = "ERR_CONNECTION_PARTIAL";
  override readonly code = PartialFailureError.code;
  /**
   * What the CLI prints: the cause's message (after its code when it has one), then that the
   * connection is kept and what to do.
   */
  readonly reasons: string[];
  /** The cause's `code` (`ERR_KUBE_UNREACHABLE`, `ERR_CONNECTION_REGISTRATION_TIMEOUT`...), if any. */
  readonly causeCode: string | undefined;

  constructor(
    /** The connection's id. */
    readonly id: string,
    /** The state reached, as outputs. */
    public properties: Record<string, unknown>,
    cause: Error,
    /** Whether the connection had been registered before (it was being updated). */
    registered = false,
  ) {
    const fix =
      "run `pulumi up` again to finish it, or `pulumi destroy` to remove what was installed.";
    const kept = `The connection was partly ${registered ? "updated" : "created"} and is kept in the stack: ${fix}`;
    super(`${cause.message} ${kept}`, { cause, fix });
    this.causeCode = errorCode(cause);
    // The CLI prints the reasons, not the message: what happened, then what to do.
    this.reasons = [this.causeCode ? `${this.causeCode}: ${cause.message}` : cause.message, kept];
  }
}
