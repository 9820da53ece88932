/**
 * SQL conditions for the UIDP list filters. Ids are hex digits and slashes,
 * so a prefix test by `substr` is exact (no LIKE wildcards involved).
 */

/** Accumulates `AND`-joined conditions and their parameters. */
export class Conditions {
  private readonly clauses: string[] = [];
  readonly params: unknown[] = [];

  /** `column = value`. */
  equals(column: string, value: string): this {
    this.clauses.push(`${column} = ?`);
    this.params.push(value);
    return this;
  }

  /** `column` lies strictly below the UIDP `ancestor`. */
  below(column: string, ancestor: string): this {
    const prefix = `${ancestor}/`;
    this.clauses.push(`substr(${column}, 1, ?) = ?`);
    this.params.push(prefix.length, prefix);
    return this;
  }

  /** `column >= value`. */
  atLeast(column: string, value: number): this {
    this.clauses.push(`${column} >= ?`);
    this.params.push(value);
    return this;
  }

  /** The WHERE clause, or "" when there are no conditions. */
  where(): string {
    return this.clauses.length === 0 ? "" : `WHERE ${this.clauses.join(" AND ")}`;
  }
}

/** Filters shared by the list calls; every field is optional and they combine with AND. */
export interface UidpFilter {
  /** Only objects inside this group's subtree (the caller's scope). */
  scope: string;
  id?: string;
  childrenOf?: string;
  descendantsOf?: string;
}
