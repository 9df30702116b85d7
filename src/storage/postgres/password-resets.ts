import type pg from 'pg';
import type { PasswordReset, PasswordResetStore } from '../password-resets-types.js';

interface Row {
  app_id: string;
  user_id: string;
}

const toReset = (r: Row): PasswordReset => ({ appId: Number(r.app_id), userId: Number(r.user_id) });

export class PostgresPasswordResetStore implements PasswordResetStore {
  constructor(private readonly pool: pg.Pool) {}

  async createReset(input: { tokenHash: string; appId: number; userId: number; expiresAt: Date }): Promise<void> {
    await this.pool.query('INSERT INTO password_resets (token_hash, app_id, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)',
      [input.tokenHash, input.appId, input.userId, input.expiresAt.getTime(), Date.now()]);
  }

  async findLiveReset(tokenHash: string, now: Date): Promise<PasswordReset | null> {
    const { rows } = await this.pool.query<Row>(
      'SELECT app_id, user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2', [tokenHash, now.getTime()]);
    return rows[0] ? toReset(rows[0]) : null;
  }

  async consumeReset(tokenHash: string, now: Date): Promise<PasswordReset | null> {
    const { rows } = await this.pool.query<Row>(
      'UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING app_id, user_id', [now.getTime(), tokenHash]);
    return rows[0] ? toReset(rows[0]) : null;
  }
}
