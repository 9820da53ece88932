import type { Database } from "./sqlite";
import type { AuditRecord } from "./records";

interface Row {
  seq: number;
  time: number;
  method: string;
  path: string;
  status: number | null;
}

/**
 * The call log. A call gets its sequence number when it arrives and its
 * status when it is answered, so the order is arrival order even when a slow
 * call (an issuer fetch) finishes after a later one.
 */
export class AuditRepo {
  constructor(private readonly db: Database) {}

  /** Records an arriving call; returns its sequence number. */
  begin(time: number, method: string, path: string): number {
    const result = this.db
      .prepare("INSERT INTO audit (time, method, path, status) VALUES (?, ?, ?, NULL)")
      .run(time, method, path);
    return Number(result.lastInsertRowid);
  }

  /** Records the status a call was answered with. */
  finish(seq: number, status: number): void {
    this.db.prepare("UPDATE audit SET status = ? WHERE seq = ?").run(status, seq);
  }

  /** Marks calls a previous run never answered (it stopped mid-call) with `status`. */
  abandonPending(status: number): void {
    this.db.prepare("UPDATE audit SET status = ? WHERE status IS NULL").run(status);
  }

  /** Every call after `seq`, in arrival order, answered or not. */
  after(seq: number): AuditRecord[] {
    const rows = this.db
      .prepare("SELECT * FROM audit WHERE seq > ? ORDER BY seq")
      .all(seq) as Row[];
    return rows.map((r) => ({ ...r, status: r.status ?? undefined }));
  }
}
