import type { Database } from "./sqlite";
import type { GroupRecord } from "./records";

interface Row {
  id: string;
  parent: string | null;
  name: string;
  created: number;
}

const toRecord = (row: Row): GroupRecord => ({ ...row, parent: row.parent ?? undefined });

/** Groups: the tree every other object hangs from. */
export class GroupRepo {
  constructor(private readonly db: Database) {}

  insert(group: GroupRecord): void {
    this.db
      .prepare("INSERT INTO groups (id, parent, name, created) VALUES (?, ?, ?, ?)")
      .run(group.id, group.parent ?? null, group.name, group.created);
  }

  get(id: string): GroupRecord | undefined {
    const row = this.db.prepare("SELECT * FROM groups WHERE id = ?").get(id) as Row | undefined;
    return row && toRecord(row);
  }
}
