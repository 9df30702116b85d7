import type Database from 'better-sqlite3';
import type { OfflineMessage, OfflineSender, OfflineStore } from '../types.js';
import type { GroupCommit } from './group-commit.js';

interface Row {
  id: number;
  user_id: number;
  stanza: string;
  stored_at: number;
}

export class SqliteOfflineStore implements OfflineStore {
  private readonly s;
  private readonly pushTx: Database.Transaction<(userId: number, stanza: string, limit: number, sender?: OfflineSender) => boolean>;

  constructor(db: Database.Database, private readonly writes: GroupCommit) {
    this.s = {
      count: db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM offline_messages WHERE user_id = ?'),
      countFrom: db.prepare<[number, string], { n: number }>('SELECT count(*) AS n FROM offline_messages WHERE user_id = ? AND sender = ?'),
      insert: db.prepare<[number, string, number, string | null]>(
        'INSERT INTO offline_messages (user_id, stanza, stored_at, sender) VALUES (?, ?, ?, ?)'),
      list: db.prepare<[number], Row>('SELECT * FROM offline_messages WHERE user_id = ? ORDER BY id'),
      remove: db.prepare<[string]>('DELETE FROM offline_messages WHERE id IN (SELECT value FROM json_each(?))'),
    };
    this.pushTx = db.transaction((userId: number, stanza: string, limit: number, sender?: OfflineSender) => {
      if (this.s.count.get(userId)!.n >= limit) return false;
      if (sender && this.s.countFrom.get(userId, sender.id)!.n >= sender.limit) return false;
      this.s.insert.run(userId, stanza, Date.now(), sender?.id ?? null);
      return true;
    });
  }

  async push(userId: number, stanza: string, limit: number, sender?: OfflineSender): Promise<boolean> {
    // The batch's transaction is IMMEDIATE: another process cannot slip a message in between the count and the insert.
    return this.writes.run(() => this.pushTx(userId, stanza, limit, sender));
  }

  async list(userId: number): Promise<OfflineMessage[]> {
    // A push issued before this call (say by the session that just ended) must be seen: commit what is queued.
    this.writes.flush();
    return this.s.list.all(userId).map((r) => ({
      id: r.id,
      userId: r.user_id,
      stanza: r.stanza,
      storedAt: new Date(r.stored_at),
    }));
  }

  async remove(ids: number[]): Promise<void> {
    if (ids.length > 0) await this.writes.run(() => this.s.remove.run(JSON.stringify(ids)));
  }

  async count(userId: number): Promise<number> {
    this.writes.flush();
    return this.s.count.get(userId)!.n;
  }
}
