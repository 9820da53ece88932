/**
 * Client of the local emulator's fault injection (`/_emulator/v1/faults`), an endpoint of the
 * emulator only, answered when it runs with `--fault-injection`: tests set rules that make the
 * platform calls of the code under test fail, then clear them.
 *
 * @module
 */
import { decodeEmpty, decodeItems, int, object } from "../../provider/platform/internal/json";
import { EmulatorAdminClient, type EmulatorAdminOptions } from "./emulator-admin";
import type { FaultRequest, FaultState } from "./types";

/** Options of {@link FaultClient}. */
export type FaultClientOptions = EmulatorAdminOptions;

const PATH = "/_emulator/v1/faults";

function decodeFault(json: unknown, where: string, fail: (problem: string) => never): FaultState {
  const o = object(json, where, fail);
  return { id: int(o, "id", where, fail), hits: int(o, "hits", where, fail) };
}

/** Sets, lists and clears the emulator's fault rules. */
export class FaultClient extends EmulatorAdminClient {
  /** Adds a rule: the matching calls that arrive from now on fail as it says. */
  async set(rule: FaultRequest): Promise<FaultState> {
    return this.send({
      call: "setFault",
      method: "POST",
      path: PATH,
      body: rule,
      decode: (json, fail) => decodeFault(json, "body", fail),
    });
  }

  /** The rules in force, oldest first, with how many calls each failed. */
  async list(): Promise<FaultState[]> {
    return this.send({
      call: "listFaults",
      method: "GET",
      path: PATH,
      decode: (json, fail) => decodeItems(json, fail, decodeFault),
    });
  }

  /** Removes every rule: the emulator answers normally again. */
  async clear(): Promise<void> {
    await this.send({ call: "clearFaults", method: "DELETE", path: PATH, decode: decodeEmpty });
  }
}
