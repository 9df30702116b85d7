import type Database from 'better-sqlite3';
import type { Blob, BlobStore, NewBlob } from '../types.js';

interface BlobRow {
  id: number;
  uid: string;
  app_id: number;
  user_id: number;
  name: string;
  content_type: string;
  size: number | null;
  public: number;
  tags: string; // a JSON array
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
  public: r.public === 1,
  tags: JSON.parse(r.tags) as string[],
  status: r.status,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
  completedAt: r.completed_at === null ? null : new Date(r.completed_at),
});

export class SqliteBlobStore implements BlobStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      insert: db.prepare<[Record<string, unknown>], BlobRow>(
        `INSERT INTO blobs (uid, app_id, user_id, name, content_type, public, tags, upload_key_hash, upload_expires_at, created_at, updated_at)
         VALUES (@uid, @appId, @userId, @name, @contentType, @public, @tags, @uploadKeyHash, @uploadExpiresAt, @now, @now)
         RETURNING ${COLUMNS}`),
      get: db.prepare<[number, number], BlobRow>(`SELECT ${COLUMNS} FROM blobs WHERE app_id = ? AND id = ?`),
      byUid: db.prepare<[string], BlobRow>(`SELECT ${COLUMNS} FROM blobs WHERE uid = ?`),
      forUpload: db.prepare<[string, number], BlobRow>(
        `SELECT ${COLUMNS} FROM blobs WHERE upload_key_hash = ? AND upload_expires_at > ? AND status IS NULL`),
      list: db.prepare<[number, number, number, number], BlobRow>(
        `SELECT ${COLUMNS} FROM blobs WHERE app_id = ? AND user_id = ? ORDER BY id LIMIT +? OFFSET ?`),
      count: db.prepare<[number, number], number>('SELECT count(*) FROM blobs WHERE app_id = ? AND user_id = ?').pluck(),
      rename: db.prepare<[string, number, number, number], BlobRow>(
        `UPDATE blobs SET name = ?, updated_at = ? WHERE app_id = ? AND id = ? RETURNING ${COLUMNS}`),
      complete: db.prepare<[number, number, number, number, number], BlobRow>(
        `UPDATE blobs SET status = 'complete', size = ?, completed_at = ?, updated_at = ?, upload_key_hash = NULL, upload_expires_at = NULL
         WHERE app_id = ? AND id = ? AND status IS NULL RETURNING ${COLUMNS}`),
      remove: db.prepare<[number, number]>('DELETE FROM blobs WHERE app_id = ? AND id = ?'),
    };
  }

  async createBlob(input: NewBlob): Promise<Blob> {
    return toBlob(this.s.insert.get({
      ...input,
      public: input.public ? 1 : 0,
      tags: JSON.stringify(input.tags),
      uploadExpiresAt: input.uploadExpiresAt.getTime(),
      now: Date.now(),
    })!);
  }

  async getBlob(appId: number, id: number): Promise<Blob | null> {
    const row = this.s.get.get(appId, id);
    return row ? toBlob(row) : null;
  }

  async getBlobByUid(uid: string): Promise<Blob | null> {
    const row = this.s.byUid.get(uid);
    return row ? toBlob(row) : null;
  }

  async blobForUpload(uploadKeyHash: string, now: Date): Promise<Blob | null> {
    const row = this.s.forUpload.get(uploadKeyHash, now.getTime());
    return row ? toBlob(row) : null;
  }

  async listBlobs(appId: number, userId: number, page: { limit: number; offset: number }): Promise<{ total: number; blobs: Blob[] }> {
    const read = this.db.transaction(() => ({
      total: this.s.count.get(appId, userId)!,
      blobs: this.s.list.all(appId, userId, page.limit, page.offset).map(toBlob),
    }));
    return read();
  }

  async renameBlob(appId: number, id: number, name: string): Promise<Blob | null> {
    const row = this.s.rename.get(name, Date.now(), appId, id);
    return row ? toBlob(row) : null;
  }

  async completeBlob(appId: number, id: number, size: number, at: Date): Promise<Blob | null> {
    const row = this.s.complete.get(size, at.getTime(), Date.now(), appId, id);
    return row ? toBlob(row) : this.getBlob(appId, id);
  }

  async deleteBlob(appId: number, id: number): Promise<boolean> {
    return this.s.remove.run(appId, id).changes > 0;
  }
}
