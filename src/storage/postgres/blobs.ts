import type pg from 'pg';
import type { Blob, BlobStore, NewBlob } from '../types.js';
import { inTransaction } from './pool.js';

interface BlobRow {
  id: number;
  uid: string;
  app_id: number;
  user_id: number;
  name: string;
  content_type: string;
  size: number | null;
  public: boolean;
  tags: string[];
  status: 'complete' | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

const COLUMNS = 'id, uid, app_id, user_id, name, content_type, size, public, tags, status, created_at, updated_at, completed_at';

const toBlob = (r: BlobRow): Blob => ({
  id: r.id,
  uid: r.uid,
  appId: r.app_id,
  userId: r.user_id,
  name: r.name,
  contentType: r.content_type,
  size: r.size,
  public: r.public,
  tags: r.tags,
  status: r.status,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
  completedAt: r.completed_at === null ? null : new Date(r.completed_at),
});

export class PostgresBlobStore implements BlobStore {
  constructor(private readonly pool: pg.Pool) {}

  private async one(sql: string, params: unknown[]): Promise<Blob | null> {
    const { rows } = await this.pool.query<BlobRow>(sql, params);
    return rows[0] ? toBlob(rows[0]) : null;
  }

  async createBlob(input: NewBlob): Promise<Blob> {
    const now = Date.now();
    return (await this.one(
      `INSERT INTO blobs (uid, app_id, user_id, name, content_type, public, tags, upload_key_hash, upload_expires_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING ${COLUMNS}`,
      [input.uid, input.appId, input.userId, input.name, input.contentType, input.public, input.tags, input.uploadKeyHash,
        input.uploadExpiresAt.getTime(), now]))!;
  }

  async getBlob(appId: number, id: number): Promise<Blob | null> {
    return this.one(`SELECT ${COLUMNS} FROM blobs WHERE app_id = $1 AND id = $2`, [appId, id]);
  }

  async getBlobByUid(uid: string): Promise<Blob | null> {
    return this.one(`SELECT ${COLUMNS} FROM blobs WHERE uid = $1`, [uid]);
  }

  async blobForUpload(uploadKeyHash: string, now: Date): Promise<Blob | null> {
    return this.one(`SELECT ${COLUMNS} FROM blobs WHERE upload_key_hash = $1 AND upload_expires_at > $2 AND status IS NULL`,
      [uploadKeyHash, now.getTime()]);
  }

  async listBlobs(appId: number, userId: number, page: { limit: number; offset: number }): Promise<{ total: number; blobs: Blob[] }> {
    return inTransaction(this.pool, async (tx) => {
      const total = (await tx.query<{ n: number }>('SELECT count(*) AS n FROM blobs WHERE app_id = $1 AND user_id = $2', [appId, userId])).rows[0].n;
      const { rows } = await tx.query<BlobRow>(
        `SELECT ${COLUMNS} FROM blobs WHERE app_id = $1 AND user_id = $2 ORDER BY id LIMIT $3 OFFSET $4`, [appId, userId, page.limit, page.offset]);
      return { total, blobs: rows.map(toBlob) };
    }, true);
  }

  async renameBlob(appId: number, id: number, name: string): Promise<Blob | null> {
    return this.one(`UPDATE blobs SET name = $1, updated_at = $2 WHERE app_id = $3 AND id = $4 RETURNING ${COLUMNS}`,
      [name, Date.now(), appId, id]);
  }

  async completeBlob(appId: number, id: number, size: number, at: Date): Promise<Blob | null> {
    const completed = await this.one(
      `UPDATE blobs SET status = 'complete', size = $1, completed_at = $2, updated_at = $3, upload_key_hash = NULL, upload_expires_at = NULL
       WHERE app_id = $4 AND id = $5 AND status IS NULL RETURNING ${COLUMNS}`,
      [size, at.getTime(), Date.now(), appId, id]);
    return completed ?? this.getBlob(appId, id);
  }

  async deleteBlob(appId: number, id: number): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM blobs WHERE app_id = $1 AND id = $2', [appId, id])).rowCount ?? 0) > 0;
  }
}
