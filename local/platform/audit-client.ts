/**
 * Client of the local emulator's audit trail (`GET /_emulator/v1/audit`), an
 * endpoint of the emulator only: tests read it to check which platform calls
 * a run made, in which order.
 *
 * @module
 */
import { PLATFORM_SETTINGS } from "../../provider/platform";
import { decodeItems } from "../../provider/platform/internal/json";
import { withQuery } from "../../provider/platform/internal/paths";
import { isWellFormedToken } from "../../provider/platform/internal/token";
import { send } from "../../provider/platform/internal/transport";
import { ClientTransport, type TransportOptions } from "./client-transport";
import { decodeAuditEntry } from "./decode";
import type { AuditEntry } from "./types";

/** Options of {@link AuditClient}. */
export interface AuditClientOptions extends TransportOptions {
  /** Base URL of the emulator's platform API. */
  apiUrl: string;
  /** An API token of the emulator's root group: the trail is readable with no other. */
  token: string;
}

/** Reads the emulator's audit trail. */
export class AuditClient {
  readonly #client: ClientTransport;
  readonly #token: string;

  constructor(options: AuditClientOptions) {
    if (typeof options.token !== "string" || !isWellFormedToken(options.token)) {
      throw new TypeError("options.token must be a non-empty token of visible ASCII characters");
    }
    this.#token = options.token;
    this.#client = new ClientTransport(
      { url: options.apiUrl, urlOption: "options.apiUrl", urlSetting: PLATFORM_SETTINGS.apiUrl },
      options,
    );
  }

  /**
   * The entries after sequence number `after` (all when omitted), oldest first. The answer
   * stops before the first call still in progress, and this call shows up in later answers.
   */
  async audit(after?: number): Promise<AuditEntry[]> {
    if (after !== undefined && (!Number.isInteger(after) || after < 0)) {
      throw new TypeError(`after must be a non-negative integer, got ${String(after)}`);
    }
    return send(this.#client.transport, {
      call: "audit",
      method: "GET",
      path: withQuery("/_emulator/v1/audit", [["after", after]]),
      bearer: this.#token,
      credential: "platform-token",
      decode: (json, fail) => decodeItems(json, fail, decodeAuditEntry),
    });
  }

  /** Closes the client's own connections; an injected dispatcher is left open. Idempotent. */
  close(): Promise<void> {
    return this.#client.close();
  }
}
