import type pg from 'pg';
import type { AppSettingsStore } from '../app-settings-types.js';

export class PostgresAppSettingsStore implements AppSettingsStore {
  constructor(private readonly pool: pg.Pool) {}

  async get(appId: number, key: string): Promise<unknown> {
    const { rows } = await this.pool.query<{ value: string }>('SELECT value FROM app_settings WHERE app_id = $1 AND key = $2', [appId, key]);
    return rows[0] ? JSON.parse(rows[0].value) : undefined;
  }

  async all(appId: number): Promise<Record<string, unknown>> {
    const { rows } = await this.pool.query<{ key: string; value: string }>('SELECT key, value FROM app_settings WHERE app_id = $1 ORDER BY key', [appId]);
    return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value)]));
  }

  async set(appId: number, key: string, value: unknown): Promise<void> {
    if (value === undefined) {
      await this.pool.query('DELETE FROM app_settings WHERE app_id = $1 AND key = $2', [appId, key]);
      return;
    }
    await this.pool.query(
      'INSERT INTO app_settings (app_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (app_id, key) DO UPDATE SET value = excluded.value',
      [appId, key, JSON.stringify(value)]);
  }
}
