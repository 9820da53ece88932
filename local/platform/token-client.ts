/**
 * Client of the local emulator's token minting (`POST /_emulator/v1/tokens`), an endpoint of the
 * emulator only: tests rotate the platform token (`enforce:token`) to a new value the emulator
 * accepts, for the same group.
 *
 * @module
 */
import { object, str } from "../../provider/platform/internal/json";
import { EmulatorAdminClient, type EmulatorAdminOptions } from "./emulator-admin";

/** Options of {@link TokenClient}. */
export type TokenClientOptions = EmulatorAdminOptions;

/** Mints API tokens of the emulator. */
export class TokenClient extends EmulatorAdminClient {
  /**
   * A new API token acting for the same group as this client's (the root group); the client's
   * own token stays valid. A credential: keep it out of logs and messages.
   */
  async mint(): Promise<string> {
    return this.send({
      call: "mintToken",
      method: "POST",
      path: "/_emulator/v1/tokens",
      body: {},
      decode: (json, fail) => str(object(json, "body", fail), "token", "body", fail, true),
    });
  }
}
