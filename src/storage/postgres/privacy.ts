import type pg from 'pg';
import type { PrivacyItem, PrivacyList, PrivacyStore } from '../types.js';
import { inTransaction } from './pool.js';

interface Row {
  name: string;
  items: PrivacyItem[];
}

const toList = (r: Row): PrivacyList => ({ name: r.name, items: r.items });

export class PostgresPrivacyStore implements PrivacyStore {
  constructor(private readonly pool: pg.Pool) {}

  async listNames(userId: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>('SELECT name FROM privacy_lists WHERE user_id = $1 ORDER BY name', [userId]);
    return rows.map((r) => r.name);
  }

  async getList(userId: number, name: string): Promise<PrivacyList | null> {
    const { rows } = await this.pool.query<Row>('SELECT name, items FROM privacy_lists WHERE user_id = $1 AND name = $2', [userId, name]);
    return rows[0] ? toList(rows[0]) : null;
  }

  async setList(userId: number, list: PrivacyList): Promise<void> {
    const items = [...list.items].sort((a, b) => a.order - b.order);
    await this.pool.query(
      `INSERT INTO privacy_lists (user_id, name, items) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, name) DO UPDATE SET items = excluded.items`,
      [userId, list.name, JSON.stringify(items)]);
  }

  async removeList(userId: number, name: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM privacy_lists WHERE user_id = $1 AND name = $2', [userId, name])).rowCount ?? 0) > 0;
  }

  async getDefault(userId: number): Promise<PrivacyList | null> {
    const { rows } = await this.pool.query<Row>('SELECT name, items FROM privacy_lists WHERE user_id = $1 AND is_default', [userId]);
    return rows[0] ? toList(rows[0]) : null;
  }

  async setDefault(userId: number, name: string | null): Promise<boolean> {
    return inTransaction(this.pool, async (tx) => {
      if (name !== null) {
        const { rowCount } = await tx.query('SELECT 1 FROM privacy_lists WHERE user_id = $1 AND name = $2 FOR UPDATE', [userId, name]);
        if (!rowCount) return false;
      }
      await tx.query('UPDATE privacy_lists SET is_default = false WHERE user_id = $1 AND is_default', [userId]);
      if (name !== null) await tx.query('UPDATE privacy_lists SET is_default = true WHERE user_id = $1 AND name = $2', [userId, name]);
      return true;
    });
  }
}
