/**
 * JSON shapes of the issuer (`docs/platform-api.md`), as the agent sends and
 * reads them, and of the local emulator's audit trail. Field names are the
 * wire names; times are RFC 3339 strings in UTC.
 *
 * @module
 */
import type { EnforcerOptions, Uidp } from "../../provider/platform";

/** One entry of the emulator's audit log; query strings and bodies are left out. */
export interface AuditEntry {
  seq: number;
  time: string;
  method: string;
  path: string;
  status: number;
}

/** Body of `POST /auth/v1/register`, sent by the agent with its cluster token. */
export interface RegisterRequest {
  /** The invite code: a credential. */
  code: string;
  remoteId: string;
  clusterName: string;
  clusterDescription: string;
  /** Present for private clusters: the static-key identity to verify the token against. */
  identityId?: string;
  profiles?: string[];
  enforcerOptions?: EnforcerOptions;
  agentVersion?: string;
}

/** Answer to a successful registration. */
export interface RegisterResponse {
  identity: string;
  group: string;
  clusterId: Uidp;
}

/** Body of `POST /sts/exchange`. */
export interface ExchangeRequest {
  aud: string[];
  scope: string;
  identity: string;
  cap: string[];
}

/** Answer of the token exchange; `token` is a credential. */
export interface ExchangeResponse {
  token: string;
}

/** Body of `POST /auth/v1/heartbeat`. */
export interface HeartbeatRequest {
  clusterId: Uidp;
  agentVersion?: string;
}

/** Answer of a heartbeat. */
export interface HeartbeatResponse {
  lastSeen: string;
}

/** The issuer's OpenID discovery document; fields beyond these are kept as they come. */
export interface DiscoveryDocument {
  issuer: string;
  jwks_uri: string;
  [field: string]: unknown;
}

/**
 * A fault rule for the emulator (`POST /_emulator/v1/faults`): either `status` (with an optional
 * `retryAfterSeconds`) or `drop`, for the calls that match `method` and `path` (a prefix), the
 * next `times` of them or for `forSeconds`, or until cleared.
 */
export interface FaultRequest {
  /** Answer with this status and a grpc-gateway status body. */
  status?: 429 | 500 | 503;
  /** A `Retry-After` header, in seconds. */
  retryAfterSeconds?: number;
  /** Destroy the connection without an answer. */
  drop?: true;
  method?: "GET" | "POST" | "PUT" | "DELETE";
  /** A path prefix, e.g. `/iam/v1/identities`. */
  path?: string;
  times?: number;
  forSeconds?: number;
  /** Fail after the call took effect, instead of before it reaches the emulator's handler. */
  afterHandling?: boolean;
}

/** A fault rule in force. */
export interface FaultState {
  id: number;
  /** How many calls it failed so far. */
  hits: number;
}
