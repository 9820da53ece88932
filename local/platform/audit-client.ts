/**
 * Client of the local emulator's audit trail (`GET /_emulator/v1/audit`), an
 * endpoint of the emulator only: tests read it to check which platform calls
 * a run made, in which order.
 *
 * @module
 */
import type { Agent, Dispatcher } from "undici";
import { PLATFORM_SETTINGS, type RetryOptions } from "../../provider/platform";
import { decodeItems } from "../../provider/platform/internal/json";
import { withQuery } from "../../provider/platform/internal/paths";
import { setupTransport } from "../../provider/platform/internal/setup";
import { isWellFormedToken } from "../../provider/platform/internal/token";
import { send, type Transport } from "../../provider/platform/internal/transport";
import { decodeAuditEntry } from "./decode";
import type { AuditEntry } from "./types";

/** Options of {@link AuditClient}. */
export interface AuditClientOptions {
  /** Base URL of the emulator's platform API. */
  apiUrl: string;
  /** An API token of the emulator's root group: the trail is readable with no other. */
  token: string;
  /** Transport to send through; the client never closes it. Mutually exclusive with `ca`. */
  dispatcher?: Dispatcher;
  /** Headers and body timeout of each attempt, in ms. @default 30000 */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** The emulator's CA certificate (PEM). */
  ca?: string;
}

/** Reads the emulator's audit trail. */
export class AuditClient {
  readonly #transport: Transport;
  readonly #owned: Agent | undefined;
  readonly #token: string;

  constructor(options: AuditClientOptions) {
    if (typeof options.token !== "string" || !isWellFormedToken(options.token)) {
      throw new TypeError("options.token must be a non-empty token of visible ASCII characters");
    }
    this.#token = options.token;
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
  }

  /**
   * The entries after sequence number `after` (all when omitted), oldest first. The answer
   * stops before the first call still in progress, and this call shows up in later answers.
   */
  async audit(after?: number): Promise<AuditEntry[]> {
    if (after !== undefined && (!Number.isInteger(after) || after < 0)) {
      throw new TypeError(`after must be a non-negative integer, got ${String(after)}`);
    }
    return send(this.#transport, {
      call: "audit",
      method: "GET",
      path: withQuery("/_emulator/v1/audit", [["after", after]]),
      bearer: this.#token,
      credential: "platform-token",
      decode: (json, fail) => decodeItems(json, fail, decodeAuditEntry),
    });
  }

  /** Closes the client's own connections; an injected dispatcher is left open. Idempotent. */
  async close(): Promise<void> {
    const owned = this.#owned;
    if (owned && !owned.closed && !owned.destroyed) await owned.close();
  }
}
