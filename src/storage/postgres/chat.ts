// Dialogs, per-user dialog state and message history in PostgreSQL. Unread counters are kept in
// the transaction of each change, as in the SQLite driver. Every transaction that changes a
// dialog's messages or members first locks the dialog rows it touches (in id order): writers of one
// dialog, on any node, then take turns, which keeps the counters and read/delivered lists exact and
// rules out deadlocks between them; writers of different dialogs do not wait for each other.
import type pg from 'pg';
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
  type UserDialog,
} from '../types.js';
import { Params, whereSql, type Column } from './chat-filters.js';
import { inTransaction, isUniqueViolation, type Queryable } from './pool.js';
import { archiveFrom, archivePageSql } from '../archive-sql.js';
import type { ArchiveFilter, ArchiveQuery } from '../archive-types.js';
import { countsAsUnread as isUnread, nextMarks } from '../chat-rules.js';
import { MessageBatches, type DialogWrite, type FoundDialogRow, type PrivateWrite } from './private-batch.js';

/** A dialog's row (the batch statement returns the same columns). */
type DialogRow = FoundDialogRow;

interface MemberRow {
  dialog_id: string;
  user_id: number;
  occupant: boolean;
  hidden: boolean;
  unread_count: number;
  cleared_seq: number;
  unread_from_seq: number;
  notifications: boolean;
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
  attachments: Record<string, unknown>[];
  custom: Record<string, unknown>;
  markable: boolean;
  read_ids: number[];
  delivered_ids: number[];
  created_at: number;
  updated_at: number;
}

/** A message with whether the user at hand deleted it for themselves one by one. */
type ViewedRow = MessageRow & { hidden_by_user: boolean };

const DIALOG_COLUMNS = `id, app_id, type, name, photo, owner_id, occupant_ids, admin_ids, data, is_join_required,
  last_message, last_message_date_sent, last_message_id, last_message_user_id, created_at, updated_at`;
const MESSAGE_COLUMNS = `seq, id, app_id, dialog_id, sender_id, recipient_id, body, date_sent, attachments, custom, markable,
  read_ids, delivered_ids, created_at, updated_at`;
const MEMBER_COLUMNS = 'dialog_id, user_id, occupant, hidden, unread_count, cleared_seq, unread_from_seq, notifications';
/** MESSAGE_COLUMNS of the table aliased `m`. */
const M_COLUMNS = MESSAGE_COLUMNS.split(',').map((c) => `m.${c.trim()}`).join(', ');
/** DIALOG_COLUMNS of the table aliased `d`. */
const D_COLUMNS = DIALOG_COLUMNS.split(',').map((c) => `d.${c.trim()}`).join(', ');

const ascending = (ids: Iterable<number>) => [...new Set(ids)].sort((a, b) => a - b);

const toDialog = (r: DialogRow): Dialog => ({
  id: r.id,
  appId: r.app_id,
  type: r.type as DialogType,
  name: r.name,
  photo: r.photo,
  ownerId: r.owner_id,
  occupantIds: r.occupant_ids,
  adminIds: r.admin_ids,
  data: r.data,
  isJoinRequired: r.is_join_required,
  lastMessage: r.last_message,
  lastMessageDateSent: r.last_message_date_sent,
  lastMessageId: r.last_message_id,
  lastMessageUserId: r.last_message_user_id,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

const toMessage = (r: MessageRow): ChatMessage => ({
  id: r.id,
  appId: r.app_id,
  dialogId: r.dialog_id,
  senderId: r.sender_id,
  recipientId: r.recipient_id,
  body: r.body,
  dateSent: r.date_sent,
  attachments: r.attachments,
  customParams: r.custom,
  markable: r.markable,
  readIds: r.read_ids,
  deliveredIds: r.delivered_ids,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

const DEFAULT_STATE: DialogMemberState = { unreadCount: 0, hidden: false, notificationsEnabled: true };

const toState = (r: Pick<MemberRow, 'unread_count' | 'hidden' | 'notifications'> | undefined): DialogMemberState =>
  r ? { unreadCount: r.unread_count, hidden: r.hidden, notificationsEnabled: r.notifications } : { ...DEFAULT_STATE };

const privatePair = (d: NewDialog) => (d.type === 3 ? ascending(d.occupantIds).join(':') : null);
const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

const DATA_KEY = /^[A-Za-z0-9_]+$/;

function dialogColumn(field: DialogField): Column | null {
  switch (field) {
    case '_id': return { kind: 'text', sql: 'd.id' };
    case 'type': return { kind: 'number', sql: 'd.type' };
    case 'name': return { kind: 'text', sql: 'd.name' };
    case 'user_id': return { kind: 'number', sql: 'd.owner_id' };
    case 'last_message_date_sent': return { kind: 'number', sql: 'd.last_message_date_sent' };
    case 'created_at': return { kind: 'time', sql: 'd.created_at' };
    case 'updated_at': return { kind: 'time', sql: 'd.updated_at' };
    case 'occupants_ids': return { kind: 'array', sql: 'd.occupant_ids' };
    default: {
      const key = field.slice('data.'.length);
      return field.startsWith('data.') && DATA_KEY.test(key) ? { kind: 'jsonField', sql: 'd.data', key } : null;
    }
  }
}

function messageColumn(field: MessageField): Column | null {
  switch (field) {
    case '_id': return { kind: 'text', sql: 'm.id' };
    case 'message': return { kind: 'text', sql: 'm.body' };
    case 'date_sent': return { kind: 'number', sql: 'm.date_sent' };
    case 'sender_id': return { kind: 'number', sql: 'm.sender_id' };
    case 'recipient_id': return { kind: 'number', sql: 'm.recipient_id' };
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

/** SQL true when user `$user` deleted message `m` for themselves one by one. */
const hiddenByUser = (user: string) => `EXISTS (SELECT 1 FROM message_hides h WHERE h.message_id = m.id AND h.user_id = ${user})`;

/** Whether the user deleted the message for themselves, alone or with the whole dialog. */
const isHiddenFor = (row: ViewedRow, member: MemberRow | undefined) =>
  (member !== undefined && row.seq <= member.cleared_seq) || row.hidden_by_user;

/** The shared unread rule (storage/chat-rules.ts) on a row of this driver. */
const countsAsUnread = (row: ViewedRow, userId: number, member: MemberRow | undefined, readIds: number[]) =>
  isUnread({ seq: row.seq, senderId: row.sender_id, readIds, hidden: isHiddenFor(row, member) }, userId,
    member && { occupant: member.occupant, unreadFromSeq: member.unread_from_seq });

export class PostgresChatStore implements ChatStore {
  /** Stored messages, written in batches (see private-batch.ts). */
  readonly messageBatches: MessageBatches;

  constructor(private readonly pool: pg.Pool) {
    this.messageBatches = new MessageBatches(pool, toDialog,
      { pair: (w) => this.insertPrivateMessageAlone(w), dialog: (w) => this.insertMessageAlone(w) });
  }

  /** Gives back the connections the batches keep (before the pool ends). */
  close(): void {
    this.messageBatches.close();
  }

  // ---- shared steps ---------------------------------------------------------------------------

  /** Locks the dialogs' rows for the rest of the transaction, in id order; returns those that exist. */
  private async lockDialogs(tx: Queryable, dialogIds: string[]): Promise<DialogRow[]> {
    const { rows } = await tx.query<DialogRow>(
      `SELECT ${DIALOG_COLUMNS} FROM dialogs WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE`, [[...new Set(dialogIds)]]);
    return rows;
  }

  private async member(q: Queryable, dialogId: string, userId: number): Promise<MemberRow | undefined> {
    const { rows } = await q.query<MemberRow>(`SELECT ${MEMBER_COLUMNS} FROM dialog_members WHERE dialog_id = $1 AND user_id = $2`,
      [dialogId, userId]);
    return rows[0];
  }

  private async maxSeq(q: Queryable, dialogId: string): Promise<number> {
    return (await q.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM messages WHERE dialog_id = $1', [dialogId])).rows[0].seq ?? 0;
  }

  /** Makes the user an occupant again with no unread messages, counting only messages after `fromSeq`. */
  private async joinMember(q: Queryable, dialogId: string, userId: number, fromSeq: number): Promise<void> {
    await q.query(
      `INSERT INTO dialog_members (dialog_id, user_id, occupant, unread_from_seq) VALUES ($1, $2, true, $3)
       ON CONFLICT (dialog_id, user_id) DO UPDATE SET occupant = true, hidden = false, unread_count = 0, unread_from_seq = excluded.unread_from_seq`,
      [dialogId, userId, fromSeq]);
  }

  private async addUnread(q: Queryable, dialogId: string, userId: number, change: number): Promise<void> {
    await q.query(`UPDATE dialog_members SET unread_count = greatest(0, unread_count + $1)
      WHERE dialog_id = $2 AND user_id = $3 AND occupant`, [change, dialogId, userId]);
  }

  private async setLastMessage(q: Queryable, m: Pick<MessageRow, 'body' | 'date_sent' | 'id' | 'sender_id' | 'dialog_id'>, updatedAt: number) {
    await q.query(`UPDATE dialogs SET last_message = $1, last_message_date_sent = $2, last_message_id = $3, last_message_user_id = $4,
      updated_at = greatest(updated_at, $5) WHERE id = $6`, [m.body, m.date_sent, m.id, m.sender_id, updatedAt, m.dialog_id]);
  }

  // ---- dialogs --------------------------------------------------------------------------------

  private async insertDialog(tx: Queryable, d: NewDialog): Promise<Dialog | null> {
    const occupants = ascending(d.occupantIds);
    const created = d.createdAt.getTime();
    // A private dialog that exists already is left alone (the caller returns that one instead).
    const { rows } = await tx.query<DialogRow>(
      `INSERT INTO dialogs (id, app_id, type, name, photo, owner_id, occupant_ids, admin_ids, data, is_join_required, private_pair,
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
       ON CONFLICT ON CONSTRAINT dialogs_private_pair DO NOTHING RETURNING ${DIALOG_COLUMNS}`,
      [d.id, d.appId, d.type, d.name, d.photo, d.ownerId, occupants, ascending(d.adminIds), json(d.data), d.isJoinRequired,
        privatePair(d), created]);
    if (!rows[0]) return null;
    await tx.query(`INSERT INTO dialog_members (dialog_id, user_id, occupant) SELECT $1, u, true FROM unnest($2::bigint[]) AS u`,
      [d.id, occupants]);
    return toDialog(rows[0]);
  }

  async createDialog(dialog: NewDialog): Promise<Dialog> {
    return inTransaction(this.pool, async (tx) => {
      const created = await this.insertDialog(tx, dialog);
      if (!created) throw new Error(`a private dialog between ${dialog.occupantIds.join(' and ')} exists already`);
      return created;
    });
  }

  async findOrCreatePrivateDialog(dialog: NewDialog): Promise<{ dialog: Dialog; created: boolean }> {
    if (dialog.type !== 3 || new Set(dialog.occupantIds).size !== 2) throw new Error('a private dialog has two occupants');
    for (;;) {
      const existing = await this.findPrivateDialog(dialog.appId, dialog.occupantIds[0], dialog.occupantIds[1]);
      if (existing) return { dialog: existing, created: false };
      // The insert waits for a concurrent one of the same pair and then does nothing; the next round finds that dialog.
      const created = await inTransaction(this.pool, (tx) => this.insertDialog(tx, dialog));
      if (created) return { dialog: created, created: true };
    }
  }

  async findPrivateDialog(appId: number, userA: number, userB: number): Promise<Dialog | null> {
    const { rows } = await this.pool.query<DialogRow>(`SELECT ${DIALOG_COLUMNS} FROM dialogs WHERE app_id = $1 AND private_pair = $2`,
      [appId, ascending([userA, userB]).join(':')]);
    return rows[0] ? toDialog(rows[0]) : null;
  }

  async getDialog(appId: number, dialogId: string): Promise<Dialog | null> {
    const { rows } = await this.pool.query<DialogRow>(`SELECT ${DIALOG_COLUMNS} FROM dialogs WHERE id = $1 AND app_id = $2`, [dialogId, appId]);
    return rows[0] ? toDialog(rows[0]) : null;
  }

  async updateDialog(appId: number, dialogId: string, changes: DialogChanges): Promise<Dialog | null> {
    return inTransaction(this.pool, async (tx) => {
      const [row] = await this.lockDialogs(tx, [dialogId]);
      if (!row || row.app_id !== appId) return null;
      const current = toDialog(row);
      const occupants = new Set(current.occupantIds);
      const admins = new Set(changes.adminIds ?? current.adminIds);
      const joinedFrom = await this.maxSeq(tx, dialogId);
      for (const userId of changes.addOccupants ?? []) {
        if (occupants.has(userId)) continue;
        occupants.add(userId);
        await this.joinMember(tx, dialogId, userId, joinedFrom);
      }
      for (const userId of changes.removeOccupants ?? []) {
        admins.delete(userId);
        if (occupants.delete(userId)) {
          await tx.query('UPDATE dialog_members SET occupant = false, unread_count = 0 WHERE dialog_id = $1 AND user_id = $2', [dialogId, userId]);
        }
      }
      const { rows } = await tx.query<DialogRow>(
        `UPDATE dialogs SET name = $1, photo = $2, data = $3, is_join_required = $4, occupant_ids = $5, admin_ids = $6, updated_at = $7
         WHERE id = $8 RETURNING ${DIALOG_COLUMNS}`,
        [
          'name' in changes ? changes.name : current.name,
          'photo' in changes ? changes.photo : current.photo,
          json('data' in changes ? changes.data : current.data),
          changes.isJoinRequired ?? current.isJoinRequired,
          ascending(occupants),
          ascending(admins),
          changes.updatedAt.getTime(),
          dialogId,
        ]);
      return toDialog(rows[0]);
    });
  }

  async deleteDialog(appId: number, dialogId: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM dialogs WHERE app_id = $1 AND id = $2', [appId, dialogId])).rowCount ?? 0) > 0;
  }

  private dialogListSql(query: Omit<DialogQuery, 'sort' | 'limit' | 'skip'>, params: Params): string {
    const user = params.add(query.userId, 'bigint');
    const app = params.add(query.appId, 'bigint');
    return `FROM dialogs d LEFT JOIN dialog_members dm ON dm.dialog_id = d.id AND dm.user_id = ${user}
      WHERE d.app_id = ${app} AND d.id IN (
        SELECT dialog_id FROM dialog_members WHERE user_id = ${user} AND occupant
        UNION ALL SELECT id FROM dialogs WHERE app_id = ${app} AND type = 1)
      AND NOT coalesce(dm.hidden, false) AND ${whereSql(query.filters, dialogColumn, params)}`;
  }

  async listDialogs(query: DialogQuery): Promise<UserDialog[]> {
    const params = new Params();
    const from = this.dialogListSql(query, params);
    const field = DIALOG_SORT[query.sort?.field ?? 'updated_at'] ?? 'd.updated_at';
    const dir = (query.sort?.direction ?? 'desc') === 'asc' ? 'ASC' : 'DESC';
    const page = `LIMIT ${params.add(query.limit, 'bigint')} OFFSET ${params.add(query.skip, 'bigint')}`;
    const { rows } = await this.pool.query<DialogRow & { m_unread: number | null; m_hidden: boolean | null; m_notifications: boolean | null }>(
      `SELECT ${D_COLUMNS}, dm.unread_count AS m_unread, dm.hidden AS m_hidden, dm.notifications AS m_notifications
       ${from} ORDER BY ${field} ${dir} NULLS LAST, d.id ${dir} ${page}`, params.values);
    return rows.map((r) => ({
      dialog: toDialog(r),
      state: r.m_unread === null ? { ...DEFAULT_STATE } : toState({ unread_count: r.m_unread, hidden: r.m_hidden!, notifications: r.m_notifications! }),
    }));
  }

  async countDialogs(query: Omit<DialogQuery, 'sort' | 'limit' | 'skip'>): Promise<number> {
    const params = new Params();
    const from = this.dialogListSql(query, params);
    return (await this.pool.query<{ n: number }>(`SELECT count(*) AS n ${from}`, params.values)).rows[0].n;
  }

  async dialogIds(appId: number, after: string | null, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM dialogs WHERE app_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [appId, after ?? '', limit]);
    return rows.map((r) => r.id);
  }

  // ---- per-user state -------------------------------------------------------------------------

  async getMemberState(dialogId: string, userId: number): Promise<DialogMemberState> {
    return toState(await this.member(this.pool, dialogId, userId));
  }

  async hideDialog(dialogId: string, userId: number): Promise<void> {
    await inTransaction(this.pool, async (tx) => {
      await this.lockDialogs(tx, [dialogId]);
      const last = await this.maxSeq(tx, dialogId);
      await tx.query(
        `INSERT INTO dialog_members (dialog_id, user_id, hidden, cleared_seq, unread_from_seq) VALUES ($1, $2, true, $3, $3)
         ON CONFLICT (dialog_id, user_id) DO UPDATE SET hidden = true, unread_count = 0, cleared_seq = excluded.cleared_seq,
           unread_from_seq = greatest(dialog_members.unread_from_seq, excluded.unread_from_seq)`,
        [dialogId, userId, last]);
    });
  }

  async unhideDialog(dialogId: string, userId: number): Promise<void> {
    await this.pool.query('UPDATE dialog_members SET hidden = false WHERE dialog_id = $1 AND user_id = $2', [dialogId, userId]);
  }

  async setNotifications(dialogId: string, userId: number, enabled: boolean): Promise<void> {
    await this.pool.query(
      `INSERT INTO dialog_members (dialog_id, user_id, notifications) VALUES ($1, $2, $3)
       ON CONFLICT (dialog_id, user_id) DO UPDATE SET notifications = excluded.notifications`, [dialogId, userId, enabled]);
  }

  async unreadCounts(appId: number, userId: number): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ dialog_id: string; unread_count: number }>(
      `SELECT m.dialog_id, m.unread_count FROM dialog_members m JOIN dialogs d ON d.id = m.dialog_id
       WHERE m.user_id = $1 AND d.app_id = $2 AND m.occupant AND NOT m.hidden AND m.unread_count > 0 AND d.type <> 1`, [userId, appId]);
    return new Map(rows.map((r) => [r.dialog_id, r.unread_count]));
  }

  // ---- messages -------------------------------------------------------------------------------

  async insertMessage(message: ChatMessage, effects: { unreadFor: number[]; unhideFor: number[] }): Promise<void> {
    await this.messageBatches.writeToDialog({ message, effects });
  }

  /** insertMessage in a transaction of its own (when a batch failed). */
  private async insertMessageAlone({ message: m, effects }: DialogWrite): Promise<void> {
    try {
      await inTransaction(this.pool, (tx) => this.insertMessageIn(tx, m, effects));
    } catch (err) {
      if (isUniqueViolation(err, 'messages_id')) throw new DuplicateMessageIdError(m.id);
      throw err;
    }
  }

  async insertPrivateMessage(dialog: NewDialog, message: ChatMessage, effects: { unreadFor: number[]; unhideFor: number[] }):
    Promise<{ dialog: Dialog; created: boolean } | null> {
    if (dialog.type !== 3 || new Set(dialog.occupantIds).size !== 2) throw new Error('a private dialog has two occupants');
    return this.messageBatches.write({ dialog, message, effects });
  }

  /** insertPrivateMessage in a statement of its own (when a batch failed, or raced another writer for a new dialog). */
  private async insertPrivateMessageAlone({ dialog, message: m, effects }: PrivateWrite): Promise<{ dialog: Dialog; created: boolean } | null> {
    const occupants = ascending(dialog.occupantIds);
    const opponents = occupants.filter((userId) => userId !== m.senderId);
    const unreadFor = [...new Set(effects.unreadFor)];
    const shownTo = [...new Set([...effects.unreadFor, ...effects.unhideFor])];
    const created = dialog.createdAt.getTime();
    try {
      // One statement, one round trip: a cluster's nodes share no memory, so the dialog is looked up by the
      // statement that stores the message. A new dialog is written with the message as its last one and its
      // members with their counters; an existing one is updated. Every CTE sees the same snapshot.
      for (let round = 0; round < 3; round++) {
        // Named: each connection parses and plans this statement once, not once per message.
        const { rows } = await this.pool.query<DialogRow & { opened: number; known: number }>({
          name: 'insert-private-message',
          text: `WITH found AS (
             SELECT ${DIALOG_COLUMNS} FROM dialogs WHERE app_id = $1 AND private_pair = $2
           ), known AS (
             SELECT count(*)::int AS n FROM users WHERE app_id = $1 AND id = ANY($6::bigint[])
           ), opened AS (
             INSERT INTO dialogs (id, app_id, type, name, photo, owner_id, occupant_ids, admin_ids, data, is_join_required, private_pair,
               last_message, last_message_date_sent, last_message_id, last_message_user_id, created_at, updated_at)
             SELECT $3, $1, 3, $4, $5, $7, $8::bigint[], '{}', $9::json, false, $2, $10, $11::bigint, $12, $13::bigint, $14::bigint, greatest($14::bigint, $15::bigint)
             WHERE NOT EXISTS (SELECT 1 FROM found) AND (SELECT n FROM known) = cardinality($6::bigint[])
             ON CONFLICT ON CONSTRAINT dialogs_private_pair DO NOTHING
             RETURNING id
           ), members AS (
             INSERT INTO dialog_members (dialog_id, user_id, occupant, unread_count)
             SELECT opened.id, u, true, CASE WHEN u = ANY($16::bigint[]) THEN 1 ELSE 0 END FROM opened, unnest($8::bigint[]) AS u
           ), target AS (
             SELECT id FROM found UNION ALL SELECT id FROM opened
           ), stored AS (
             INSERT INTO messages (id, app_id, dialog_id, sender_id, recipient_id, body, date_sent, attachments, custom, markable, read_ids,
               delivered_ids, created_at, updated_at)
             SELECT $12, $1, target.id, $13::bigint, $18::bigint, $10, $11::bigint, $19, $20, $21::boolean, $22::bigint[], $23::bigint[], $15::bigint, $24::bigint FROM target
           ), last AS (
             UPDATE dialogs SET last_message = $10, last_message_date_sent = $11, last_message_id = $12, last_message_user_id = $13,
               updated_at = greatest(updated_at, $15::bigint) WHERE id = (SELECT id FROM found)
           ), shown AS (
             UPDATE dialog_members SET hidden = false,
               unread_count = CASE WHEN occupant AND user_id = ANY($16::bigint[]) THEN unread_count + 1 ELSE unread_count END
             WHERE dialog_id = (SELECT id FROM found) AND user_id = ANY($17::bigint[])
           )
           SELECT found.*, (SELECT count(*) FROM opened)::int AS opened, (SELECT n FROM known) AS known
           FROM (SELECT 1) AS one LEFT JOIN found ON true`,
          values: [dialog.appId, occupants.join(':'), dialog.id, dialog.name, dialog.photo, opponents, dialog.ownerId, occupants, json(dialog.data),
            m.body, m.dateSent, m.id, m.senderId, created, m.createdAt.getTime(), unreadFor, shownTo, m.recipientId,
            JSON.stringify(m.attachments), JSON.stringify(m.customParams), m.markable, m.readIds, m.deliveredIds, m.updatedAt.getTime()],
        });
        const row = rows[0]!;
        if (row.id !== null) {
          m.dialogId = row.id;
          return { dialog: toDialog(row), created: false };
        }
        if (row.opened === 1) {
          m.dialogId = dialog.id;
          return {
            dialog: {
              id: dialog.id, appId: dialog.appId, type: 3, name: dialog.name, photo: dialog.photo, ownerId: dialog.ownerId, occupantIds: occupants,
              adminIds: [], data: dialog.data, isJoinRequired: false, lastMessage: null, lastMessageDateSent: null, lastMessageId: null,
              lastMessageUserId: null, createdAt: new Date(created), updatedAt: new Date(created),
            },
            created: true,
          };
        }
        if (row.known < opponents.length) return null;
        // A concurrent first message of the same pair created the dialog: the next statement's snapshot has it.
      }
      throw new Error(`the private dialog between ${occupants.join(' and ')} can be neither found nor created`);
    } catch (err) {
      if (isUniqueViolation(err, 'messages_id')) throw new DuplicateMessageIdError(m.id);
      throw err;
    }
  }

  private async insertMessageIn(tx: Queryable, m: ChatMessage, effects: { unreadFor: number[]; unhideFor: number[] }): Promise<void> {
    const unreadFor = [...new Set(effects.unreadFor)];
    const shownTo = [...new Set([...effects.unreadFor, ...effects.unhideFor])];
    await this.setLastMessage(tx, { body: m.body, date_sent: m.dateSent, id: m.id, sender_id: m.senderId, dialog_id: m.dialogId },
      m.createdAt.getTime());
    await tx.query(
      `INSERT INTO messages (id, app_id, dialog_id, sender_id, recipient_id, body, date_sent, attachments, custom, markable, read_ids,
         delivered_ids, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [m.id, m.appId, m.dialogId, m.senderId, m.recipientId, m.body, m.dateSent, JSON.stringify(m.attachments),
        JSON.stringify(m.customParams), m.markable, m.readIds, m.deliveredIds, m.createdAt.getTime(), m.updatedAt.getTime()]);
    if (shownTo.length > 0) {
      await tx.query(
        `UPDATE dialog_members SET hidden = false,
           unread_count = CASE WHEN occupant AND user_id = ANY($2::bigint[]) THEN unread_count + 1 ELSE unread_count END
         WHERE dialog_id = $1 AND user_id = ANY($3::bigint[])`, [m.dialogId, unreadFor, shownTo]);
    }
  }

  async getMessage(appId: number, messageId: string, viewerId?: number): Promise<ChatMessage | null> {
    const visible = viewerId === undefined ? 'true'
      : `m.seq > coalesce((SELECT cleared_seq FROM dialog_members WHERE dialog_id = m.dialog_id AND user_id = $3), 0) AND NOT ${hiddenByUser('$3')}`;
    const { rows } = await this.pool.query<MessageRow>(
      `SELECT ${M_COLUMNS} FROM messages m WHERE m.id = $1 AND m.app_id = $2 AND ${visible}`,
      viewerId === undefined ? [messageId, appId] : [messageId, appId, viewerId]);
    return rows[0] ? toMessage(rows[0]) : null;
  }

  private messageListSql(query: Omit<MessageQuery, 'sort' | 'limit' | 'skip'>, params: Params): string {
    const dialog = params.add(query.dialogId, 'text');
    const viewer = params.add(query.viewerId, 'bigint');
    return `FROM messages m WHERE m.dialog_id = ${dialog}
      AND m.seq > coalesce((SELECT cleared_seq FROM dialog_members WHERE dialog_id = ${dialog} AND user_id = ${viewer}), 0)
      AND NOT ${hiddenByUser(viewer)} AND ${whereSql(query.filters, messageColumn, params)}`;
  }

  async listMessages(query: MessageQuery): Promise<ChatMessage[]> {
    const params = new Params();
    const from = this.messageListSql(query, params);
    const field = MESSAGE_SORT[query.sort?.field ?? 'date_sent'] ?? 'm.date_sent';
    const dir = (query.sort?.direction ?? 'asc') === 'asc' ? 'ASC' : 'DESC';
    const page = `LIMIT ${params.add(query.limit, 'bigint')} OFFSET ${params.add(query.skip, 'bigint')}`;
    const { rows } = await this.pool.query<MessageRow>(`SELECT ${M_COLUMNS} ${from} ORDER BY ${field} ${dir}, m.id ${dir} ${page}`, params.values);
    return rows.map(toMessage);
  }

  async countMessages(query: Omit<MessageQuery, 'sort' | 'limit' | 'skip'>): Promise<number> {
    const params = new Params();
    const from = this.messageListSql(query, params);
    return (await this.pool.query<{ n: number }>(`SELECT count(*) AS n ${from}`, params.values)).rows[0].n;
  }

  /** The given messages (those that exist), each with whether `userId` hid it one by one. */
  private async viewedMessages(q: Queryable, messageIds: string[], userId: number, dialogId?: string): Promise<Map<string, ViewedRow>> {
    const { rows } = await q.query<ViewedRow>(
      `SELECT ${M_COLUMNS}, ${hiddenByUser('$2')} AS hidden_by_user FROM messages m
       WHERE m.id = ANY($1::text[]) ${dialogId === undefined ? '' : 'AND m.dialog_id = $3'}`,
      dialogId === undefined ? [messageIds, userId] : [messageIds, userId, dialogId]);
    return new Map(rows.map((r) => [r.id, r]));
  }

  /** Applies marks to one message row; returns the unread-counter change for the user. */
  private async applyMarks(q: Queryable, row: ViewedRow, userId: number, member: MemberRow | undefined, marks: MessageMarks): Promise<number> {
    const readIds = row.read_ids;
    const deliveredIds = row.delivered_ids;
    const wasUnread = countsAsUnread(row, userId, member, readIds);
    const next = nextMarks(readIds, deliveredIds, row.sender_id, userId, marks);
    if (next.changed) {
      row.read_ids = next.readIds;
      row.delivered_ids = next.deliveredIds;
      await q.query('UPDATE messages SET read_ids = $1, delivered_ids = $2 WHERE seq = $3', [next.readIds, next.deliveredIds, row.seq]);
    }
    return Number(countsAsUnread(row, userId, member, next.readIds)) - Number(wasUnread);
  }

  async markMessages(dialogId: string, userId: number, messageIds: string[], marks: MessageMarks): Promise<ChatMessage[]> {
    return inTransaction(this.pool, async (tx) => {
      await this.lockDialogs(tx, [dialogId]);
      const member = await this.member(tx, dialogId, userId);
      const ids = [...new Set(messageIds)];
      const rows = await this.viewedMessages(tx, ids, userId, dialogId);
      const marked: ChatMessage[] = [];
      let unreadChange = 0;
      for (const id of ids) {
        const row = rows.get(id);
        if (!row || isHiddenFor(row, member)) continue;
        unreadChange += await this.applyMarks(tx, row, userId, member, marks);
        marked.push(toMessage(row));
      }
      if (unreadChange !== 0) await this.addUnread(tx, dialogId, userId, unreadChange);
      return marked;
    });
  }

  async markAllMessages(dialogId: string, userId: number, marks: MessageMarks): Promise<void> {
    await inTransaction(this.pool, async (tx) => {
      await this.lockDialogs(tx, [dialogId]);
      const member = await this.member(tx, dialogId, userId);
      const cleared = member?.cleared_seq ?? 0;
      // The messages of the dialog the user can see, as conditions on `m` with $1 dialog, $2 user, $3 cleared_seq.
      const visible = `m.dialog_id = $1 AND m.seq > $3 AND NOT ${hiddenByUser('$2')}`;
      if (marks.read === true) {
        // Exactly the messages that count as unread lack this reader; only an occupant has any.
        if (member?.occupant && member.unread_count > 0) {
          await tx.query(
            `UPDATE messages m SET read_ids = array_append(m.read_ids, $2),
               delivered_ids = CASE WHEN $2 = ANY(m.delivered_ids) THEN m.delivered_ids ELSE array_append(m.delivered_ids, $2) END
             WHERE ${visible} AND m.seq > $4 AND m.sender_id <> $2 AND NOT ($2 = ANY(m.read_ids))`,
            [dialogId, userId, cleared, member.unread_from_seq]);
        }
        if (member) await tx.query('UPDATE dialog_members SET unread_count = 0 WHERE dialog_id = $1 AND user_id = $2', [dialogId, userId]);
      } else if (marks.read === false) {
        await tx.query(`UPDATE messages m SET read_ids = array_remove(m.read_ids, $2)
          WHERE ${visible} AND m.sender_id <> $2 AND $2 = ANY(m.read_ids)`, [dialogId, userId, cleared]);
        if (member?.occupant) {
          await tx.query(
            `UPDATE dialog_members SET unread_count = (SELECT count(*) FROM messages m
               WHERE ${visible} AND m.seq > $4 AND m.sender_id <> $2 AND NOT ($2 = ANY(m.read_ids)))
             WHERE dialog_id = $1 AND user_id = $2`, [dialogId, userId, cleared, member.unread_from_seq]);
        }
      }
      if (marks.delivered === true) {
        await tx.query(`UPDATE messages m SET delivered_ids = array_append(m.delivered_ids, $2)
          WHERE ${visible} AND NOT ($2 = ANY(m.delivered_ids))`, [dialogId, userId, cleared]);
      }
    });
  }

  async editMessage(dialogId: string, messageId: string, body: string, updatedAt: Date): Promise<ChatMessage | null> {
    return inTransaction(this.pool, async (tx) => {
      await this.lockDialogs(tx, [dialogId]);
      const { rows } = await tx.query<MessageRow>(
        `UPDATE messages SET body = $1, updated_at = $2 WHERE id = $3 AND dialog_id = $4 RETURNING ${MESSAGE_COLUMNS}`,
        [body, updatedAt.getTime(), messageId, dialogId]);
      if (!rows[0]) return null;
      await tx.query('UPDATE dialogs SET last_message = $1 WHERE id = $2 AND last_message_id = $3', [body, dialogId, messageId]);
      return toMessage(rows[0]);
    });
  }

  /** Locks the dialogs of the given messages; the messages must be read again after it. */
  private async lockDialogsOfMessages(tx: Queryable, messageIds: string[]): Promise<void> {
    const { rows } = await tx.query<{ dialog_id: string }>('SELECT DISTINCT dialog_id FROM messages WHERE id = ANY($1::text[])', [messageIds]);
    await this.lockDialogs(tx, rows.map((r) => r.dialog_id));
  }

  async hideMessages(userId: number, messageIds: string[]): Promise<string[]> {
    const ids = [...new Set(messageIds)];
    return inTransaction(this.pool, async (tx) => {
      await this.lockDialogsOfMessages(tx, ids);
      const rows = await this.viewedMessages(tx, ids, userId);
      const members = new Map<string, MemberRow | undefined>();
      const hidden: string[] = [];
      for (const id of ids) {
        const row = rows.get(id);
        if (!row) continue;
        if (!members.has(row.dialog_id)) members.set(row.dialog_id, await this.member(tx, row.dialog_id, userId));
        const member = members.get(row.dialog_id);
        if (isHiddenFor(row, member)) continue;
        if (countsAsUnread(row, userId, member, row.read_ids)) await this.addUnread(tx, row.dialog_id, userId, -1);
        hidden.push(id);
      }
      await tx.query(`INSERT INTO message_hides (message_id, user_id) SELECT id, $2 FROM unnest($1::text[]) AS id ON CONFLICT DO NOTHING`,
        [hidden, userId]);
      return hidden;
    });
  }

  async deleteMessages(messageIds: string[]): Promise<string[]> {
    const ids = [...new Set(messageIds)];
    return inTransaction(this.pool, async (tx) => {
      await this.lockDialogsOfMessages(tx, ids);
      const { rows } = await tx.query<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ANY($1::text[])`, [ids]);
      const byId = new Map(rows.map((r) => [r.id, r]));
      const dialogIds = [...new Set(rows.map((r) => r.dialog_id))];
      const occupants = (await tx.query<MemberRow>(
        `SELECT ${MEMBER_COLUMNS} FROM dialog_members WHERE dialog_id = ANY($1::text[]) AND occupant`, [dialogIds])).rows;
      const hides = (await tx.query<{ message_id: string; user_id: number }>(
        'SELECT message_id, user_id FROM message_hides WHERE message_id = ANY($1::text[])', [ids])).rows;
      const hiddenBy = new Set(hides.map((h) => `${h.message_id}/${h.user_id}`));
      // Unread messages lost per (dialog, user).
      const lost = new Map<string, { dialogId: string; userId: number; count: number }>();
      const deleted: string[] = [];
      for (const id of ids) {
        const row = byId.get(id);
        if (!row) continue;
        for (const member of occupants) {
          if (member.dialog_id !== row.dialog_id) continue;
          const viewed = { ...row, hidden_by_user: hiddenBy.has(`${id}/${member.user_id}`) };
          if (!countsAsUnread(viewed, member.user_id, member, row.read_ids)) continue;
          const key = `${row.dialog_id}/${member.user_id}`;
          const entry = lost.get(key) ?? { dialogId: row.dialog_id, userId: member.user_id, count: 0 };
          entry.count++;
          lost.set(key, entry);
        }
        deleted.push(id);
      }
      for (const { dialogId, userId, count } of lost.values()) await this.addUnread(tx, dialogId, userId, -count);
      await tx.query('DELETE FROM messages WHERE id = ANY($1::text[])', [deleted]);
      const { rows: losingLast } = await tx.query<{ id: string }>(
        'SELECT id FROM dialogs WHERE id = ANY($1::text[]) AND last_message_id = ANY($2::text[])', [dialogIds, deleted]);
      for (const { id: dialogId } of losingLast) {
        const { rows: [newest] } = await tx.query<MessageRow>(
          `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE dialog_id = $1 ORDER BY seq DESC LIMIT 1`, [dialogId]);
        if (newest) await this.setLastMessage(tx, newest, 0);
        else {
          await tx.query(`UPDATE dialogs SET last_message = NULL, last_message_date_sent = NULL, last_message_id = NULL,
            last_message_user_id = NULL WHERE id = $1`, [dialogId]);
        }
      }
      return deleted;
    });
  }

  async historyBatch(appId: number, dialogId: string, after: HistoryCursor | null, limit: number): Promise<ChatMessage[]> {
    const [dateSent, id] = after ? [after.dateSent, after.id] : [Number.MIN_SAFE_INTEGER, ''];
    const { rows } = await this.pool.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE app_id = $1 AND dialog_id = $2 AND (date_sent, id) > ($3, $4)
       ORDER BY date_sent, id LIMIT $5`, [appId, dialogId, dateSent, id, limit]);
    return rows.map(toMessage);
  }

  async archiveMessages(query: ArchiveQuery): Promise<ChatMessage[]> {
    const { sql, params } = archivePageSql('postgres', query, M_COLUMNS);
    return (await this.pool.query<MessageRow>(sql, params)).rows.map(toMessage);
  }

  async countArchive(query: ArchiveFilter): Promise<number> {
    const { sql, params } = archiveFrom('postgres', query);
    return Number((await this.pool.query<{ n: string | number }>(`SELECT count(*) AS n ${sql}`, params)).rows[0]!.n);
  }
}
