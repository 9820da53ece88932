/**
 * Typed client of the Enforce platform API (`docs/platform-api.md`).
 *
 * @module
 */
import type { Agent, Dispatcher } from "undici";
import { PLATFORM_SETTINGS, missingTokenError } from "./config";
import { PlatformHttpError } from "./errors";
import { decodeCluster, decodeIdentity, decodeInvite } from "./internal/decode";
import { decodeEmpty, decodeItems, type Fail } from "./internal/json";
import { idPath, withQuery } from "./internal/paths";
import { requireText, setupTransport } from "./internal/setup";
import { isWellFormedToken } from "./internal/token";
import { send, type CallSpec, type Transport } from "./internal/transport";
import type { RetryOptions } from "./retry";
import type {
  Cluster,
  ClusterFilter,
  CreateIdentityOptions,
  CreateInviteOptions,
  Identity,
  IdentityFilter,
  Invite,
  Uidp,
} from "./types";

/** The longest invite lifetime the platform accepts (168h). */
export const MAX_INVITE_TTL_SECONDS = 168 * 3600;

/** Options of {@link PlatformClient}. */
export interface PlatformClientOptions {
  /** Base URL of the platform API: https, or http on a loopback host. */
  apiUrl: string;
  /**
   * The platform token. May be absent: then every API call rejects with a
   * `PlatformConfigError` naming `enforce:token`, and nothing is sent.
   */
  token?: string;
  /**
   * Transport to send through (e.g. an `Agent` or a `MockAgent`); the client
   * composes its retry interceptor onto it and never closes it.
   * Mutually exclusive with `ca`.
   */
  dispatcher?: Dispatcher;
  /** Headers and body timeout of each attempt, in ms. @default 30000 */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Extra CA certificates (PEM) to trust besides the system roots, e.g. the emulator's. */
  ca?: string;
}

/**
 * Calls of the platform API. Each method's errors are `PlatformError`s whose
 * `call` is the method name; misuse (a bad argument) is a `TypeError` naming
 * the argument. The `delete*` methods resolve `false` when the object was
 * already gone (404).
 */
export class PlatformClient {
  /** The API base URL, without trailing slash. */
  readonly apiUrl: string;
  readonly #transport: Transport;
  readonly #owned: Agent | undefined;
  readonly #token: string | undefined;

  constructor(options: PlatformClientOptions) {
    if (options.token !== undefined && options.token !== "") {
      if (typeof options.token !== "string" || !isWellFormedToken(options.token)) {
        throw new TypeError("options.token must be a token of visible ASCII characters");
      }
      this.#token = options.token;
    }
    const { transport, owned } = setupTransport({
      url: options.apiUrl,
      urlOption: "options.apiUrl",
      urlSetting: PLATFORM_SETTINGS.apiUrl,
      dispatcher: options.dispatcher,
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      ca: options.ca,
    });
    this.#transport = transport;
    this.#owned = owned;
    this.apiUrl = transport.baseUrl.href.replace(/\/+$/, "");
  }

  /**
   * `POST /iam/v1/group_invites/{group}`. Retried even after a connection
   * failure: a duplicate invite is harmless, it just expires.
   */
  async createInvite(group: Uidp, options: CreateInviteOptions): Promise<Invite> {
    const ttl = options?.ttlSeconds;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_INVITE_TTL_SECONDS) {
      throw new TypeError(
        `options.ttlSeconds must be an integer from 1 to ${MAX_INVITE_TTL_SECONDS} (168h), got ${String(ttl)}`,
      );
    }
    const body: { ttl: string; role?: string } = { ttl: `${ttl}s` };
    if (options.role !== undefined) body.role = requireText(options.role, "options.role");
    return this.#call({
      call: "createInvite",
      method: "POST",
      path: idPath("/iam/v1/group_invites", group, "group"),
      body,
      safeToRepeat: true,
      decode: decodeInvite,
    });
  }

  /** `DELETE /iam/v1/group_invites/{id}`; `false` if it did not exist. */
  async deleteInvite(id: Uidp): Promise<boolean> {
    return this.#delete("deleteInvite", idPath("/iam/v1/group_invites", id, "id"));
  }

  /**
   * `POST /iam/v1/identities/{parent}`: an identity with static keys. Not
   * retried once the request may have been sent, since a repeat would create
   * a second identity.
   */
  async createIdentity(parent: Uidp, options: CreateIdentityOptions): Promise<Identity> {
    const expiration = options?.expiration;
    if (!(expiration instanceof Date) || Number.isNaN(expiration.getTime())) {
      throw new TypeError("options.expiration must be a valid Date");
    }
    const keys = options.issuerKeys;
    const body = {
      name: requireText(options.name, "options.name"),
      description: options.description ?? "",
      static: {
        issuer: requireText(options.issuer, "options.issuer"),
        subject: requireText(options.subject, "options.subject"),
        issuerKeys:
          typeof keys === "string" ? requireText(keys, "options.issuerKeys") : JSON.stringify(keys),
        expiration: expiration.toISOString(),
      },
    };
    return this.#call({
      call: "createIdentity",
      method: "POST",
      path: idPath("/iam/v1/identities", parent, "parent"),
      body,
      decode: (json, fail) => decodeIdentity(json, "body", fail),
    });
  }

  /** `GET /iam/v1/identities` filtered by `id` and `uidp.childrenOf`. */
  async listIdentities(filter: IdentityFilter = {}): Promise<Identity[]> {
    const query = [
      ["id", filter.id],
      ["uidp.childrenOf", filter.childrenOf],
    ] as const;
    return this.#list("listIdentities", "/iam/v1/identities", query, decodeIdentity);
  }

  /** `DELETE /iam/v1/identities/{id}`; `false` if it did not exist. */
  async deleteIdentity(id: Uidp): Promise<boolean> {
    return this.#delete("deleteIdentity", idPath("/iam/v1/identities", id, "id"));
  }

  /** `GET /tenant/v1/clusters`; the filters combine with AND. */
  async listClusters(filter: ClusterFilter = {}): Promise<Cluster[]> {
    const query = [
      ["id", filter.id],
      ["remoteId", filter.remoteId],
      ["name", filter.name],
      ["uidp.childrenOf", filter.childrenOf],
      ["uidp.descendantsOf", filter.descendantsOf],
    ] as const;
    return this.#list("listClusters", "/tenant/v1/clusters", query, decodeCluster);
  }

  /**
   * `PUT /tenant/v1/clusters/{id}` with the whole cluster; the platform takes
   * `name`, `description`, `profiles` and `enforcerOptions` from it.
   */
  async updateCluster(cluster: Cluster): Promise<Cluster> {
    return this.#call({
      call: "updateCluster",
      method: "PUT",
      path: idPath("/tenant/v1/clusters", cluster?.id, "cluster.id"),
      body: cluster,
      decode: (json, fail) => decodeCluster(json, "body", fail),
    });
  }

  /** `DELETE /tenant/v1/clusters/{id}`; `false` if it did not exist. */
  async deleteCluster(id: Uidp): Promise<boolean> {
    return this.#delete("deleteCluster", idPath("/tenant/v1/clusters", id, "id"));
  }

  /** Closes the client's own connections; an injected dispatcher is left open. Idempotent. */
  async close(): Promise<void> {
    const owned = this.#owned;
    if (owned && !owned.closed && !owned.destroyed) await owned.close();
  }

  async #call<T>(spec: Omit<CallSpec<T>, "bearer" | "credential">): Promise<T> {
    if (this.#token === undefined) throw missingTokenError(spec.call);
    return send(this.#transport, { ...spec, bearer: this.#token, credential: "platform-token" });
  }

  /** A `GET` of a collection with the filters that are set, decoding each of its `items`. */
  async #list<T>(
    call: string,
    path: string,
    query: Parameters<typeof withQuery>[1],
    decodeOne: (json: unknown, where: string, fail: Fail) => T,
  ): Promise<T[]> {
    return this.#call({
      call,
      method: "GET",
      path: withQuery(path, query),
      decode: (json, fail) => decodeItems(json, fail, decodeOne),
    });
  }

  async #delete(call: string, path: string): Promise<boolean> {
    try {
      await this.#call({ call, method: "DELETE", path, decode: decodeEmpty });
      return true;
    } catch (err) {
      if (err instanceof PlatformHttpError && err.statusCode === 404) return false;
      throw err;
    }
  }
}
