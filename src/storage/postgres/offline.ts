import type pg from 'pg';
import type { OfflineMessage, OfflineSender, OfflineStore } from '../types.js';
import { inTransaction } from './pool.js';

interface Row {
  id: number;
  user_id: number;
  stanza: string;
  stored_at: number;
}

export class PostgresOfflineStore implements OfflineStore {
  constructor(private readonly pool: pg.Pool) {}

  async push(userId: number, stanza: string, limit: number, sender?: OfflineSender): Promise<boolean> {
    return inTransaction(this.pool, async (tx) => {
      // Locking the user's row makes concurrent pushes for one user (from any node) count one at a time.
      await tx.query('SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE', [userId]);
      const { rows } = await tx.query<{ n: number }>('SELECT count(*) AS n FROM offline_messages WHERE user_id = $1', [userId]);
      if (rows[0].n >= limit) return false;
      if (sender) {
        const from = await tx.query<{ n: number }>('SELECT count(*) AS n FROM offline_messages WHERE user_id = $1 AND sender = $2', [userId, sender.id]);
        if (from.rows[0].n >= sender.limit) return false;
      }
      await tx.query('INSERT INTO offline_messages (user_id, stanza, stored_at, sender) VALUES ($1, $2, $3, $4)', [userId, stanza, Date.now(), sender?.id ?? null]);
      return true;
    });
  }

  async list(userId: number): Promise<OfflineMessage[]> {
    const { rows } = await this.pool.query<Row>('SELECT id, user_id, stanza, stored_at FROM offline_messages WHERE user_id = $1 ORDER BY id', [userId]);
    return rows.map((r) => ({ id: r.id, userId: r.user_id, stanza: r.stanza, storedAt: new Date(r.stored_at) }));
  }

  async remove(ids: number[]): Promise<void> {
    if (ids.length > 0) await this.pool.query('DELETE FROM offline_messages WHERE id = ANY($1::bigint[])', [ids]);
  }

  async count(userId: number): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT count(*) AS n FROM offline_messages WHERE user_id = $1', [userId]);
    return rows[0].n;
  }
}
