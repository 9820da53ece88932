/**
 * Client of the platform's issuer, as the in-cluster agent uses it:
 * registration, token exchange, heartbeat, discovery. The provider never
 * calls the issuer; the agent stand-in and the tests do. It sends through the
 * provider's transport (`provider/platform/internal`), so retries, timeouts,
 * redaction and errors are those of the provider's `PlatformClient`.
 *
 * @module
 */
import { PLATFORM_SETTINGS } from "../../provider/platform";
import { requireText } from "../../provider/platform/internal/setup";
import { isWellFormedToken } from "../../provider/platform/internal/token";
import { send, type CallSpec } from "../../provider/platform/internal/transport";
import { ClientTransport, type TransportOptions } from "./client-transport";
import { decodeDiscovery, decodeExchange, decodeHeartbeat, decodeRegister } from "./decode";
import type {
  DiscoveryDocument,
  ExchangeRequest,
  ExchangeResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  RegisterRequest,
  RegisterResponse,
} from "./types";

/** Options of {@link IssuerClient}. */
export interface IssuerClientOptions extends TransportOptions {
  /** Base URL of the issuer: https, or http on a loopback host. */
  issuerUrl: string;
}

/**
 * Calls of the issuer. The bearer of `register`, `exchange` and `heartbeat`
 * is the cluster's service-account token, passed per call; it is never put
 * in an error. All three are safe to repeat (registration is keyed by
 * `remoteId`, exchange mints another short-lived token, heartbeat sets a
 * time), so they are retried after connection failures too.
 */
export class IssuerClient {
  /** The issuer's base URL, without trailing slash. */
  readonly issuerUrl: string;
  readonly #client: ClientTransport;

  constructor(options: IssuerClientOptions) {
    this.#client = new ClientTransport(
      {
        url: options.issuerUrl,
        urlOption: "options.issuerUrl",
        urlSetting: PLATFORM_SETTINGS.issuerUrl,
      },
      options,
    );
    this.issuerUrl = this.#client.transport.baseUrl.href.replace(/\/+$/, "");
  }

  /** `POST /auth/v1/register`: the agent registers its cluster with an invite code. */
  async register(clusterToken: string, body: RegisterRequest): Promise<RegisterResponse> {
    requireText(body?.code, "body.code");
    return this.#withClusterToken(clusterToken, {
      call: "register",
      method: "POST",
      path: "/auth/v1/register",
      body,
      safeToRepeat: true,
      secrets: [body.code],
      decode: decodeRegister,
    });
  }

  /** `POST /sts/exchange`: trades the cluster token for a platform token. */
  async exchange(clusterToken: string, body: ExchangeRequest): Promise<ExchangeResponse> {
    return this.#withClusterToken(clusterToken, {
      call: "exchange",
      method: "POST",
      path: "/sts/exchange",
      body,
      safeToRepeat: true,
      decode: decodeExchange,
    });
  }

  /** `POST /auth/v1/heartbeat`: marks the cluster as seen now. */
  async heartbeat(clusterToken: string, body: HeartbeatRequest): Promise<HeartbeatResponse> {
    requireText(body?.clusterId, "body.clusterId");
    return this.#withClusterToken(clusterToken, {
      call: "heartbeat",
      method: "POST",
      path: "/auth/v1/heartbeat",
      body,
      safeToRepeat: true,
      decode: decodeHeartbeat,
    });
  }

  /** `GET /.well-known/openid-configuration`, anonymously. */
  async discovery(): Promise<DiscoveryDocument> {
    return send(this.#client.transport, {
      call: "discovery",
      method: "GET",
      path: "/.well-known/openid-configuration",
      credential: "none",
      decode: decodeDiscovery,
    });
  }

  /** Closes the client's own connections; an injected dispatcher is left open. Idempotent. */
  close(): Promise<void> {
    return this.#client.close();
  }

  #withClusterToken<T>(
    clusterToken: string,
    spec: Omit<CallSpec<T>, "bearer" | "credential">,
  ): Promise<T> {
    if (typeof clusterToken !== "string" || !isWellFormedToken(clusterToken)) {
      throw new TypeError(
        `clusterToken of ${spec.call} must be a non-empty token of visible ASCII characters`,
      );
    }
    return send(this.#client.transport, {
      ...spec,
      bearer: clusterToken,
      credential: "cluster-token",
    });
  }
}
