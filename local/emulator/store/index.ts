/**
 * The emulator's persistent state in one SQLite file. Every change that
 * touches more than one row runs inside {@link Store.transaction}.
 */
import { AuditRepo } from "./audit";
import { ClusterRepo } from "./clusters";
import { GroupRepo } from "./groups";
import { IdentityRepo } from "./identities";
import { InviteRepo } from "./invites";
import { MetaRepo } from "./meta";
import { ensureSchema } from "./schema";
import { openDatabase, type Database } from "./sqlite";
import { TokenRepo } from "./tokens";

export type * from "./records";
export type { ClusterFilter } from "./clusters";
export type { UidpFilter } from "./filters";

/** Status recorded for calls a previous run never answered. */
export const ABANDONED_STATUS = 499;

export class Store {
  readonly groups: GroupRepo;
  readonly invites: InviteRepo;
  readonly identities: IdentityRepo;
  readonly clusters: ClusterRepo;
  readonly tokens: TokenRepo;
  readonly audit: AuditRepo;
  readonly meta: MetaRepo;

  private constructor(private readonly db: Database) {
    this.groups = new GroupRepo(db);
    this.invites = new InviteRepo(db);
    this.identities = new IdentityRepo(db);
    this.clusters = new ClusterRepo(db);
    this.tokens = new TokenRepo(db);
    this.audit = new AuditRepo(db);
    this.meta = new MetaRepo(db);
  }

  /** Opens the database at `filename`, creating the schema when it is new. */
  static open(filename: string): Store {
    const db = openDatabase(filename);
    try {
      ensureSchema(db);
      const store = new Store(db);
      store.audit.abandonPending(ABANDONED_STATUS);
      return store;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Whether the database is still open. */
  get isOpen(): boolean {
    return this.db.open;
  }

  /** Runs `fn` in one transaction; a throw rolls every change back. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
