/** Codes of the errors the Kubernetes client raises. */
export type KubeErrorCode = "ERR_KUBE_API" | "ERR_KUBE_UNREACHABLE" | "ERR_KUBECONFIG";

/** Base of the Kubernetes client's errors: `code` tells them apart. */
export abstract class KubeError extends Error {
  abstract readonly code: KubeErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The API server answered with an error status. `reason` is the Status
 * reason (`NotFound`, `Forbidden`, ...) and `apiMessage` its message, which
 * Kubernetes never fills with credentials.
 */
export class KubeApiError extends KubeError {
  readonly code = "ERR_KUBE_API" as const;
  constructor(
    readonly call: string,
    readonly statusCode: number,
    readonly reason: string,
    readonly apiMessage: string,
  ) {
    super(
      `${call}: the API server answered ${statusCode} ${reason}${apiMessage ? `: ${apiMessage}` : ""}`,
    );
  }
}

/** The API server could not be reached (DNS, TCP, TLS, timeout). */
export class KubeUnreachableError extends KubeError {
  readonly code = "ERR_KUBE_UNREACHABLE" as const;
  constructor(
    readonly server: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `cannot reach the Kubernetes API server at ${server}: ${detail}. ` +
        `Check that the cluster is running and that the kubeconfig's server address and credentials are current.`,
      options,
    );
  }
}

/** The kubeconfig could not be loaded or lacks what is needed. */
export class KubeconfigError extends KubeError {
  readonly code = "ERR_KUBECONFIG" as const;
}
