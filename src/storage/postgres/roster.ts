import type pg from 'pg';
import type { RosterItem, RosterStore } from '../types.js';

const COLUMNS = 'jid, name, subscription, ask, groups';

export class PostgresRosterStore implements RosterStore {
  constructor(private readonly pool: pg.Pool) {}

  async getRoster(userId: number): Promise<RosterItem[]> {
    return (await this.pool.query<RosterItem>(`SELECT ${COLUMNS} FROM roster_items WHERE user_id = $1 ORDER BY jid`, [userId])).rows;
  }

  async getItem(userId: number, jid: string): Promise<RosterItem | null> {
    const { rows } = await this.pool.query<RosterItem>(`SELECT ${COLUMNS} FROM roster_items WHERE user_id = $1 AND jid = $2`, [userId, jid]);
    return rows[0] ?? null;
  }

  async setItem(userId: number, item: RosterItem): Promise<void> {
    await this.pool.query(
      `INSERT INTO roster_items (user_id, jid, name, subscription, ask, groups) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (user_id, jid) DO UPDATE SET
         name = excluded.name, subscription = excluded.subscription, ask = excluded.ask, groups = excluded.groups`,
      [userId, item.jid, item.name, item.subscription, item.ask, item.groups]);
  }

  async removeItem(userId: number, jid: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM roster_items WHERE user_id = $1 AND jid = $2', [userId, jid])).rowCount ?? 0) > 0;
  }
}
