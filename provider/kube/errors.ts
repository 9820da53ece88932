/**
 * Errors of the Kubernetes client, following the provider's convention (`../util/errors`):
 * codes `ERR_KUBE_*`, the call and the server as fields. None contains a credential.
 * @module
 */

import { EnforceError, type EnforceErrorOptions } from "../util/errors";

/** Codes of the errors the Kubernetes client raises. */
export type KubeErrorCode =
  | "ERR_KUBE_STATUS"
  | "ERR_KUBE_UNREACHABLE"
  | "ERR_KUBE_TOO_LARGE"
  | "ERR_KUBE_CONFIG";

/** Base of the Kubernetes client's errors: catch it to catch them all, `code` tells them apart. */
export abstract class KubeError extends EnforceError {
  abstract override readonly code: KubeErrorCode;
}

/**
 * The API server answered with an error Status. `reason` is the Status reason (`NotFound`,
 * `Forbidden`, ...) and `apiMessage` its message, which Kubernetes never fills with credentials.
 */
export class KubeStatusError extends KubeError {
  static readonly code = "ERR_KUBE_STATUS";
  override readonly code = KubeStatusError.code;

  constructor(
    /** The request, e.g. `GET /api/v1/namespaces/gulfstream`. */
    readonly call: string,
    /** The HTTP status, e.g. `403`. */
    readonly statusCode: number,
    /** The Status reason, e.g. `Forbidden`. */
    readonly reason: string,
    /** The Status message. */
    readonly apiMessage: string,
  ) {
    super(
      `${call}: the API server answered ${statusCode} ${reason}${apiMessage ? `: ${apiMessage}` : ""}`,
    );
  }
}

/** The API server could not be reached (DNS, TCP, TLS, timeout). */
export class KubeUnreachableError extends KubeError {
  static readonly code = "ERR_KUBE_UNREACHABLE";
  override readonly code = KubeUnreachableError.code;

  constructor(
    /** The API server's address, from the kubeconfig. */
    readonly server: string,
    /** What went wrong, e.g. `connection refused (is the cluster running?)`. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    const fix =
      "Check that the cluster is running and that the kubeconfig's server address and credentials are current.";
    super(`cannot reach the Kubernetes API server at ${server}: ${detail}. ${fix}`, {
      ...options,
      fix,
    });
  }
}

/**
 * An answer larger than the request's bound: the read was stopped there, so a server that
 * sends without end costs neither memory nor time. No Kubernetes answer this package reads comes
 * near the bound; the server is likely not the API server itself.
 */
export class KubeResponseTooLargeError extends KubeError {
  static readonly code = "ERR_KUBE_TOO_LARGE";
  override readonly code = KubeResponseTooLargeError.code;

  constructor(
    /** The request, e.g. `GET /openid/v1/jwks`. */
    readonly call: string,
    /** The API server's address, from the kubeconfig. */
    readonly server: string,
    /** The bound the answer passed, in bytes. */
    readonly limitBytes: number,
  ) {
    const fix =
      "Check that the kubeconfig's server address is the Kubernetes API server (or a proxy that passes its answers through unchanged).";
    super(
      `${call}: the answer from ${server} is larger than ${formatBytes(limitBytes)}, more than this request ever needs, so the read was stopped. ${fix}`,
      { fix },
    );
  }
}

/** `1 MiB`, `64 MiB`, or bytes below 1 MiB. */
function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes} bytes`;
}

/** The kubeconfig could not be loaded or lacks what is needed. */
export class KubeconfigError extends KubeError {
  static readonly code = "ERR_KUBE_CONFIG";
  override readonly code = KubeconfigError.code;

  /** The kubeconfig's path, when it was given as one (never its contents). */
  readonly path: string | undefined;
  /** The context asked for, if any. */
  readonly context: string | undefined;
  /** The input to change: `context` when the kubeconfig is fine but the context is not. */
  readonly input: "kubeconfig" | "context";

  constructor(
    message: string,
    options?: EnforceErrorOptions & {
      path?: string;
      context?: string;
      input?: "kubeconfig" | "context";
    },
  ) {
    super(message, options);
    this.path = options?.path;
    this.context = options?.context;
    this.input = options?.input ?? "kubeconfig";
  }
}
