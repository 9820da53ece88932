import type { Database } from "./sqlite";
import type { InviteRecord } from "./records";

interface Row {
  id: string;
  group_id: string;
  code_hash: string;
  role: string;
  key_id: string;
  expiration: number;
  created: number;
}

const toRecord = (row: Row): InviteRecord => ({
  id: row.id,
  group: row.group_id,
  codeHash: row.code_hash,
  role: row.role,
  keyId: row.key_id,
  expiration: row.expiration,
  created: row.created,
});

/** Group invites. Only the SHA-256 hash of a code is kept. */
export class InviteRepo {
  constructor(private readonly db: Database) {}

  insert(invite: InviteRecord): void {
    this.db
      .prepare(
        "INSERT INTO invites (id, group_id, code_hash, role, key_id, expiration, created) " +
          "VALUES (?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        invite.id,
        invite.group,
        invite.codeHash,
        invite.role,
        invite.keyId,
        invite.expiration,
        invite.created,
      );
  }

  get(id: string): InviteRecord | undefined {
    const row = this.db.prepare("SELECT * FROM invites WHERE id = ?").get(id) as Row | undefined;
    return row && toRecord(row);
  }

  byCodeHash(codeHash: string): InviteRecord | undefined {
    const row = this.db.prepare("SELECT * FROM invites WHERE code_hash = ?").get(codeHash) as
      | Row
      | undefined;
    return row && toRecord(row);
  }

  /** Deletes one invite; false when it did not exist. */
  delete(id: string): boolean {
    return this.db.prepare("DELETE FROM invites WHERE id = ?").run(id).changes > 0;
  }
}
