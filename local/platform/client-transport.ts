/**
 * What the issuer and audit clients share: their transport options, the provider's transport
 * set up from them, and closing the connections the client owns.
 */
import type { Agent, Dispatcher } from "undici";
import type { PlatformSetting, RetryOptions } from "../../provider/platform";
import { setupTransport } from "../../provider/platform/internal/setup";
import type { Transport } from "../../provider/platform/internal/transport";

/** How a client sends: the options every local platform client takes besides its URL. */
export interface TransportOptions {
  /**
   * Transport to send through (e.g. an `Agent` or a `MockAgent`); the client composes its retry
   * interceptor onto it and never closes it. Mutually exclusive with `ca`.
   */
  dispatcher?: Dispatcher;
  /** Headers and body timeout of each attempt, in ms. @default 30000 */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** Extra CA certificates (PEM) to trust besides the system roots (the emulator's CA). */
  ca?: string;
}

/** The URL a client talks to, and how option errors and platform errors name it. */
export interface TransportTarget {
  url: string;
  /** The option's name in TypeErrors, e.g. `options.apiUrl`. */
  urlOption: string;
  urlSetting: PlatformSetting;
}

/** The provider's transport to one URL, and the connections the client owns. */
export class ClientTransport {
  readonly transport: Transport;
  readonly #owned: Agent | undefined;

  /** @throws TypeError naming the option that is wrong. */
  constructor(target: TransportTarget, options: TransportOptions) {
    const { transport, owned } = setupTransport({
      ...target,
      dispatcher: options.dispatcher,
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      ca: options.ca,
    });
    this.transport = transport;
    this.#owned = owned;
  }

  /** Closes the client's own connections; an injected dispatcher is left open. Idempotent. */
  async close(): Promise<void> {
    const owned = this.#owned;
    if (owned && !owned.closed && !owned.destroyed) await owned.close();
  }
}
