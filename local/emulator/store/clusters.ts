import { Conditions, type UidpFilter } from "./filters";
import type { Database } from "./sqlite";
import type { ClusterRecord, EnforcerOptions } from "./records";

interface Row {
  id: string;
  group_id: string;
  remote_id: string;
  issuer: string;
  identity_id: string;
  name: string;
  description: string;
  registered: number;
  last_seen: number;
  version: string;
  agent_version: string;
  profiles: string;
  enforcer_options: string;
}

const toRecord = (row: Row): ClusterRecord => ({
  id: row.id,
  group: row.group_id,
  remoteId: row.remote_id,
  issuer: row.issuer,
  identityId: row.identity_id,
  name: row.name,
  description: row.description,
  registered: row.registered,
  lastSeen: row.last_seen,
  version: row.version,
  agentVersion: row.agent_version,
  profiles: JSON.parse(row.profiles) as string[],
  enforcerOptions: JSON.parse(row.enforcer_options) as EnforcerOptions,
});

const toParams = (c: ClusterRecord): Record<string, unknown> => ({
  id: c.id,
  group_id: c.group,
  remote_id: c.remoteId,
  issuer: c.issuer,
  identity_id: c.identityId,
  name: c.name,
  description: c.description,
  registered: c.registered,
  last_seen: c.lastSeen,
  version: c.version,
  agent_version: c.agentVersion,
  profiles: JSON.stringify(c.profiles),
  enforcer_options: JSON.stringify(c.enforcerOptions),
});

const COLUMNS = Object.keys(toParams({} as ClusterRecord));

/** Filters of the cluster list, on top of the UIDP ones. */
export interface ClusterFilter extends UidpFilter {
  remoteId?: string;
  name?: string;
  /** Only clusters seen at or after this time (epoch ms). */
  activeSince?: number;
}

/** Registered clusters. */
export class ClusterRepo {
  constructor(private readonly db: Database) {}

  insert(cluster: ClusterRecord): void {
    this.db
      .prepare(
        `INSERT INTO clusters (${COLUMNS.join(", ")}) ` +
          `VALUES (${COLUMNS.map((c) => `@${c}`).join(", ")})`,
      )
      .run(toParams(cluster));
  }

  /** Rewrites every column of an existing cluster. */
  update(cluster: ClusterRecord): void {
    const sets = COLUMNS.filter((c) => c !== "id").map((c) => `${c} = @${c}`);
    this.db.prepare(`UPDATE clusters SET ${sets.join(", ")} WHERE id = @id`).run(toParams(cluster));
  }

  get(id: string): ClusterRecord | undefined {
    const row = this.db.prepare("SELECT * FROM clusters WHERE id = ?").get(id) as Row | undefined;
    return row && toRecord(row);
  }

  byRemoteId(remoteId: string): ClusterRecord | undefined {
    const row = this.db.prepare("SELECT * FROM clusters WHERE remote_id = ?").get(remoteId) as
      | Row
      | undefined;
    return row && toRecord(row);
  }

  list(filter: ClusterFilter): ClusterRecord[] {
    const where = new Conditions().below("id", filter.scope);
    if (filter.id !== undefined) where.equals("id", filter.id);
    if (filter.remoteId !== undefined) where.equals("remote_id", filter.remoteId);
    if (filter.name !== undefined) where.equals("name", filter.name);
    if (filter.childrenOf !== undefined) where.equals("group_id", filter.childrenOf);
    if (filter.descendantsOf !== undefined) where.below("id", filter.descendantsOf);
    if (filter.activeSince !== undefined) where.atLeast("last_seen", filter.activeSince);
    const rows = this.db
      .prepare(`SELECT * FROM clusters ${where.where()} ORDER BY rowid`)
      .all(...where.params) as Row[];
    return rows.map(toRecord);
  }

  /** Deletes one cluster; false when it did not exist. */
  delete(id: string): boolean {
    return this.db.prepare("DELETE FROM clusters WHERE id = ?").run(id).changes > 0;
  }
}
