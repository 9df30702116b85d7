// Message archive queries (XEP-0313 over QuickBlox history): the same stored messages REST lists,
// read as one user's 1-1 archive (every private dialog they occupy) or one dialog's archive.
import type { HistoryCursor } from './types.js';

export interface ArchiveQuery {
  appId: number;
  /** Messages this user deleted for themselves (one by one, or with the dialog) are left out. */
  viewerId: number;
  /** One dialog's messages; null: every private dialog the viewer occupies (their 1-1 archive). */
  dialogId: string | null;
  senderId?: number;
  /** Unix seconds, both inclusive. */
  start?: number;
  end?: number;
  /** Only messages strictly after / before this position in (date_sent, _id) order. */
  after?: HistoryCursor;
  before?: HistoryCursor;
  /** Only these message ids. */
  ids?: string[];
  /** 'desc' hands out the newest first (a page counted from the end). Ties in date_sent go by _id. */
  order: 'asc' | 'desc';
  limit: number;
}

/** What an archive count ignores: paging. */
export type ArchiveFilter = Omit<ArchiveQuery, 'after' | 'before' | 'order' | 'limit'>;

export interface ArchiveQueries {
  archiveMessages(query: ArchiveQuery): Promise<import('./types.js').ChatMessage[]>;
  countArchive(query: ArchiveFilter): Promise<number>;
}
