import type Database from 'better-sqlite3';
import type { ApiKey, ApiKeyStore } from '../api-keys-types.js';

interface KeyRow {
  id: number;
  app_id: number;
  created_at: number;
  revoked_at: number | null;
}

const toKey = (r: KeyRow): ApiKey => ({
  id: r.id, appId: r.app_id, createdAt: new Date(r.created_at), revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at),
});

export class SqliteApiKeyStore implements ApiKeyStore {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      insert: db.prepare<[number, string, number], KeyRow>(
        'INSERT INTO api_keys (app_id, key_hash, created_at) VALUES (?, ?, ?) RETURNING id, app_id, created_at, revoked_at'),
      live: db.prepare<[string], KeyRow>('SELECT id, app_id, created_at, revoked_at FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL'),
      list: db.prepare<[number], KeyRow>('SELECT id, app_id, created_at, revoked_at FROM api_keys WHERE app_id = ? ORDER BY id'),
      revoke: db.prepare<[number, number, number]>('UPDATE api_keys SET revoked_at = ? WHERE app_id = ? AND id = ? AND revoked_at IS NULL'),
    };
  }

  async createKey(appId: number, keyHash: string, at: Date): Promise<ApiKey> {
    return toKey(this.s.insert.get(appId, keyHash, at.getTime())!);
  }

  async findLiveKey(keyHash: string): Promise<ApiKey | null> {
    const row = this.s.live.get(keyHash);
    return row ? toKey(row) : null;
  }

  async listKeys(appId: number): Promise<ApiKey[]> {
    return this.s.list.all(appId).map(toKey);
  }

  async revokeKey(appId: number, id: number, at: Date): Promise<boolean> {
    return this.s.revoke.run(at.getTime(), appId, id).changes > 0;
  }
}
