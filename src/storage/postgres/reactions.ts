import type pg from 'pg';
import type { AddReactionResult, ReactionStore, ReactionSummary } from '../reactions-types.js';
import { inTransaction } from './pool.js';

export class PostgresReactionStore implements ReactionStore {
  constructor(private readonly pool: pg.Pool) {}

  async addReaction(messageId: string, userId: number, name: string, at: Date, maxNames: number): Promise<AddReactionResult> {
    return inTransaction(this.pool, async (tx) => {
      // One writer per message at a time, so that two new names cannot both pass the limit.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`reactions:${messageId}`]);
      const has = await tx.query('SELECT 1 FROM message_reactions WHERE message_id = $1 AND name = $2 AND user_id = $3', [messageId, name, userId]);
      if (has.rowCount) return 'exists';
      const { rows } = await tx.query<{ used: boolean; names: string }>(
        'SELECT bool_or(name = $2) AS used, count(DISTINCT name) AS names FROM message_reactions WHERE message_id = $1', [messageId, name]);
      if (!rows[0].used && Number(rows[0].names) >= maxNames) return 'limit';
      await tx.query('INSERT INTO message_reactions (message_id, name, user_id, created_at) VALUES ($1, $2, $3, $4)', [messageId, name, userId, at.getTime()]);
      return 'added';
    });
  }

  async removeReaction(messageId: string, userId: number, name: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM message_reactions WHERE message_id = $1 AND name = $2 AND user_id = $3', [messageId, name, userId]);
    return (rowCount ?? 0) > 0;
  }

  async listReactions(messageIds: string[]): Promise<Map<string, ReactionSummary[]>> {
    const out = new Map<string, ReactionSummary[]>();
    if (messageIds.length === 0) return out;
    const { rows } = await this.pool.query<{ message_id: string; name: string; ids: string[] }>(
      `SELECT message_id, name, array_agg(user_id ORDER BY user_id) AS ids FROM message_reactions
       WHERE message_id = ANY($1::text[]) GROUP BY message_id, name ORDER BY message_id, min(created_at), name`, [messageIds]);
    for (const r of rows) {
      const list = out.get(r.message_id) ?? [];
      list.push({ name: r.name, userIds: r.ids.map(Number) });
      out.set(r.message_id, list);
    }
    return out;
  }
}
