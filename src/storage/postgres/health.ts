import type pg from 'pg';
import type { StoreHealth } from '../health-types.js';

export class PostgresStoreHealth implements StoreHealth {
  constructor(private readonly pool: pg.Pool) {}

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async sizeBytes(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT pg_database_size(current_database())::bigint AS n');
    return rows[0]!.n;
  }

  async offlineMessages(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT count(*)::bigint AS n FROM offline_messages');
    return rows[0]!.n;
  }
}
