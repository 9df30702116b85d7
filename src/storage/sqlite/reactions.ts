import type Database from 'better-sqlite3';
import type { AddReactionResult, ReactionStore, ReactionSummary } from '../reactions-types.js';

export class SqliteReactionStore implements ReactionStore {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      has: db.prepare<[string, string, number], number>('SELECT 1 FROM message_reactions WHERE message_id = ? AND name = ? AND user_id = ?').pluck(),
      nameUsed: db.prepare<[string, string], number>('SELECT 1 FROM message_reactions WHERE message_id = ? AND name = ? LIMIT 1').pluck(),
      names: db.prepare<[string], number>('SELECT count(DISTINCT name) FROM message_reactions WHERE message_id = ?').pluck(),
      insert: db.prepare<[string, string, number, number]>('INSERT INTO message_reactions (message_id, name, user_id, created_at) VALUES (?, ?, ?, ?)'),
      remove: db.prepare<[string, string, number]>('DELETE FROM message_reactions WHERE message_id = ? AND name = ? AND user_id = ?'),
    };
  }

  async addReaction(messageId: string, userId: number, name: string, at: Date, maxNames: number): Promise<AddReactionResult> {
    const run = this.db.transaction((): AddReactionResult => {
      if (this.s.has.get(messageId, name, userId)) return 'exists';
      if (!this.s.nameUsed.get(messageId, name) && this.s.names.get(messageId)! >= maxNames) return 'limit';
      this.s.insert.run(messageId, name, userId, at.getTime());
      return 'added';
    });
    return run.immediate();
  }

  async removeReaction(messageId: string, userId: number, name: string): Promise<boolean> {
    return this.s.remove.run(messageId, name, userId).changes > 0;
  }

  async listReactions(messageIds: string[]): Promise<Map<string, ReactionSummary[]>> {
    const out = new Map<string, ReactionSummary[]>();
    if (messageIds.length === 0) return out;
    const rows = this.db.prepare<unknown[], { message_id: string; name: string; ids: string }>(
      `SELECT message_id, name, json_group_array(user_id) AS ids FROM (
         SELECT message_id, name, user_id, min(created_at) OVER (PARTITION BY message_id, name) AS first FROM message_reactions
         WHERE message_id IN (${messageIds.map(() => '?').join(', ')}) ORDER BY user_id)
       GROUP BY message_id, name ORDER BY message_id, min(first), name`,
    ).all(...messageIds);
    for (const r of rows) {
      const list = out.get(r.message_id) ?? [];
      list.push({ name: r.name, userIds: (JSON.parse(r.ids) as number[]).sort((a, b) => a - b) });
      out.set(r.message_id, list);
    }
    return out;
  }
}
