// History pages rendered by SQLite: each message comes out of the query as the JSON of its QuickBlox
// view (chat/views.ts messageView, as JSON.stringify writes it), built from the stored columns. Reading
// whole rows into JavaScript objects, parsing their JSON columns, building views and serialising them
// again costs ~3× as much for a page of 100. The stored JSON columns (read_ids, delivered_ids,
// attachments, custom) were written by JSON.stringify, so they are spliced as they are. A row whose
// view SQLite cannot write byte for byte (a custom parameter the view drops or reorders, a time or
// number SQLite would print otherwise than JavaScript) comes back whole and is rendered as before. The
// times are formatted in JavaScript, by the function the views use: it costs less than SQLite's.
import type Database from 'better-sqlite3';
import type { ChatMessage, MessageQuery, RenderedMessage } from '../types.js';
import type { SqliteChatStore } from './chat.js';
import { KEYSET_FROM_SKIP, type DeepPages } from './deep-pages.js';
import { isoSecondsOf } from '../../util/iso-seconds.js';

/**
 * Custom parameter names the view does not show where the custom object has them: the view's own
 * fields, and the names `in` any object (messageView skips those), and integer-like names, which
 * JavaScript moves to the front of an object.
 */
const VIEW_FIELDS = ['_id', 'chat_dialog_id', 'message', 'date_sent', 'sender_id', 'recipient_id', 'read_ids', 'delivered_ids', 'read',
  'attachments', 'created_at', 'updated_at', 'markable'];
const UNSPLICEABLE_KEYS = [...VIEW_FIELDS, ...Object.getOwnPropertyNames(Object.prototype)];
const sqlText = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/**
 * Whether an array of integers as JSON.stringify (or SQLite's json_insert) wrote it, `[1,23]`, holds
 * the integer `value`: a search of the text, cheaper than json_each.
 */
const holds = (array: string, value: string): string => `instr(',' || substr(${array}, 2, length(${array}) - 2) || ',', ',' || ${value} || ',') > 0`;

/**
 * Rows SQLite writes as JavaScript would (CASE, so that the custom parameters are only looked into
 * when there are some). Id arrays of integers only: markAllMessages appends to delivered_ids with
 * json_insert, which writes a bound id as a real (`[1,7.0]`) where JSON.parse and the views read 7.
 */
const RENDERABLE = `typeof(m.body) = 'text' AND typeof(m.date_sent) = 'integer' AND abs(m.date_sent) <= ${Number.MAX_SAFE_INTEGER}
  AND typeof(m.sender_id) = 'integer' AND typeof(m.recipient_id) = 'integer'
  AND instr(m.read_ids, '.') = 0 AND instr(m.delivered_ids, '.') = 0
  AND CASE WHEN m.custom = '{}' THEN 1 ELSE json_type(m.custom) = 'object' AND NOT EXISTS (SELECT 1 FROM json_each(m.custom) c
    WHERE c.key IN (${UNSPLICEABLE_KEYS.map(sqlText).join(', ')}) OR c.key GLOB '[0-9]*') END`;

/**
 * Whether the reader is missing from read_ids or delivered_ids. The `?` are the reader's id as it
 * appears in such an array, alone or first, last or inside (`[7]`, `[7,`, `,7]`, `,7,`), twice.
 */
const HOLDS_READER = (array: string): string => `(${array} = ? OR instr(${array}, ?) = 1 OR instr(${array}, ?) > 0 OR instr(${array}, ?) > 0)`;
const UNREAD = `NOT ${HOLDS_READER('m.read_ids')} OR NOT ${HOLDS_READER('m.delivered_ids')}`;

/**
 * The view's JSON up to its times (`head`; for a message that comes whole, its id, which does not
 * start with `{`), its times (`updatedAt` null when it equals `createdAt`) and what follows them
 * (`tail`, null when nothing does); `unreadId`, the message id when the reader has not read it.
 * Few and mostly null columns: each one a row hands to JavaScript costs about as much as a function
 * SQLite runs on it. The `?`: whether the dialog is private, then the reader's id as needles (see
 * HOLDS_READER) for read_ids and for delivered_ids; none for nobody.
 */
const columns = (reader: boolean): string => `CASE WHEN ${RENDERABLE} THEN format(
    '{"_id":%s,"chat_dialog_id":%s,"message":%s,"date_sent":%d,"sender_id":%d,"recipient_id":%d,"read_ids":%s,"delivered_ids":%s,"read":%d,"attachments":%s,"created_at":"',
    json_quote(m.id), json_quote(m.dialog_id), json_quote(m.body), m.date_sent, m.sender_id, m.recipient_id, m.read_ids, m.delivered_ids,
    ? AND ${holds('m.read_ids', 'm.recipient_id')}, m.attachments) ELSE m.id END AS head,
  m.created_at AS createdAt, nullif(m.updated_at, m.created_at) AS updatedAt,
  CASE WHEN m.markable = 1 OR m.custom <> '{}' THEN (CASE WHEN m.markable = 1 THEN ',"markable":1' ELSE '' END)
    || (CASE WHEN m.custom = '{}' THEN '' ELSE ',' || substr(m.custom, 2, length(m.custom) - 2) END) END AS tail,
  ${reader ? `CASE WHEN ${UNREAD} THEN m.id END` : 'NULL'} AS unreadId`;
const COLUMNS = { reader: columns(true), nobody: columns(false) };
/** A deep page (DeepPages) remembers where pages start: every row's id and date_sent. */
const DEEP = ', m.id AS id, m.date_sent AS dateSent';

interface Row {
  head: string;
  createdAt: number;
  updatedAt: number | null;
  tail: string | null;
  unreadId: string | null;
}

export class RenderedMessageReads {
  private readonly wholeRows: Database.Statement<[string], { id: string }>;

  constructor(
    db: Database.Database,
    private readonly chat: SqliteChatStore,
    private readonly toMessage: (row: unknown) => ChatMessage,
    private readonly deepPages: DeepPages | null = null,
  ) {
    this.wholeRows = db.prepare('SELECT * FROM messages WHERE id IN (SELECT value FROM json_each(?))');
  }

  async render(query: MessageQuery, options: { private: boolean; unreadFor: number | null }): Promise<RenderedMessage[]> {
    const { unreadFor } = options;
    const reader = unreadFor === null ? [] : [`[${unreadFor}]`, `[${unreadFor},`, `,${unreadFor}]`, `,${unreadFor},`];
    const params = [options.private ? 1 : 0, ...reader, ...reader];
    const sql = unreadFor === null ? COLUMNS.nobody : COLUMNS.reader;
    const rows = this.deepPages && query.skip >= KEYSET_FROM_SKIP
      ? await this.deepPages.page(query, async (q) => this.chat.selectMessages<Row & { id: string; dateSent: number }>(q, sql + DEEP, params))
      : this.chat.selectMessages<Row>(query, sql, params);
    const page: (RenderedMessage | string)[] = [];
    const whole: string[] = [];
    for (const r of rows) {
      if (!r.head.startsWith('{')) {
        whole.push(r.head);
        page.push(r.head);
        continue;
      }
      // Formatted as messageView does: the same function, from the same numbers.
      const created = isoSecondsOf(r.createdAt);
      const json = `${r.head}${created}","updated_at":"${r.updatedAt === null ? created : isoSecondsOf(r.updatedAt)}"${r.tail ?? ''}}`;
      page.push({ id: r.unreadId ?? '', unread: r.unreadId !== null, json });
    }
    if (whole.length === 0) return page as RenderedMessage[];
    // The messages that come whole, read again together; one deleted in between is left out, as a later read would.
    const messages = new Map(this.wholeRows.all(JSON.stringify(whole)).map((row) => [row.id, this.toMessage(row)]));
    const unread = (m: ChatMessage) => unreadFor !== null && (!m.readIds.includes(unreadFor) || !m.deliveredIds.includes(unreadFor));
    return page.flatMap((item) => {
      if (typeof item !== 'string') return [item];
      const message = messages.get(item);
      return message ? [{ id: message.id, message, unread: unread(message) }] : [];
    });
  }
}
