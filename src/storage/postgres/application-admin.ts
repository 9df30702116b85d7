import type pg from 'pg';
import type { ApplicationAdminStore } from '../application-admin-types.js';
import { toApplication, type AppRow } from '../account-columns.js';
import { newApplicationToken } from '../account-secrets.js';
import type { Application } from '../types.js';

export class PostgresApplicationAdminStore implements ApplicationAdminStore {
  constructor(private readonly pool: pg.Pool) {}

  async deleteApplication(id: number): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM applications WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async rotateAuthSecret(id: number): Promise<Application | null> {
    const { rows } = await this.pool.query<AppRow>(
      'UPDATE applications SET auth_secret = $1 WHERE id = $2 RETURNING id, name, auth_key, auth_secret, account_key, created_at', [newApplicationToken(), id]);
    return rows[0] ? toApplication(rows[0]) : null;
  }
}
