/**
 * The agent's status file, read by tests and by `enforce-local`. Written whole
 * to a temporary file and renamed, so a reader never sees half a document.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Where the agent stands. */
export type AgentState = "waiting" | "registered" | "refused" | "error";

/** Contents of the status file (JSON). Unknown values are null. */
export interface AgentStatus {
  state: AgentState;
  /** What the agent is doing or waiting for, as in its log. */
  reason: string;
  /** UID of the `gulfstream` Namespace last seen. */
  remoteId: string | null;
  /** The platform's id of the cluster, once registered. */
  clusterId: string | null;
  /** When the current registration succeeded (RFC 3339). */
  registeredAt: string | null;
  /** When the last heartbeat of the current registration succeeded (RFC 3339). */
  lastHeartbeat: string | null;
}

/** Writes `status` to `file` atomically (temporary file in the same directory, then rename). */
export function writeStatusFile(file: string, status: AgentStatus): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(status, null, 2) + "\n");
  fs.renameSync(tmp, file);
}

/** Reads a status file; undefined when it does not exist yet. */
export function readStatusFile(file: string): AgentStatus | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as AgentStatus;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
