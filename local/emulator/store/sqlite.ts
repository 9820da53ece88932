/**
 * The slice of better-sqlite3's API the store uses. The package ships no
 * type declarations, so the module is loaded with `require` and typed here.
 */

/** A prepared statement. */
export interface Statement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/** An open database connection. */
export interface Database {
  readonly open: boolean;
  prepare(sql: string): Statement;
  exec(sql: string): void;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  close(): void;
}

type DatabaseConstructor = new (filename: string, options?: { timeout?: number }) => Database;

/** Opens (creating when absent) the SQLite database at `filename`. */
export function openDatabase(filename: string): Database {
  const BetterSqlite3 = require("better-sqlite3") as DatabaseConstructor;
  const db = new BetterSqlite3(filename, { timeout: 5000 });
  db.pragma("journal_mode = WAL");
  db.pragma("foreign_keys = ON");
  return db;
}
