/**
 * JSON shapes of the Enforce platform API, as described in
 * `docs/platform-api.md` (the issuer's, which only the agent uses, are in
 * `local/platform/types.ts`). Field names are the wire names (grpc-gateway
 * lowerCamelCase); times are RFC 3339 strings in UTC.
 *
 * @module
 */

/**
 * A UIDP: a 40-hex-digit root followed by `/`-separated 16-hex-digit segments.
 * A child's id is its parent's id plus one segment.
 */
export type Uidp = string;

/** A group invite; `code` is the only credential and is shown once, at creation. */
export interface Invite {
  id: Uidp;
  /** RFC 3339 time after which the code is refused. */
  expiration: string;
  keyId: string;
  role: string;
  /** The invite code itself: a credential, never log or store it in plain text. */
  code: string;
}

/** Static verification keys of an identity, used by private clusters. */
export interface StaticKeys {
  /** The cluster's service-account issuer (`iss` of its tokens). */
  issuer: string;
  /** The subject the platform accepts, e.g. `system:serviceaccount:gulfstream:controller`. */
  subject: string;
  /** The cluster's JWKS, serialised as a JSON string. */
  issuerKeys: string;
  /** RFC 3339 time after which the keys are no longer accepted (at most 30 days ahead). */
  expiration: string;
}

/** A platform identity. Only static-key identities are used by this package. */
export interface Identity {
  id: Uidp;
  name: string;
  description: string;
  static?: StaticKeys;
}

/** Which namespaces the enforcer's webhooks select. */
export type NamespaceEnforcementMode = "OptIn" | "OptOut";

/** Options of the in-cluster enforcer. */
export interface EnforcerOptions {
  webhookFailOpen: boolean;
  enableCipCache: boolean;
  namespaceEnforcementMode: NamespaceEnforcementMode;
}

/**
 * A connected cluster. `PUT` may change `name`, `description`, `profiles` and
 * `enforcerOptions`; the other fields are owned by the platform.
 */
export interface Cluster {
  id: Uidp;
  /** UID of the agent's `gulfstream` Namespace in the cluster. */
  remoteId: string;
  issuer: string;
  registered: string;
  lastSeen: string;
  version: string;
  agentVersion: string;
  name: string;
  description: string;
  group: string;
  /** Opaque to this package; passed back unchanged on update. */
  activity?: unknown;
  profiles: string[];
  enforcerOptions: EnforcerOptions;
  /** The static-key identity a private cluster registered with; `""` for public clusters. */
  identityId: string;
}

/** Filters of `GET /tenant/v1/clusters`; they combine with AND. */
export interface ClusterFilter {
  id?: Uidp;
  remoteId?: string;
  name?: string;
  /** Only direct children of this group. */
  childrenOf?: Uidp;
  /** Any cluster below this group. */
  descendantsOf?: Uidp;
}

/** Filters of `GET /iam/v1/identities`; they combine with AND. */
export interface IdentityFilter {
  id?: Uidp;
  childrenOf?: Uidp;
}

/** Options of `PlatformClient.createInvite`. */
export interface CreateInviteOptions {
  /** Lifetime of the invite in whole seconds, 1 to 604800 (168h). */
  ttlSeconds: number;
  /** Role granted to whoever redeems the invite; the platform's default when omitted. */
  role?: string;
}

/**
 * A JSON Web Key Set as an object (as the cluster serves it, and as it is uploaded, serialised
 * to a string): each key has its type, its id when it has one, and its other fields.
 */
export interface JsonWebKeySet {
  keys: Array<{ kid?: string; kty: string; [field: string]: unknown }>;
}

/** Options of `PlatformClient.createIdentity`. */
export interface CreateIdentityOptions {
  name: string;
  description?: string;
  issuer: string;
  subject: string;
  /** The JWKS, as a JSON string or an object (serialised as-is). */
  issuerKeys: string | JsonWebKeySet;
  expiration: Date;
}

/** A grpc-gateway error body. */
export interface StatusBody {
  code: number;
  message: string;
  details?: unknown[];
}
