// The SQLite chat store with its pages and counts read on the read pool's workers (read-pool.ts);
// everything else, every write included, stays on the main connection. When the pool is gone
// (closed, or its workers kept failing) the reads run here again.
import type Database from 'better-sqlite3';
import type { ChatMessage, DialogQuery, MessageQuery, UserDialog } from '../types.js';
import { SqliteChatStore } from './chat.js';
import type { GroupCommit } from './group-commit.js';
import type { SqliteReadPool } from './read-pool.js';

export class PooledSqliteChatStore extends SqliteChatStore {
  constructor(db: Database.Database, writes: GroupCommit, private readonly pool: SqliteReadPool) {
    super(db, writes);
  }

  override listMessages(query: MessageQuery): Promise<ChatMessage[]> {
    return this.pool.available ? this.pool.run('listMessages', [query]) : super.listMessages(query);
  }

  override countMessages(query: Omit<MessageQuery, 'sort' | 'limit' | 'skip'>): Promise<number> {
    return this.pool.available ? this.pool.run('countMessages', [query]) : super.countMessages(query);
  }

  override listDialogs(query: DialogQuery): Promise<UserDialog[]> {
    return this.pool.available ? this.pool.run('listDialogs', [query]) : super.listDialogs(query);
  }

  override countDialogs(query: Omit<DialogQuery, 'sort' | 'limit' | 'skip'>): Promise<number> {
    return this.pool.available ? this.pool.run('countDialogs', [query]) : super.countDialogs(query);
  }
}
