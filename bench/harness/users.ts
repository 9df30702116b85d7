// Many users fast: copies of one user's row (same password hash and SCRAM keys, new logins) in one
// transaction, so a benchmark creates thousands without one scrypt each.
import type Database from 'better-sqlite3';

/** Inserts one copy of user `sourceId` per login, in order; returns the new ids. */
export function cloneUser(db: Database.Database, sourceId: number, logins: string[]): number[] {
  const clone = db.prepare(
    `INSERT INTO users (app_id, login, password_hash, scram_sha1, scram_sha256, created_at, updated_at)
     SELECT app_id, ?, password_hash, scram_sha1, scram_sha256, created_at, updated_at FROM users WHERE id = ?`,
  );
  return db.transaction(() => logins.map((login) => Number(clone.run(login, sourceId).lastInsertRowid)))();
}
