/**
 * Client of the local emulator's fault injection (`/_emulator/v1/faults`), an endpoint of the
 * emulator only, answered when it runs with `--fault-injection`: tests set rules that make the
 * platform calls of the code under test fail, then clear them.
 *
 * @module
 */
import { PLATFORM_SETTINGS } from "../../provider/platform";
import { decodeEmpty, decodeItems, int, object } from "../../provider/platform/internal/json";
import { isWellFormedToken } from "../../provider/platform/internal/token";
import { send, type CallSpec } from "../../provider/platform/internal/transport";
import { ClientTransport, type TransportOptions } from "./client-transport";
import type { FaultRequest, FaultState } from "./types";

/** Options of {@link FaultClient}. */
export interface FaultClientOptions extends TransportOptions {
  /** Base URL of the emulator's platform API. */
  apiUrl: string;
  /** An API token of the emulator's root group. */
  token: string;
}

const PATH = "/_emulator/v1/faults";

function decodeFault(json: unknown, where: string, fail: (problem: string) => never): FaultState {
  const o = object(json, where, fail);
  return { id: int(o, "id", where, fail), hits: int(o, "hits", where, fail) };
}

/** Sets, lists and clears the emulator's fault rules. */
export class FaultClient {
  readonly #client: ClientTransport;
  readonly #token: string;

  constructor(options: FaultClientOptions) {
    if (typeof options.token !== "string" || !isWellFormedToken(options.token)) {
      throw new TypeError("options.token must be a non-empty token of visible ASCII characters");
    }
    this.#token = options.token;
    this.#client = new ClientTransport(
      { url: options.apiUrl, urlOption: "options.apiUrl", urlSetting: PLATFORM_SETTINGS.apiUrl },
      options,
    );
  }

  /** Adds a rule: the matching calls that arrive from now on fail as it says. */
  async set(rule: FaultRequest): Promise<FaultState> {
    return this.#send({
      call: "setFault",
      method: "POST",
      path: PATH,
      body: rule,
      decode: (json, fail) => decodeFault(json, "body", fail),
    });
  }

  /** The rules in force, oldest first, with how many calls each failed. */
  async list(): Promise<FaultState[]> {
    return this.#send({
      call: "listFaults",
      method: "GET",
      path: PATH,
      decode: (json, fail) => decodeItems(json, fail, decodeFault),
    });
  }

  /** Removes every rule: the emulator answers normally again. */
  async clear(): Promise<void> {
    await this.#send({ call: "clearFaults", method: "DELETE", path: PATH, decode: decodeEmpty });
  }

  /** Closes the client's own connections; an injected dispatcher is left open. Idempotent. */
  close(): Promise<void> {
    return this.#client.close();
  }

  #send<T>(spec: Omit<CallSpec<T>, "bearer" | "credential">): Promise<T> {
    return send(this.#client.transport, {
      ...spec,
      bearer: this.#token,
      credential: "platform-token",
    });
  }
}
