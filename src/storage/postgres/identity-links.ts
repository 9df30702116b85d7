import type pg from 'pg';
import type { IdentityLinkStore } from '../identity-links-types.js';

export class PostgresIdentityLinkStore implements IdentityLinkStore {
  constructor(private readonly pool: pg.Pool) {}

  async findLinkedUser(appId: number, uid: string): Promise<number | null> {
    const { rows } = await this.pool.query<{ user_id: string }>('SELECT user_id FROM identity_links WHERE app_id = $1 AND uid = $2', [appId, uid]);
    return rows[0] ? Number(rows[0].user_id) : null;
  }

  async link(appId: number, uid: string, userId: number): Promise<void> {
    await this.pool.query(
      'INSERT INTO identity_links (app_id, uid, user_id) VALUES ($1, $2, $3) ON CONFLICT (app_id, uid) DO UPDATE SET user_id = excluded.user_id', [appId, uid, userId]);
  }
}
