/**
 * API errors rendered as grpc-gateway status bodies:
 * `{"code": <gRPC code>, "message": "...", "details": []}` with the matching
 * HTTP status. Messages say what happened and what to do; they never carry a
 * credential (token, invite code or key).
 */

const STATUS = {
  InvalidArgument: { grpc: 3, http: 400 },
  Unauthenticated: { grpc: 16, http: 401 },
  PermissionDenied: { grpc: 7, http: 403 },
  NotFound: { grpc: 5, http: 404 },
  Unimplemented: { grpc: 12, http: 501 },
  AlreadyExists: { grpc: 6, http: 409 },
  FailedPrecondition: { grpc: 9, http: 412 },
  ResourceExhausted: { grpc: 8, http: 429 },
  Internal: { grpc: 13, http: 500 },
  Unavailable: { grpc: 14, http: 503 },
} as const;

/** The gRPC status names the emulator answers with. */
export type StatusName = keyof typeof STATUS;

/** The JSON body of an error response. */
export interface StatusBody {
  code: number;
  message: string;
  details: unknown[];
}

/** An error that becomes an HTTP response with a grpc-gateway status body. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  /** HTTP status of the response. */
  readonly httpStatus: number;
  /** Numeric gRPC code in the body. */
  readonly grpcCode: number;
  /** Seconds for a `Retry-After` header (429 and 503 only). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly status: StatusName,
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.httpStatus = STATUS[status].http;
    this.grpcCode = STATUS[status].grpc;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The grpc-gateway body for this error. */
  toBody(): StatusBody {
    return { code: this.grpcCode, message: this.message, details: [] };
  }
}

export const invalidArgument = (message: string): ApiError =>
  new ApiError("InvalidArgument", message);
export const unauthenticated = (message: string, cause?: unknown): ApiError =>
  new ApiError("Unauthenticated", message, { cause });
export const permissionDenied = (message: string): ApiError =>
  new ApiError("PermissionDenied", message);
export const notFound = (message: string): ApiError => new ApiError("NotFound", message);
export const alreadyExists = (message: string): ApiError => new ApiError("AlreadyExists", message);
export const failedPrecondition = (message: string): ApiError =>
  new ApiError("FailedPrecondition", message);
export const unavailable = (
  message: string,
  retryAfterSeconds: number,
  cause?: unknown,
): ApiError => new ApiError("Unavailable", message, { retryAfterSeconds, cause });
