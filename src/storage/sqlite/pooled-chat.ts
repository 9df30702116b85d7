// The SQLite chat store with its costly reads on the read pool's workers (read-pool.ts): dialog
// lists and counts, message counts and deep history pages. A history page near either end of a
// dialog costs ~0.3 ms of SQLite, less than handing it to a worker costs in all (~0.45 ms of CPU
// across the threads, measured on 2 cores), so it stays here, with every write. When the pool is
// gone (closed, or its workers kept failing) all reads run here again. (REST's GET /chat/Message.json
// and /chat/Dialog.json run whole on the workers instead, views and JSON included: rest/page-render.ts.)
import type Database from 'better-sqlite3';
import type { ChatMessage, DialogQuery, MessageQuery, RenderedDialogs, RenderedMessage, UserDialog } from '../types.js';
import { SqliteChatStore } from './chat.js';
import { KEYSET_FROM_SKIP } from './deep-pages.js';
import type { GroupCommit } from './group-commit.js';
import type { SqliteReadPool } from './read-pool.js';

export class PooledSqliteChatStore extends SqliteChatStore {
  constructor(db: Database.Database, writes: GroupCommit, private readonly pool: SqliteReadPool) {
    super(db, writes);
  }

  override listMessages(query: MessageQuery): Promise<ChatMessage[]> {
    return this.pool.available && query.skip >= KEYSET_FROM_SKIP ? this.pool.run('listMessages', [query]) : super.listMessages(query);
  }

  /** A deep page is read on the pool (by keyset there), whole, rather than rendered here with OFFSET. */
  override async renderMessages(query: MessageQuery, options: { private: boolean; unreadFor: number | null }): Promise<RenderedMessage[]> {
    if (!(this.pool.available && query.skip >= KEYSET_FROM_SKIP)) return super.renderMessages(query, options);
    const { unreadFor } = options;
    return (await this.listMessages(query)).map((message) => ({
      id: message.id, message, unread: unreadFor !== null && (!message.readIds.includes(unreadFor) || !message.deliveredIds.includes(unreadFor)),
    }));
  }

  override countMessages(query: Omit<MessageQuery, 'sort' | 'limit' | 'skip'>): Promise<number> {
    return this.pool.available ? this.pool.run('countMessages', [query]) : super.countMessages(query);
  }

  override listDialogs(query: DialogQuery): Promise<UserDialog[]> {
    return this.pool.available ? this.pool.run('listDialogs', [query]) : super.listDialogs(query);
  }

  /** Read on the pool instead, where the chat pages are rendered whole (rest/page-render.ts). */
  override renderDialogs(query: DialogQuery, options: { mucDomain: string }): Promise<RenderedDialogs | null> {
    return this.pool.available ? Promise.resolve(null) : super.renderDialogs(query, options);
  }

  override countDialogs(query: Omit<DialogQuery, 'sort' | 'limit' | 'skip'>): Promise<number> {
    return this.pool.available ? this.pool.run('countDialogs', [query]) : super.countDialogs(query);
  }
}
