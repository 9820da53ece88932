/**
 * Client of the local emulator's audit trail (`GET /_emulator/v1/audit`), an
 * endpoint of the emulator only: tests read it to check which platform calls
 * a run made, in which order.
 *
 * @module
 */
import { decodeItems } from "../../provider/platform/internal/json";
import { withQuery } from "../../provider/platform/internal/paths";
import { decodeAuditEntry } from "./decode";
import { EmulatorAdminClient, type EmulatorAdminOptions } from "./emulator-admin";
import type { AuditEntry } from "./types";

/** Options of {@link AuditClient}. */
export type AuditClientOptions = EmulatorAdminOptions;

/** Reads the emulator's audit trail. */
export class AuditClient extends EmulatorAdminClient {
  /**
   * The entries after sequence number `after` (all when omitted), oldest first. The answer
   * stops before the first call still in progress, and this call shows up in later answers.
   */
  async audit(after?: number): Promise<AuditEntry[]> {
    if (after !== undefined && (!Number.isInteger(after) || after < 0)) {
      throw new TypeError(`after must be a non-negative integer, got ${String(after)}`);
    }
    return this.send({
      call: "audit",
      method: "GET",
      path: withQuery("/_emulator/v1/audit", [["after", after]]),
      decode: (json, fail) => decodeItems(json, fail, decodeAuditEntry),
    });
  }
}
