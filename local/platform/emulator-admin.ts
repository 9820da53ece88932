/**
 * What the clients of the emulator's own endpoints (`/_emulator/v1/...`) share: one transport
 * to the emulator's API URL, and calls made with a root-group token.
 *
 * @module
 */
import { PLATFORM_SETTINGS } from "../../provider/platform";
import { isWellFormedToken } from "../../provider/platform/internal/token";
import { send, type CallSpec } from "../../provider/platform/internal/transport";
import { ClientTransport, type TransportOptions } from "./client-transport";

/** Options of a client of the emulator's own endpoints. */
export interface EmulatorAdminOptions extends TransportOptions {
  /** Base URL of the emulator's platform API. */
  apiUrl: string;
  /** An API token of the emulator's root group: these endpoints answer no other. */
  token: string;
}

/** Base of the clients of the emulator's own endpoints. */
export abstract class EmulatorAdminClient {
  readonly #client: ClientTransport;
  readonly #token: string;

  constructor(options: EmulatorAdminOptions) {
    if (typeof options.token !== "string" || !isWellFormedToken(options.token)) {
      throw new TypeError("options.token must be a non-empty token of visible ASCII characters");
    }
    this.#token = options.token;
    this.#client = new ClientTransport(
      { url: options.apiUrl, urlOption: "options.apiUrl", urlSetting: PLATFORM_SETTINGS.apiUrl },
      options,
    );
  }

  /** Closes the client's own connections; an injected dispatcher is left open. Idempotent. */
  close(): Promise<void> {
    return this.#client.close();
  }

  /** One call with the root-group token. */
  protected send<T>(spec: Omit<CallSpec<T>, "bearer" | "credential">): Promise<T> {
    return send(this.#client.transport, {
      ...spec,
      bearer: this.#token,
      credential: "platform-token",
    });
  }
}
