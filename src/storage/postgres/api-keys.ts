import type pg from 'pg';
import type { ApiKey, ApiKeyStore } from '../api-keys-types.js';

interface KeyRow {
  id: string;
  app_id: string;
  created_at: string;
  revoked_at: string | null;
}

const toKey = (r: KeyRow): ApiKey => ({
  id: Number(r.id), appId: Number(r.app_id), createdAt: new Date(Number(r.created_at)), revokedAt: r.revoked_at === null ? null : new Date(Number(r.revoked_at)),
});

const COLUMNS = 'id, app_id, created_at, revoked_at';

export class PostgresApiKeyStore implements ApiKeyStore {
  constructor(private readonly pool: pg.Pool) {}

  async createKey(appId: number, keyHash: string, at: Date): Promise<ApiKey> {
    const { rows } = await this.pool.query<KeyRow>(
      `INSERT INTO api_keys (app_id, key_hash, created_at) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`, [appId, keyHash, at.getTime()]);
    return toKey(rows[0]);
  }

  async findLiveKey(keyHash: string): Promise<ApiKey | null> {
    const { rows } = await this.pool.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [keyHash]);
    return rows[0] ? toKey(rows[0]) : null;
  }

  async listKeys(appId: number): Promise<ApiKey[]> {
    const { rows } = await this.pool.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE app_id = $1 ORDER BY id`, [appId]);
    return rows.map(toKey);
  }

  async revokeKey(appId: number, id: number, at: Date): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE api_keys SET revoked_at = $1 WHERE app_id = $2 AND id = $3 AND revoked_at IS NULL', [at.getTime(), appId, id]);
    return (rowCount ?? 0) > 0;
  }
}
