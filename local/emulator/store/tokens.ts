import type { Database } from "./sqlite";

/** API tokens, by SHA-256 hash; each acts for one group and its subtree. */
export class TokenRepo {
  constructor(private readonly db: Database) {}

  insert(tokenHash: string, group: string, created: number): void {
    this.db
      .prepare("INSERT INTO api_tokens (token_hash, group_id, created) VALUES (?, ?, ?)")
      .run(tokenHash, group, created);
  }

  /** The group a token acts for, or undefined for an unknown token. */
  groupOf(tokenHash: string): string | undefined {
    const row = this.db
      .prepare("SELECT group_id FROM api_tokens WHERE token_hash = ?")
      .get(tokenHash) as { group_id: string } | undefined;
    return row?.group_id;
  }

  delete(tokenHash: string): boolean {
    return (
      this.db.prepare("DELETE FROM api_tokens WHERE token_hash = ?").run(tokenHash).changes > 0
    );
  }
}
