import type Database from 'better-sqlite3';
import Sqlite from 'better-sqlite3';
import {
  DuplicateMessageIdError,
  type ChatMessage,
  type ChatStore,
  type Dialog,
  type DialogChanges,
  type DialogField,
  type DialogMemberState,
  type DialogQuery,
  type DialogType,
  type HistoryCursor,
  type MessageField,
  type MessageMarks,
  type MessageQuery,
  type NewDialog,
  type RenderedDialogs,
  type RenderedMessage,
  type UserDialog,
} from '../types.js';
import { whereSql, type Column } from './chat-filters.js';
import type { GroupCommit } from './group-commit.js';
import { BOUND_LIMIT } from './bound-limit.js';
import { RenderedMessageReads } from './read-messages.js';
import { renderDialogs } from './read-dialogs.js';
import { archiveFrom, archivePageSql } from '../archive-sql.js';
import type { ArchiveFilter, ArchiveQuery } from '../archive-types.js';
import { countsAsUnread as isUnread, nextMarks } from '../chat-rules.js';

interface DialogRow {
  id: string;
  app_id: number;
  type: number;
  name: string | null;
  photo: string | null;
  owner_id: number;
  occupant_ids: string;
  admin_ids: string;
  data: string | null;
  is_join_required: number;
  last_message: string | null;
  last_message_date_sent: number | null;
  last_message_id: string | null;
  last_message_user_id: number | null;
  created_at: number;
  updated_at: number;
}

interface MemberRow {
  dialog_id: string;
  user_id: number;
  occupant: number;
  hidden: number;
  unread_count: number;
  cleared_seq: number;
  unread_from_seq: number;
  notifications: number;
}

interface MessageRow {
  seq: number;
  id: string;
  app_id: number;
  dialog_id: string;
  sender_id: number;
  recipient_id: number;
  body: string;
  date_sent: number;
  attachments: string;
  custom: string;
  markable: number;
  read_ids: string;
  delivered_ids: string;
  created_at: number;
  updated_at: number;
}

const ascending = (ids: Iterable<number>) => [...new Set(ids)].sort((a, b) => a - b);

const toDialog = (r: DialogRow): Dialog => ({
  id: r.id,
  appId: r.app_id,
  type: r.type as DialogType,
  name: r.name,
  photo: r.photo,
  ownerId: r.owner_id,
  occupantIds: JSON.parse(r.occupant_ids) as number[],
  adminIds: JSON.parse(r.admin_ids) as number[],
  data: r.data === null ? null : (JSON.parse(r.data) as Record<string, unknown>),
  isJoinRequired: r.is_join_required === 1,
  lastMessage: r.last_message,
  lastMessageDateSent: r.last_message_date_sent,
  lastMessageId: r.last_message_id,
  lastMessageUserId: r.last_message_user_id,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

export const toMessage = (r: MessageRow): ChatMessage => ({
  id: r.id,
  appId: r.app_id,
  dialogId: r.dialog_id,
  senderId: r.sender_id,
  recipientId: r.recipient_id,
  body: r.body,
  dateSent: r.date_sent,
  attachments: JSON.parse(r.attachments) as Record<string, unknown>[],
  customParams: JSON.parse(r.custom) as Record<string, unknown>,
  markable: r.markable === 1,
  readIds: JSON.parse(r.read_ids) as number[],
  deliveredIds: JSON.parse(r.delivered_ids) as number[],
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

const DEFAULT_STATE: DialogMemberState = { unreadCount: 0, hidden: false, notificationsEnabled: true };

const toState = (r: Pick<MemberRow, 'unread_count' | 'hidden' | 'notifications'> | undefined): DialogMemberState =>
  r ? { unreadCount: r.unread_count, hidden: r.hidden === 1, notificationsEnabled: r.notifications === 1 } : { ...DEFAULT_STATE };

const privatePair = (d: NewDialog) => (d.type === 3 ? ascending(d.occupantIds).join(':') : null);

const DATA_KEY = /^[A-Za-z0-9_]+$/;

function dialogColumn(field: DialogField): Column | null {
  switch (field) {
    case '_id': return { kind: 'scalar', sql: 'd.id' };
    case 'type': return { kind: 'scalar', sql: 'd.type' };
    case 'name': return { kind: 'scalar', sql: 'd.name' };
    case 'user_id': return { kind: 'scalar', sql: 'd.owner_id' };
    case 'last_message_date_sent': return { kind: 'scalar', sql: 'd.last_message_date_sent' };
    case 'created_at': return { kind: 'time', sql: 'd.created_at' };
    case 'updated_at': return { kind: 'time', sql: 'd.updated_at' };
    case 'occupants_ids': return { kind: 'array', sql: 'd.occupant_ids' };
    default: {
      const key = field.slice('data.'.length);
      return field.startsWith('data.') && DATA_KEY.test(key) ? { kind: 'text', sql: `json_extract(d.data, '$.${key}')` } : null;
    }
  }
}

function messageColumn(field: MessageField): Column | null {
  switch (field) {
    case '_id': return { kind: 'scalar', sql: 'm.id' };
    case 'message': return { kind: 'scalar', sql: 'm.body' };
    case 'date_sent': return { kind: 'scalar', sql: 'm.date_sent' };
    case 'sender_id': return { kind: 'scalar', sql: 'm.sender_id' };
    case 'recipient_id': return { kind: 'scalar', sql: 'm.recipient_id' };
    case 'attachments.type': return { kind: 'objectArray', sql: 'm.attachments', key: 'type' };
    case 'created_at': return { kind: 'time', sql: 'm.created_at' };
    case 'updated_at': return { kind: 'time', sql: 'm.updated_at' };
    default: return null;
  }
}

const DIALOG_SORT: Record<string, string> = {
  _id: 'd.id', type: 'd.type', name: 'd.name', user_id: 'd.owner_id',
  last_message_date_sent: 'd.last_message_date_sent', created_at: 'd.created_at', updated_at: 'd.updated_at',
};
const MESSAGE_SORT: Record<string, string> = {
  _id: 'm.id', message: 'm.body', date_sent: 'm.date_sent', sender_id: 'm.sender_id',
  recipient_id: 'm.recipient_id', created_at: 'm.created_at', updated_at: 'm.updated_at',
};

/** How many private dialogs the directory keeps (app and pair → dialog), about half a kilobyte each. */
const DIRECTORY_SIZE = 50_000;

export class SqliteChatStore implements ChatStore {
  private readonly s;
  private readonly cache = new Map<string, Database.Statement>();
  /**
   * Private dialogs by `app:pair`, for the message path: the first message between two users finds its
   * dialog here without a query. Only this process writes the file (data-dir lock); any change to a
   * dialog's row other than its last message clears the directory, and a failed write drops the entry.
   */
  private readonly privateDialogs = new Map<string, Dialog>();
  /** Counts the directory's clearings, so that a dialog read before one is not put back after it. */
  private directoryGeneration = 0;

  private forgetPrivateDialogs(): void {
    this.privateDialogs.clear();
    this.directoryGeneration++;
  }

  constructor(private readonly db: Database.Database, private readonly writes: GroupCommit) {
    this.s = {
      insertDialog: db.prepare(`INSERT INTO dialogs (id, app_id, type, name, photo, owner_id, occupant_ids, admin_ids, data,
        is_join_required, private_pair, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      // A private dialog opened by its first message: the row, both members and their counters in three statements.
      insertOpenedDialog: db.prepare(`INSERT INTO dialogs (id, app_id, type, name, photo, owner_id, occupant_ids, admin_ids, data,
        is_join_required, private_pair, last_message, last_message_date_sent, last_message_id, last_message_user_id, created_at, updated_at)
        VALUES (?, ?, 3, ?, ?, ?, ?, '[]', ?, 0, ?, ?, ?, ?, ?, ?, ?)`),
      insertPair: db.prepare(`INSERT INTO dialog_members (dialog_id, user_id, occupant, unread_count) VALUES (?, ?, 1, ?), (?, ?, 1, ?)`),
      getDialog: db.prepare<[string, number], DialogRow>('SELECT * FROM dialogs WHERE id = ? AND app_id = ?'),
      getDialogById: db.prepare<[string], DialogRow>('SELECT * FROM dialogs WHERE id = ?'),
      privateDialog: db.prepare<[number, string], DialogRow>('SELECT * FROM dialogs WHERE app_id = ? AND private_pair = ?'),
      isUser: db.prepare<[number, number], number>('SELECT 1 FROM users WHERE id = ? AND app_id = ?').pluck(),
      deleteDialog: db.prepare<[number, string]>('DELETE FROM dialogs WHERE app_id = ? AND id = ?'),
      updateDialog: db.prepare(`UPDATE dialogs SET name = ?, photo = ?, data = ?, is_join_required = ?, occupant_ids = ?,
        admin_ids = ?, updated_at = ? WHERE id = ?`),
      setLastMessage: db.prepare(`UPDATE dialogs SET last_message = ?, last_message_date_sent = ?, last_message_id = ?,
        last_message_user_id = ?, updated_at = max(updated_at, ?) WHERE id = ?`),
      clearLastMessage: db.prepare(`UPDATE dialogs SET last_message = NULL, last_message_date_sent = NULL, last_message_id = NULL,
        last_message_user_id = NULL WHERE id = ?`),
      editLastMessage: db.prepare('UPDATE dialogs SET last_message = ? WHERE id = ? AND last_message_id = ?'),
      dialogIds: db.prepare<[number, string, number], string>('SELECT id FROM dialogs WHERE app_id = ? AND id > ? ORDER BY id LIMIT +?').pluck(),

      member: db.prepare<[string, number], MemberRow>('SELECT * FROM dialog_members WHERE dialog_id = ? AND user_id = ?'),
      occupantMembers: db.prepare<[string], MemberRow>('SELECT * FROM dialog_members WHERE dialog_id = ? AND occupant = 1'),
      joinMember: db.prepare(`INSERT INTO dialog_members (dialog_id, user_id, occupant, unread_from_seq) VALUES (?, ?, 1, ?)
        ON CONFLICT (dialog_id, user_id) DO UPDATE SET occupant = 1, hidden = 0, unread_count = 0, unread_from_seq = excluded.unread_from_seq`),
      leaveMember: db.prepare('UPDATE dialog_members SET occupant = 0, unread_count = 0 WHERE dialog_id = ? AND user_id = ?'),
      hideMember: db.prepare(`INSERT INTO dialog_members (dialog_id, user_id, hidden, cleared_seq, unread_from_seq) VALUES (?, ?, 1, ?, ?)
        ON CONFLICT (dialog_id, user_id) DO UPDATE SET hidden = 1, unread_count = 0, cleared_seq = excluded.cleared_seq,
        unread_from_seq = max(dialog_members.unread_from_seq, excluded.unread_from_seq)`),
      unhideMember: db.prepare('UPDATE dialog_members SET hidden = 0 WHERE dialog_id = ? AND user_id = ?'),
      // The two per-message updates, each one statement that leaves an unchanged row unwritten where it can.
      receiveMessage: db.prepare(`UPDATE dialog_members SET hidden = 0,
        unread_count = CASE WHEN occupant = 1 THEN unread_count + 1 ELSE unread_count END WHERE dialog_id = ? AND user_id = ?`),
      unhideSender: db.prepare('UPDATE dialog_members SET hidden = 0 WHERE dialog_id = ? AND user_id = ? AND hidden = 1'),
      setNotifications: db.prepare(`INSERT INTO dialog_members (dialog_id, user_id, notifications) VALUES (?, ?, ?)
        ON CONFLICT (dialog_id, user_id) DO UPDATE SET notifications = excluded.notifications`),
      addUnread: db.prepare(`UPDATE dialog_members SET unread_count = max(0, unread_count + ?)
        WHERE dialog_id = ? AND user_id = ? AND occupant = 1`),
      setUnread: db.prepare('UPDATE dialog_members SET unread_count = ? WHERE dialog_id = ? AND user_id = ?'),
      unreadCounts: db.prepare<[number, number], { dialog_id: string; unread_count: number }>(`
        SELECT m.dialog_id, m.unread_count FROM dialog_members m JOIN dialogs d ON d.id = m.dialog_id
        WHERE m.user_id = ? AND d.app_id = ? AND m.occupant = 1 AND m.hidden = 0 AND m.unread_count > 0 AND d.type <> 1`),

      insertMessage: db.prepare(`INSERT INTO messages (id, app_id, dialog_id, sender_id, recipient_id, body, date_sent, attachments,
        custom, markable, read_ids, delivered_ids, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      messageById: db.prepare<[string], MessageRow>('SELECT * FROM messages WHERE id = ?'),
      messageInDialog: db.prepare<[string, string], MessageRow>('SELECT * FROM messages WHERE id = ? AND dialog_id = ?'),
      hidden: db.prepare<[string, number], number>('SELECT 1 FROM message_hides WHERE message_id = ? AND user_id = ?').pluck(),
      hidesAny: db.prepare<[number], number>('SELECT 1 FROM message_hides WHERE user_id = ? LIMIT 1').pluck(),
      hide: db.prepare('INSERT INTO message_hides (message_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      setMarks: db.prepare('UPDATE messages SET read_ids = ?, delivered_ids = ? WHERE seq = ?'),
      editMessage: db.prepare('UPDATE messages SET body = ?, updated_at = ? WHERE id = ? AND dialog_id = ?'),
      deleteMessage: db.prepare('DELETE FROM messages WHERE seq = ?'),
      // The newest seq of the whole store, where a dialog's newest would do: seqs are never reused
      // (AUTOINCREMENT), so "every message up to it" is the same set of the dialog's messages, and
      // this is one step down the table instead of an index of (dialog_id, seq) kept for it.
      lastSeq: db.prepare<[], number | null>('SELECT max(seq) FROM messages').pluck(),
      // Newest as history pages order them, read off the (dialog_id, date_sent, id) index.
      newestMessage: db.prepare<[string], MessageRow>('SELECT * FROM messages WHERE dialog_id = ? ORDER BY date_sent DESC, id DESC LIMIT 1'),
      newestFirst: db.prepare<[string, number, number, string], MessageRow>(`SELECT * FROM messages
        WHERE dialog_id = ? AND seq > ? AND (date_sent, id) < (?, ?) ORDER BY date_sent DESC, id DESC LIMIT 500`),
      deliverAll: db.prepare(`UPDATE messages SET delivered_ids = json_insert(delivered_ids, '$[#]', CAST(? AS INTEGER))
        WHERE dialog_id = ? AND seq > ? AND NOT EXISTS (SELECT 1 FROM json_each(messages.delivered_ids) WHERE value = ?)
        AND NOT EXISTS (SELECT 1 FROM message_hides h WHERE h.message_id = messages.id AND h.user_id = ?)`),
      history: db.prepare<[number, string, number, number, string, number], MessageRow>(`SELECT * FROM messages
        WHERE app_id = ? AND dialog_id = ? AND (date_sent > ? OR (date_sent = ? AND id > ?)) ORDER BY date_sent, id LIMIT +?`),
    };
  }

  /** Prepared statements for the dynamic list queries, kept since the same shapes repeat. */
  private prepare(sql: string): Database.Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      if (this.cache.size >= 200) this.cache.delete(this.cache.keys().next().value!);
      stmt = this.db.prepare(sql);
      this.cache.set(sql, stmt);
    }
    return stmt;
  }

  // ---- dialogs --------------------------------------------------------------------------------

  private insertDialog(d: NewDialog): Dialog {
    const occupants = ascending(d.occupantIds);
    const created = d.createdAt.getTime();
    const data = d.data === null ? null : JSON.stringify(d.data);
    this.s.insertDialog.run(d.id, d.appId, d.type, d.name, d.photo, d.ownerId, JSON.stringify(occupants),
      JSON.stringify(ascending(d.adminIds)), data, d.isJoinRequired ? 1 : 0, privatePair(d), created, created);
    for (const userId of occupants) this.s.joinMember.run(d.id, userId, 0);
    // What toDialog would read back, without the read.
    return {
      id: d.id, appId: d.appId, type: d.type, name: d.name, photo: d.photo, ownerId: d.ownerId, occupantIds: occupants,
      adminIds: ascending(d.adminIds), data: data === null ? null : (JSON.parse(data) as Record<string, unknown>),
      isJoinRequired: d.isJoinRequired, lastMessage: null, lastMessageDateSent: null, lastMessageId: null,
      lastMessageUserId: null, createdAt: new Date(created), updatedAt: new Date(created),
    };
  }

  async createDialog(dialog: NewDialog): Promise<Dialog> {
    return this.db.transaction(() => this.insertDialog(dialog)).immediate();
  }

  async findOrCreatePrivateDialog(dialog: NewDialog): Promise<{ dialog: Dialog; created: boolean }> {
    if (dialog.type !== 3 || new Set(dialog.occupantIds).size !== 2) throw new Error('a private dialog has two occupants');
    // Through the group commit: the first message between two users creates their dialog, so under
    // load this is as hot as storing messages.
    return this.writes.run(() => {
      const existing = this.s.privateDialog.get(dialog.appId, privatePair(dialog)!);
      return existing ? { dialog: toDialog(existing), created: false } : { dialog: this.insertDialog(dialog), created: true };
    });
  }

  async findPrivateDialog(appId: number, userA: number, userB: number): Promise<Dialog | null> {
    const row = this.s.privateDialog.get(appId, ascending([userA, userB]).join(':'));
    return row ? toDialog(row) : null;
  }

  async getDialog(appId: number, dialogId: string): Promise<Dialog | null> {
    const row = this.s.getDialog.get(dialogId, appId);
    return row ? toDialog(row) : null;
  }

  async updateDialog(appId: number, dialogId: string, changes: DialogChanges): Promise<Dialog | null> {
    this.forgetPrivateDialogs();
    return this.db.transaction(() => {
      const row = this.s.getDialog.get(dialogId, appId);
      if (!row) return null;
      const current = toDialog(row);
      const occupants = new Set(current.occupantIds);
      const admins = new Set(changes.adminIds ?? current.adminIds);
      const joinedFrom = this.s.lastSeq.get() ?? 0;
      for (const userId of changes.addOccupants ?? []) {
        if (occupants.has(userId)) continue;
        occupants.add(userId);
        this.s.joinMember.run(dialogId, userId, joinedFrom);
      }
      for (const userId of changes.removeOccupants ?? []) {
        admins.delete(userId);
        if (occupants.delete(userId)) this.s.leaveMember.run(dialogId, userId);
      }
      const data = 'data' in changes ? changes.data : current.data;
      this.s.updateDialog.run(
        'name' in changes ? changes.name : current.name,
        'photo' in changes ? changes.photo : current.photo,
        data === null || data === undefined ? null : JSON.stringify(data),
        (changes.isJoinRequired ?? current.isJoinRequired) ? 1 : 0,
        JSON.stringify(ascending(occupants)),
        JSON.stringify(ascending(admins)),
        changes.updatedAt.getTime(),
        dialogId,
      );
      return toDialog(this.s.getDialogById.get(dialogId)!);
    }).immediate();
  }

  async deleteDialog(appId: number, dialogId: string): Promise<boolean> {
    this.forgetPrivateDialogs();
    return this.s.deleteDialog.run(appId, dialogId).changes > 0;
  }

  /**
   * The caller's dialogs as (rowid, sort key, id): those they occupy, and the application's public
   * dialogs they do not, minus those they hid. Each half is read from its own index (the caller's
   * memberships; the application's public dialogs) instead of testing every dialog of the application.
   */
  private dialogKeysSql(query: Omit<DialogQuery, 'sort' | 'limit' | 'skip'>, sortKey: string) {
    const where = whereSql(query.filters, dialogColumn);
    return {
      sql: `SELECT d.rowid AS rid, ${sortKey} AS k, d.id AS id FROM dialog_members dm JOIN dialogs d ON d.id = dm.dialog_id
          WHERE dm.user_id = ? AND dm.occupant = 1 AND dm.hidden = 0 AND d.app_id = ? AND ${where.sql}
        UNION ALL
        SELECT d.rowid, ${sortKey}, d.id FROM dialogs d LEFT JOIN dialog_members dm ON dm.dialog_id = d.id AND dm.user_id = ?
          WHERE d.app_id = ? AND d.type = 1 AND coalesce(dm.hidden, 0) = 0 AND coalesce(dm.occupant, 0) <> 1 AND ${where.sql}`,
      params: [query.userId, query.appId, ...where.params, query.userId, query.appId, ...where.params],
    };
  }

  async listDialogs(query: DialogQuery): Promise<UserDialog[]> {
    const rows = this.selectDialogs<DialogRow & { m_unread: number | null; m_hidden: number | null; m_notifications: number | null }>(query,
      'd.*, dm.unread_count AS m_unread, dm.hidden AS m_hidden, dm.notifications AS m_notifications');
    return rows.map((r) => ({
      dialog: toDialog(r),
      state: r.m_unread === null ? { ...DEFAULT_STATE } : toState({ unread_count: r.m_unread, hidden: r.m_hidden!, notifications: r.m_notifications! }),
    }));
  }

  renderDialogs(query: DialogQuery, options: { mucDomain: string }): Promise<RenderedDialogs | null> {
    return Promise.resolve(renderDialogs(this, query, options));
  }

  /**
   * listDialogs' page as rows of `columns` (expressions over the dialog `d` and the caller's member
   * row `dm`, null when they have none; their `?` take `columnParams`).
   */
  selectDialogs<R>(query: DialogQuery, columns: string, columnParams: unknown[] = []): R[] {
    const field = DIALOG_SORT[query.sort?.field ?? 'updated_at'] ?? 'd.updated_at';
    const dir = (query.sort?.direction ?? 'desc') === 'asc' ? 'ASC' : 'DESC';
    const { sql, params } = this.dialogKeysSql(query, field);
    // The page is chosen on the keys alone; only its rows are read whole.
    return this.prepare(`SELECT ${columns}
      FROM (SELECT rid, k, id FROM (${sql}) ORDER BY k ${dir} NULLS LAST, id ${dir} LIMIT ${BOUND_LIMIT} OFFSET ?) page
      JOIN dialogs d ON d.rowid = page.rid LEFT JOIN dialog_members dm ON dm.dialog_id = d.id AND dm.user_id = ?
      ORDER BY page.k ${dir} NULLS LAST, page.id ${dir}`)
      .all(...columnParams, ...params, query.limit, query.skip, query.userId) as R[];
  }

  /**
   * selectDialogs' page with, in each row's `total`, what countDialogs would return: the caller's
   * dialogs are found once (a materialised CTE) and both sorted for the page and counted, instead of
   * found a second time by a count of their own (callgrind, 1,001 dialogs: 10.7 M instructions
   * against 8.5 M for the page and 4.6 M for the count). An empty page has no row to carry it.
   */
  selectDialogsCounted<R>(query: DialogQuery, columns: string, columnParams: unknown[] = []): (R & { total: number })[] {
    const field = DIALOG_SORT[query.sort?.field ?? 'updated_at'] ?? 'd.updated_at';
    const dir = (query.sort?.direction ?? 'desc') === 'asc' ? 'ASC' : 'DESC';
    const { sql, params } = this.dialogKeysSql(query, field);
    return this.prepare(`WITH keys AS MATERIALIZED (${sql})
      SELECT ${columns}, (SELECT count(*) FROM keys) AS total
      FROM (SELECT rid, k, id FROM keys ORDER BY k ${dir} NULLS LAST, id ${dir} LIMIT ${BOUND_LIMIT} OFFSET ?) page
      JOIN dialogs d ON d.rowid = page.rid LEFT JOIN dialog_members dm ON dm.dialog_id = d.id AND dm.user_id = ?
      ORDER BY page.k ${dir} NULLS LAST, page.id ${dir}`)
      .all(...params, ...columnParams, query.limit, query.skip, query.userId) as (R & { total: number })[];
  }

  async countDialogs(query: Omit<DialogQuery, 'sort' | 'limit' | 'skip'>): Promise<number> {
    return this.countDialogsNow(query);
  }

  countDialogsNow(query: Omit<DialogQuery, 'sort' | 'limit' | 'skip'>): number {
    const { sql, params } = this.dialogKeysSql(query, 'NULL');
    return (this.prepare(`SELECT count(*) AS n FROM (${sql})`).get(...params) as { n: number }).n;
  }

  async dialogIds(appId: number, after: string | null, limit: number): Promise<string[]> {
    return this.s.dialogIds.all(appId, after ?? '', limit);
  }

  // ---- per-user state -------------------------------------------------------------------------

  async getMemberState(dialogId: string, userId: number): Promise<DialogMemberState> {
    return toState(this.s.member.get(dialogId, userId));
  }

  async hideDialog(dialogId: string, userId: number): Promise<void> {
    this.db.transaction(() => {
      const last = this.s.lastSeq.get() ?? 0;
      this.s.hideMember.run(dialogId, userId, last, last);
    }).immediate();
  }

  async unhideDialog(dialogId: string, userId: number): Promise<void> {
    this.s.unhideMember.run(dialogId, userId);
  }

  async setNotifications(dialogId: string, userId: number, enabled: boolean): Promise<void> {
    this.s.setNotifications.run(dialogId, userId, enabled ? 1 : 0);
  }

  async unreadCounts(appId: number, userId: number): Promise<Map<string, number>> {
    return new Map(this.s.unreadCounts.all(userId, appId).map((r) => [r.dialog_id, r.unread_count]));
  }

  // ---- messages -------------------------------------------------------------------------------

  /** Whether the user deleted the message for themselves, alone or with the whole dialog. */
  private isHiddenFor(row: MessageRow, userId: number, member: MemberRow | undefined): boolean {
    return (member !== undefined && row.seq <= member.cleared_seq) || this.s.hidden.get(row.id, userId) !== undefined;
  }

  /** The definition of "unread" that the stored counters follow (see ChatStore). */
  private countsAsUnread(row: MessageRow, userId: number, member: MemberRow | undefined, readIds: number[]): boolean {
    if (member === undefined || member.occupant !== 1) return false;
    // The hidden check is a query: asked only when the rest already says unread.
    const standing = { occupant: true, unreadFromSeq: member.unread_from_seq };
    return isUnread({ seq: row.seq, senderId: row.sender_id, readIds, hidden: false }, userId, standing)
      && !this.isHiddenFor(row, userId, member);
  }

  async insertMessage(m: ChatMessage, effects: { unreadFor: number[]; unhideFor: number[] }): Promise<void> {
    try {
      await this.writes.run(() => this.insertMessageTx(m, effects));
    } catch (err) {
      if (err instanceof Sqlite.SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE' && err.message.includes('messages.id')) {
        throw new DuplicateMessageIdError(m.id);
      }
      throw err;
    }
  }

  async insertPrivateMessage(dialog: NewDialog, m: ChatMessage, effects: { unreadFor: number[]; unhideFor: number[] }):
    Promise<{ dialog: Dialog; created: boolean } | null> {
    if (dialog.type !== 3 || new Set(dialog.occupantIds).size !== 2) throw new Error('a private dialog has two occupants');
    const pair = privatePair(dialog)!;
    const key = `${dialog.appId}:${pair}`;
    let found: { dialog: Dialog; created: boolean } | null;
    let generation = this.directoryGeneration;
    try {
      found = await this.writes.run(() => {
        generation = this.directoryGeneration;
        let target = this.privateDialogs.get(key);
        let created = false;
        if (!target) {
          const row = this.s.privateDialog.get(dialog.appId, pair);
          if (row) {
            target = toDialog(row);
          } else {
            // The sender is who the caller authenticated; the opponent must be a user of the application.
            const opponents = dialog.occupantIds.filter((userId) => userId !== m.senderId);
            if (opponents.some((userId) => this.s.isUser.get(userId, dialog.appId) === undefined)) return null;
            m.dialogId = dialog.id;
            return { dialog: this.openPrivateDialog(dialog, m, effects), created: true };
          }
        }
        m.dialogId = target.id;
        this.insertMessageTx(m, effects);
        return { dialog: target, created };
      });
    } catch (err) {
      this.privateDialogs.delete(key);
      if (err instanceof Sqlite.SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE' && err.message.includes('messages.id')) {
        throw new DuplicateMessageIdError(m.id);
      }
      throw err;
    }
    if (found && generation === this.directoryGeneration && !this.privateDialogs.has(key)) {
      if (this.privateDialogs.size >= DIRECTORY_SIZE) this.privateDialogs.delete(this.privateDialogs.keys().next().value!);
      this.privateDialogs.set(key, found.dialog);
    }
    return found;
  }

  /**
   * A new private dialog with its first message: the dialog row is written with that message as its
   * last one and the members with their unread counters, instead of updating both after the insert.
   * Returns the dialog as it was before the message.
   */
  private openPrivateDialog(d: NewDialog, m: ChatMessage, effects: { unreadFor: number[] }): Dialog {
    const [a, b] = ascending(d.occupantIds) as [number, number];
    const created = d.createdAt.getTime();
    const data = d.data === null ? null : JSON.stringify(d.data);
    this.s.insertOpenedDialog.run(d.id, d.appId, d.name, d.photo, d.ownerId, `[${a},${b}]`, data, `${a}:${b}`,
      m.body, m.dateSent, m.id, m.senderId, created, Math.max(created, m.createdAt.getTime()));
    this.s.insertPair.run(d.id, a, effects.unreadFor.includes(a) ? 1 : 0, d.id, b, effects.unreadFor.includes(b) ? 1 : 0);
    this.s.insertMessage.run(m.id, m.appId, m.dialogId, m.senderId, m.recipientId, m.body, m.dateSent,
      JSON.stringify(m.attachments), JSON.stringify(m.customParams), m.markable ? 1 : 0, JSON.stringify(m.readIds),
      JSON.stringify(m.deliveredIds), m.createdAt.getTime(), m.updatedAt.getTime());
    return {
      id: d.id, appId: d.appId, type: 3, name: d.name, photo: d.photo, ownerId: d.ownerId, occupantIds: [a, b], adminIds: [],
      data: data === null ? null : (JSON.parse(data) as Record<string, unknown>), isJoinRequired: false, lastMessage: null,
      lastMessageDateSent: null, lastMessageId: null, lastMessageUserId: null, createdAt: new Date(created), updatedAt: new Date(created),
    };
  }

  /** Runs in a group-commit batch, which keeps its statements all-or-nothing (see group-commit.ts). */
  private insertMessageTx(m: ChatMessage, effects: { unreadFor: number[]; unhideFor: number[] }): void {
    this.s.insertMessage.run(m.id, m.appId, m.dialogId, m.senderId, m.recipientId, m.body, m.dateSent,
      JSON.stringify(m.attachments), JSON.stringify(m.customParams), m.markable ? 1 : 0, JSON.stringify(m.readIds),
      JSON.stringify(m.deliveredIds), m.createdAt.getTime(), m.updatedAt.getTime());
    this.s.setLastMessage.run(m.body, m.dateSent, m.id, m.senderId, m.createdAt.getTime(), m.dialogId);
    for (const userId of new Set(effects.unreadFor)) this.s.receiveMessage.run(m.dialogId, userId);
    for (const userId of new Set(effects.unhideFor)) this.s.unhideSender.run(m.dialogId, userId);
  }

  async getMessage(appId: number, messageId: string, viewerId?: number): Promise<ChatMessage | null> {
    const row = this.s.messageById.get(messageId);
    if (!row || row.app_id !== appId) return null;
    if (viewerId !== undefined && this.isHiddenFor(row, viewerId, this.s.member.get(row.dialog_id, viewerId))) return null;
    return toMessage(row);
  }

  private messageListSql(query: Omit<MessageQuery, 'sort' | 'limit' | 'skip'>) {
    const cleared = this.s.member.get(query.dialogId, query.viewerId)?.cleared_seq ?? 0;
    const where = whereSql(query.filters, messageColumn);
    // Without a cleared history the seq bound is left out (it would only cost a comparison per row).
    const afterClear = cleared > 0 ? 'AND m.seq > ?' : '';
    const hides = this.s.hidesAny.get(query.viewerId) !== undefined;
    const notHidden = hides ? 'AND NOT EXISTS (SELECT 1 FROM message_hides h WHERE h.message_id = m.id AND h.user_id = ?)' : '';
    return {
      sql: `FROM messages m WHERE m.dialog_id = ? ${afterClear} ${notHidden} AND ${where.sql}`,
      params: [query.dialogId, ...(cleared > 0 ? [cleared] : []), ...(hides ? [query.viewerId] : []), ...where.params],
    };
  }

  async listMessages(query: MessageQuery): Promise<ChatMessage[]> {
    return this.selectMessages<MessageRow>(query, 'm.*').map(toMessage);
  }

  renderMessages(query: MessageQuery, options: { private: boolean; unreadFor: number | null }): Promise<RenderedMessage[]> {
    this.renderedReads ??= new RenderedMessageReads(this.db, this, toMessage as (row: unknown) => ChatMessage);
    return this.renderedReads.render(query, options);
  }

  private renderedReads: RenderedMessageReads | null = null;

  /**
   * listMessages' page as rows of `columns` (expressions over the message row `m`; their `?`
   * take `columnParams`), so that a reader can select what it shows instead of whole rows.
   */
  selectMessages<R>(query: MessageQuery, columns: string, columnParams: unknown[] = []): R[] {
    const { sql, params } = this.messageListSql(query);
    const field = MESSAGE_SORT[query.sort?.field ?? 'date_sent'] ?? 'm.date_sent';
    const dir = (query.sort?.direction ?? 'asc') === 'asc' ? 'ASC' : 'DESC';
    return this.prepare(`SELECT ${columns} ${sql} ORDER BY ${field} ${dir}, m.id ${dir} LIMIT ${BOUND_LIMIT} OFFSET ?`)
      .all(...columnParams, ...params, query.limit, query.skip) as R[];
  }

  async countMessages(query: Omit<MessageQuery, 'sort' | 'limit' | 'skip'>): Promise<number> {
    const { sql, params } = this.messageListSql(query);
    return (this.prepare(`SELECT count(*) AS n ${sql}`).get(...params) as { n: number }).n;
  }

  /** Applies marks to one message row; returns the unread-counter change for the user. */
  private applyMarks(row: MessageRow, userId: number, member: MemberRow | undefined, marks: MessageMarks): number {
    const readIds = JSON.parse(row.read_ids) as number[];
    const deliveredIds = JSON.parse(row.delivered_ids) as number[];
    const wasUnread = this.countsAsUnread(row, userId, member, readIds);
    const next = nextMarks(readIds, deliveredIds, row.sender_id, userId, marks);
    if (next.changed) {
      row.read_ids = JSON.stringify(next.readIds);
      row.delivered_ids = JSON.stringify(next.deliveredIds);
      this.s.setMarks.run(row.read_ids, row.delivered_ids, row.seq);
    }
    return Number(this.countsAsUnread(row, userId, member, next.readIds)) - Number(wasUnread);
  }

  async markMessages(dialogId: string, userId: number, messageIds: string[], marks: MessageMarks): Promise<ChatMessage[]> {
    return this.writes.run(() => {
      const member = this.s.member.get(dialogId, userId);
      const marked: ChatMessage[] = [];
      let unreadChange = 0;
      for (const id of new Set(messageIds)) {
        const row = this.s.messageInDialog.get(id, dialogId);
        if (!row || this.isHiddenFor(row, userId, member)) continue;
        unreadChange += this.applyMarks(row, userId, member, marks);
        marked.push(toMessage(row));
      }
      if (unreadChange !== 0) this.s.addUnread.run(unreadChange, dialogId, userId);
      return marked;
    });
  }

  /** A dialog's messages after `afterSeq`, newest first, read in batches so that rows can be updated meanwhile. */
  private *newestFirst(dialogId: string, afterSeq: number): Generator<MessageRow> {
    let [dateSent, id] = [Number.POSITIVE_INFINITY, ''];
    for (;;) {
      const batch = this.s.newestFirst.all(dialogId, afterSeq, dateSent, id);
      yield* batch;
      if (batch.length < 500) return;
      ({ date_sent: dateSent, id } = batch[batch.length - 1]);
    }
  }

  async markAllMessages(dialogId: string, userId: number, marks: MessageMarks): Promise<void> {
    this.db.transaction(() => {
      const member = this.s.member.get(dialogId, userId);
      const cleared = member?.cleared_seq ?? 0;
      if (marks.read === true) {
        // Only messages that count as unread lack this reader among those that matter; the stored
        // counter says how many there are, so the newest-first scan stops as soon as all are found.
        let remaining = member?.occupant === 1 ? member.unread_count : 0;
        if (remaining > 0) {
          for (const row of this.newestFirst(dialogId, member!.unread_from_seq)) {
            if (!this.countsAsUnread(row, userId, member, JSON.parse(row.read_ids) as number[])) continue;
            this.applyMarks(row, userId, member, { read: true });
            if (--remaining === 0) break;
          }
        }
        if (member) this.s.setUnread.run(0, dialogId, userId);
      } else if (marks.read === false) {
        let unread = 0;
        for (const row of this.newestFirst(dialogId, cleared)) {
          if (this.isHiddenFor(row, userId, member)) continue;
          this.applyMarks(row, userId, member, { read: false });
          if (this.countsAsUnread(row, userId, member, JSON.parse(row.read_ids) as number[])) unread++;
        }
        if (member?.occupant === 1) this.s.setUnread.run(unread, dialogId, userId);
      }
      if (marks.delivered === true) this.s.deliverAll.run(userId, dialogId, cleared, userId, userId);
    }).immediate();
  }

  async editMessage(dialogId: string, messageId: string, body: string, updatedAt: Date): Promise<ChatMessage | null> {
    return this.db.transaction(() => {
      if (this.s.editMessage.run(body, updatedAt.getTime(), messageId, dialogId).changes === 0) return null;
      this.s.editLastMessage.run(body, dialogId, messageId);
      return toMessage(this.s.messageById.get(messageId)!);
    }).immediate();
  }

  async hideMessages(userId: number, messageIds: string[]): Promise<string[]> {
    return this.db.transaction(() => {
      const hidden: string[] = [];
      for (const id of new Set(messageIds)) {
        const row = this.s.messageById.get(id);
        if (!row) continue;
        const member = this.s.member.get(row.dialog_id, userId);
        if (this.isHiddenFor(row, userId, member)) continue;
        if (this.countsAsUnread(row, userId, member, JSON.parse(row.read_ids) as number[])) this.s.addUnread.run(-1, row.dialog_id, userId);
        this.s.hide.run(id, userId);
        hidden.push(id);
      }
      return hidden;
    }).immediate();
  }

  async deleteMessages(messageIds: string[]): Promise<string[]> {
    return this.db.transaction(() => {
      const deleted: string[] = [];
      const dialogsLosingLast = new Set<string>();
      for (const id of new Set(messageIds)) {
        const row = this.s.messageById.get(id);
        if (!row) continue;
        const readIds = JSON.parse(row.read_ids) as number[];
        for (const member of this.s.occupantMembers.all(row.dialog_id)) {
          if (this.countsAsUnread(row, member.user_id, member, readIds)) this.s.addUnread.run(-1, row.dialog_id, member.user_id);
        }
        this.s.deleteMessage.run(row.seq);
        if (this.s.getDialogById.get(row.dialog_id)?.last_message_id === id) dialogsLosingLast.add(row.dialog_id);
        deleted.push(id);
      }
      for (const dialogId of dialogsLosingLast) {
        const newest = this.s.newestMessage.get(dialogId);
        if (newest) this.s.setLastMessage.run(newest.body, newest.date_sent, newest.id, newest.sender_id, 0, dialogId);
        else this.s.clearLastMessage.run(dialogId);
      }
      return deleted;
    }).immediate();
  }

  async historyBatch(appId: number, dialogId: string, after: HistoryCursor | null, limit: number): Promise<ChatMessage[]> {
    const [dateSent, id] = after ? [after.dateSent, after.id] : [Number.MIN_SAFE_INTEGER, ''];
    return this.s.history.all(appId, dialogId, dateSent, dateSent, id, limit).map(toMessage);
  }

  async archiveMessages(query: ArchiveQuery): Promise<ChatMessage[]> {
    const { sql, params } = archivePageSql('sqlite', query, 'm.*');
    return (this.prepare(sql).all(...params) as MessageRow[]).map(toMessage);
  }

  async countArchive(query: ArchiveFilter): Promise<number> {
    const { sql, params } = archiveFrom('sqlite', query);
    return (this.prepare(`SELECT count(*) AS n ${sql}`).get(...params) as { n: number }).n;
  }
}
