import type Database from 'better-sqlite3';
import type { PrivacyItem, PrivacyList, PrivacyStore } from '../types.js';

interface Row {
  name: string;
  items: string;
}

const toList = (r: Row): PrivacyList => ({ name: r.name, items: JSON.parse(r.items) as PrivacyItem[] });

export class SqlitePrivacyStore implements PrivacyStore {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      names: db.prepare<[number], string>('SELECT name FROM privacy_lists WHERE user_id = ? ORDER BY name').pluck(),
      get: db.prepare<[number, string], Row>('SELECT name, items FROM privacy_lists WHERE user_id = ? AND name = ?'),
      upsert: db.prepare<[number, string, string]>(
        'INSERT INTO privacy_lists (user_id, name, items) VALUES (?, ?, ?) ON CONFLICT (user_id, name) DO UPDATE SET items = excluded.items'),
      remove: db.prepare<[number, string]>('DELETE FROM privacy_lists WHERE user_id = ? AND name = ?'),
      getDefault: db.prepare<[number], Row>('SELECT name, items FROM privacy_lists WHERE user_id = ? AND is_default = 1'),
      clearDefault: db.prepare<[number]>('UPDATE privacy_lists SET is_default = 0 WHERE user_id = ? AND is_default = 1'),
      markDefault: db.prepare<[number, string]>('UPDATE privacy_lists SET is_default = 1 WHERE user_id = ? AND name = ?'),
    };
    this.setDefaultTx = db.transaction((userId: number, name: string | null): boolean => {
      if (name !== null && !this.s.get.get(userId, name)) return false;
      this.s.clearDefault.run(userId);
      if (name !== null) this.s.markDefault.run(userId, name);
      return true;
    });
  }

  private readonly setDefaultTx: Database.Transaction<(userId: number, name: string | null) => boolean>;

  async listNames(userId: number): Promise<string[]> {
    return this.s.names.all(userId);
  }

  async getList(userId: number, name: string): Promise<PrivacyList | null> {
    const row = this.s.get.get(userId, name);
    return row ? toList(row) : null;
  }

  async setList(userId: number, list: PrivacyList): Promise<void> {
    const items = [...list.items].sort((a, b) => a.order - b.order);
    this.s.upsert.run(userId, list.name, JSON.stringify(items));
  }

  async removeList(userId: number, name: string): Promise<boolean> {
    return this.s.remove.run(userId, name).changes > 0;
  }

  async getDefault(userId: number): Promise<PrivacyList | null> {
    const row = this.s.getDefault.get(userId);
    return row ? toList(row) : null;
  }

  async setDefault(userId: number, name: string | null): Promise<boolean> {
    return this.setDefaultTx.immediate(userId, name);
  }
}
