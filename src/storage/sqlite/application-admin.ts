import type Database from 'better-sqlite3';
import type { ApplicationAdminStore } from '../application-admin-types.js';
import { toApplication, type AppRow } from '../account-columns.js';
import { newApplicationToken } from '../account-secrets.js';
import type { Application } from '../types.js';

export class SqliteApplicationAdminStore implements ApplicationAdminStore {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      remove: db.prepare<[number]>('DELETE FROM applications WHERE id = ?'),
      rotate: db.prepare<[string, number], AppRow>('UPDATE applications SET auth_secret = ? WHERE id = ? RETURNING *'),
    };
  }

  async deleteApplication(id: number): Promise<boolean> {
    return this.s.remove.run(id).changes > 0;
  }

  async rotateAuthSecret(id: number): Promise<Application | null> {
    const row = this.s.rotate.get(newApplicationToken(), id);
    return row ? toApplication(row) : null;
  }
}
