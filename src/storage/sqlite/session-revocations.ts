import type Database from 'better-sqlite3';
import { BOUND_LIMIT } from './bound-limit.js';
import { REVOCATION_KEEP_MS, type RevocationKind, type SessionRevocation, type SessionRevocationStore } from '../session-revocations-types.js';

interface Row {
  id: number;
  kind: RevocationKind;
  app_id: number;
  user_id: number | null;
  created_at: number;
}

const statements = (db: Database.Database) => ({
  prune: db.prepare<[number]>('DELETE FROM session_revocations WHERE created_at < ?'),
  insert: db.prepare<[string, number, number | null, number]>('INSERT INTO session_revocations (kind, app_id, user_id, created_at) VALUES (?, ?, ?, ?)'),
  // AUTOINCREMENT's counter: ids of pruned rows are never handed out again.
  latest: db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'session_revocations'"),
  since: db.prepare<[number, number], Row>(`SELECT id, kind, app_id, user_id, created_at FROM session_revocations WHERE id > ? ORDER BY id LIMIT ${BOUND_LIMIT}`),
});

export class SqliteSessionRevocationStore implements SessionRevocationStore {
  // Prepared on first use: the migration tests open stores on databases older than this table.
  private prepared: ReturnType<typeof statements> | null = null;

  constructor(private readonly db: Database.Database) {}

  private get s(): ReturnType<typeof statements> {
    return (this.prepared ??= statements(this.db));
  }

  async add(input: { kind: RevocationKind; appId: number; userId: number | null }): Promise<number> {
    const now = Date.now();
    return this.db.transaction(() => {
      this.s.prune.run(now - REVOCATION_KEEP_MS);
      return Number(this.s.insert.run(input.kind, input.appId, input.userId, now).lastInsertRowid);
    }).immediate();
  }

  async latestId(): Promise<number> {
    return this.s.latest.get()?.seq ?? 0;
  }

  async since(after: number, limit: number): Promise<SessionRevocation[]> {
    return this.s.since.all(after, limit).map((r) => ({ id: r.id, kind: r.kind, appId: r.app_id, userId: r.user_id, createdAt: new Date(r.created_at) }));
  }
}
