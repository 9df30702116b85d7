// Deep history pages (a large `skip`) by keyset instead of OFFSET. OFFSET walks every skipped index
// entry (26 ms at skip=500000); a page that starts right after a known row is a short index range.
// The row just before each page start that a read met is remembered, and used only while the
// database is exactly as it was then: PRAGMA data_version changes with every commit of another
// connection, and on any change the remembered rows are dropped. So the answers are the OFFSET
// answers; only the second read of the same deep page (or the page after one) is cheap.
// One instance per read-pool worker connection.
import type { ChatMessage, MessageQuery } from '../types.js';
import type { SqliteChatStore } from './chat.js';

/** Below this skip OFFSET is cheap enough. */
export const KEYSET_FROM_SKIP = 1000;
const MAX_CURSORS = 1000;

interface Cursor {
  dateSent: number;
  id: string;
}

export class DeepPages {
  private readonly cursors = new Map<string, Cursor>();
  private version: number | null = null;

  constructor(private readonly chat: SqliteChatStore, private readonly dataVersion: () => number) {}

  listMessages(query: MessageQuery): Promise<ChatMessage[]> {
    return this.page(query, (q) => this.chat.listMessages(q));
  }

  /** The page `list` reads for `query` (the same rows as with OFFSET), read by keyset when a cursor is known. */
  async page<T extends Cursor>(query: MessageQuery, list: (query: MessageQuery) => Promise<T[]>): Promise<T[]> {
    if ((query.sort?.field ?? 'date_sent') !== 'date_sent' || query.skip < KEYSET_FROM_SKIP || query.limit < 1) return list(query);
    const before = this.dataVersion();
    if (before !== this.version) {
      this.cursors.clear();
      this.version = before;
    }
    const ascending = (query.sort?.direction ?? 'asc') === 'asc';
    const shape = JSON.stringify([query.dialogId, query.viewerId, query.filters, ascending]);
    const cursor = this.cursors.get(`${query.skip} ${shape}`);
    let page: T[];
    const learned: [number, Cursor][] = [];
    if (cursor) {
      page = await this.after(query, cursor, ascending, list);
    } else {
      // One row more, from one row earlier: that row is where this page starts next time.
      const withPrevious = await list({ ...query, skip: query.skip - 1, limit: query.limit + 1 });
      if (withPrevious.length > 0) learned.push([query.skip, withPrevious[0]!]);
      page = withPrevious.slice(1);
    }
    if (page.length === query.limit) learned.push([query.skip + page.length, page[page.length - 1]!]);
    if (this.dataVersion() !== before) {
      // A commit landed between the reads: what they learned may not hold, and a keyset page may
      // mix two states. OFFSET in one statement answers as before.
      this.version = null;
      this.cursors.clear();
      return cursor ? list(query) : page;
    }
    for (const [skip, row] of learned) this.remember(`${skip} ${shape}`, row);
    return page;
  }

  /** The page after `cursor`: rows from its date_sent on, past those that share its date_sent and sort up to it. */
  private async after<T>(query: MessageQuery, cursor: Cursor, ascending: boolean, list: (query: MessageQuery) => Promise<T[]>): Promise<T[]> {
    const base = { dialogId: query.dialogId, viewerId: query.viewerId };
    const upTo = await this.chat.countMessages({
      ...base,
      filters: [...query.filters, { field: 'date_sent', op: 'eq', value: cursor.dateSent }, { field: '_id', op: ascending ? 'lte' : 'gte', value: cursor.id }],
    });
    return list({
      ...query,
      filters: [...query.filters, { field: 'date_sent', op: ascending ? 'gte' : 'lte', value: cursor.dateSent }],
      skip: upTo,
    });
  }

  private remember(key: string, row: Cursor): void {
    if (!Number.isFinite(row.dateSent)) return;
    if (this.cursors.size >= MAX_CURSORS) this.cursors.delete(this.cursors.keys().next().value!);
    this.cursors.set(key, { dateSent: row.dateSent, id: row.id });
  }
}
