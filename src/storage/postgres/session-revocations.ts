import type pg from 'pg';
import { REVOCATION_KEEP_MS, type RevocationKind, type SessionRevocation, type SessionRevocationStore } from '../session-revocations-types.js';

interface Row {
  id: string;
  kind: RevocationKind;
  app_id: string;
  user_id: string | null;
  created_at: string;
}

export class PostgresSessionRevocationStore implements SessionRevocationStore {
  constructor(private readonly pool: pg.Pool) {}

  async add(input: { kind: RevocationKind; appId: number; userId: number | null }): Promise<number> {
    const now = Date.now();
    await this.pool.query('DELETE FROM session_revocations WHERE created_at < $1', [now - REVOCATION_KEEP_MS]);
    const { rows } = await this.pool.query<{ id: string }>(
      'INSERT INTO session_revocations (kind, app_id, user_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id', [input.kind, input.appId, input.userId, now]);
    return Number(rows[0]!.id);
  }

  async latestId(): Promise<number> {
    // The identity's sequence, not max(id): ids of pruned rows are never handed out again.
    const { rows } = await this.pool.query<{ v: string | null }>(
      "SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS v FROM session_revocations_id_seq");
    return Number(rows[0]?.v ?? 0);
  }

  async since(after: number, limit: number): Promise<SessionRevocation[]> {
    const { rows } = await this.pool.query<Row>(
      'SELECT id, kind, app_id, user_id, created_at FROM session_revocations WHERE id > $1 ORDER BY id LIMIT $2', [after, limit]);
    return rows.map((r) => ({ id: Number(r.id), kind: r.kind, appId: Number(r.app_id), userId: r.user_id === null ? null : Number(r.user_id), createdAt: new Date(Number(r.created_at)) }));
  }
}
