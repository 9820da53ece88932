import { Conditions, type UidpFilter } from "./filters";
import type { Database } from "./sqlite";
import type { IdentityRecord } from "./records";

/** A row of `identities`: the record's fields, `issuerKeys` in its column's name. */
type Row = Omit<IdentityRecord, "issuerKeys"> & { issuer_keys: string };

const toRecord = (row: Row): IdentityRecord => ({
  id: row.id,
  parent: row.parent,
  name: row.name,
  description: row.description,
  issuer: row.issuer,
  subject: row.subject,
  issuerKeys: row.issuer_keys,
  expiration: row.expiration,
  created: row.created,
});

/** Static-key identities of private clusters. */
export class IdentityRepo {
  constructor(private readonly db: Database) {}

  insert(identity: IdentityRecord): void {
    this.db
      .prepare(
        "INSERT INTO identities (id, parent, name, description, issuer, subject, issuer_keys, " +
          "expiration, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        identity.id,
        identity.parent,
        identity.name,
        identity.description,
        identity.issuer,
        identity.subject,
        identity.issuerKeys,
        identity.expiration,
        identity.created,
      );
  }

  get(id: string): IdentityRecord | undefined {
    const row = this.db.prepare("SELECT * FROM identities WHERE id = ?").get(id) as Row | undefined;
    return row && toRecord(row);
  }

  list(filter: UidpFilter): IdentityRecord[] {
    const where = new Conditions().below("id", filter.scope);
    if (filter.id !== undefined) where.equals("id", filter.id);
    if (filter.childrenOf !== undefined) where.equals("parent", filter.childrenOf);
    if (filter.descendantsOf !== undefined) where.below("id", filter.descendantsOf);
    const rows = this.db
      .prepare(`SELECT * FROM identities ${where.where()} ORDER BY rowid`)
      .all(...where.params) as Row[];
    return rows.map(toRecord);
  }

  /** Deletes one identity; false when it did not exist. */
  delete(id: string): boolean {
    return this.db.prepare("DELETE FROM identities WHERE id = ?").run(id).changes > 0;
  }
}
