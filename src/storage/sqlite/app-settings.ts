import type Database from 'better-sqlite3';
import type { AppSettingsStore } from '../app-settings-types.js';

export class SqliteAppSettingsStore implements AppSettingsStore {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      get: db.prepare<[number, string], string>('SELECT value FROM app_settings WHERE app_id = ? AND key = ?').pluck(),
      all: db.prepare<[number], { key: string; value: string }>('SELECT key, value FROM app_settings WHERE app_id = ? ORDER BY key'),
      put: db.prepare<[number, string, string]>(
        'INSERT INTO app_settings (app_id, key, value) VALUES (?, ?, ?) ON CONFLICT (app_id, key) DO UPDATE SET value = excluded.value'),
      remove: db.prepare<[number, string]>('DELETE FROM app_settings WHERE app_id = ? AND key = ?'),
    };
  }

  async get(appId: number, key: string): Promise<unknown> {
    const value = this.s.get.get(appId, key);
    return value === undefined ? undefined : JSON.parse(value);
  }

  async all(appId: number): Promise<Record<string, unknown>> {
    return Object.fromEntries(this.s.all.all(appId).map((r) => [r.key, JSON.parse(r.value)]));
  }

  async set(appId: number, key: string, value: unknown): Promise<void> {
    if (value === undefined) this.s.remove.run(appId, key);
    else this.s.put.run(appId, key, JSON.stringify(value));
  }
}
