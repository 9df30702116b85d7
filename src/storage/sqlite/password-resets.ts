import type Database from 'better-sqlite3';
import type { PasswordReset, PasswordResetStore } from '../password-resets-types.js';

interface Row {
  app_id: number;
  user_id: number;
}

const toReset = (r: Row): PasswordReset => ({ appId: r.app_id, userId: r.user_id });

export class SqlitePasswordResetStore implements PasswordResetStore {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      insert: db.prepare<[string, number, number, number, number]>(
        'INSERT INTO password_resets (token_hash, app_id, user_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)'),
      live: db.prepare<[string, number], Row>('SELECT app_id, user_id FROM password_resets WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?'),
      consume: db.prepare<[number, string, number], Row>(
        'UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING app_id, user_id'),
    };
  }

  async createReset(input: { tokenHash: string; appId: number; userId: number; expiresAt: Date }): Promise<void> {
    this.s.insert.run(input.tokenHash, input.appId, input.userId, input.expiresAt.getTime(), Date.now());
  }

  async findLiveReset(tokenHash: string, now: Date): Promise<PasswordReset | null> {
    const row = this.s.live.get(tokenHash, now.getTime());
    return row ? toReset(row) : null;
  }

  async consumeReset(tokenHash: string, now: Date): Promise<PasswordReset | null> {
    const row = this.s.consume.get(now.getTime(), tokenHash, now.getTime());
    return row ? toReset(row) : null;
  }
}
