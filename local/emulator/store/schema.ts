/**
 * The emulator's tables. Times are epoch milliseconds; credentials (invite
 * codes, API tokens) are stored only as SHA-256 hashes.
 */
import type { Database } from "./sqlite";

const VERSION = 1;

const TABLES = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS groups (
  id TEXT PRIMARY KEY,
  parent TEXT REFERENCES groups(id),
  name TEXT NOT NULL,
  created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS invites (
  id TEXT PRIMARY KEY,
  group_id TEXT NOT NULL REFERENCES groups(id),
  code_hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  key_id TEXT NOT NULL,
  expiration INTEGER NOT NULL,
  created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS identities (
  id TEXT PRIMARY KEY,
  parent TEXT NOT NULL REFERENCES groups(id),
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  issuer TEXT NOT NULL,
  subject TEXT NOT NULL,
  issuer_keys TEXT NOT NULL,
  expiration INTEGER NOT NULL,
  created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS clusters (
  id TEXT PRIMARY KEY,
  group_id TEXT NOT NULL REFERENCES groups(id),
  remote_id TEXT NOT NULL UNIQUE,
  issuer TEXT NOT NULL,
  identity_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  registered INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  version TEXT NOT NULL,
  agent_version TEXT NOT NULL,
  profiles TEXT NOT NULL,
  enforcer_options TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
  token_hash TEXT PRIMARY KEY,
  group_id TEXT NOT NULL REFERENCES groups(id),
  created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  time INTEGER NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  status INTEGER
);
`;

/** Creates the tables on a new database and refuses one written by a newer emulator. */
export function ensureSchema(db: Database): void {
  const found = db.pragma("user_version", { simple: true }) as number;
  if (found > VERSION) {
    throw new Error(
      `the emulator database has schema version ${found}, newer than this emulator's ${VERSION}: ` +
        "use a newer emulator or a fresh data directory",
    );
  }
  db.transaction(() => {
    db.exec(TABLES);
    db.pragma(`user_version = ${VERSION}`);
  })();
}
