// History pages rendered by SQLite: each message comes out of the query as the JSON of its QuickBlox
// view (chat/views.ts messageView, as JSON.stringify writes it), built from the stored columns. Reading
// whole rows into JavaScript objects, parsing their JSON columns, building views and serialising them
// again costs ~3× as much for a page of 100. The stored JSON columns (read_ids, delivered_ids,
// attachments, custom) were written by JSON.stringify, so they are spliced as they are. A row whose
// view SQLite cannot write byte for byte (a custom parameter the view drops or reorders, a time or
// number outside what the SQL below formats like JavaScript) comes back whole and is rendered as before.
import type Database from 'better-sqlite3';
import type { ChatMessage, MessageQuery, RenderedMessage } from '../types.js';
import type { SqliteChatStore } from './chat.js';
import type { DeepPages } from './deep-pages.js';

/**
 * Custom parameter names the view does not show where the custom object has them: the view's own
 * fields, and the names `in` any object (messageView skips those), and integer-like names, which
 * JavaScript moves to the front of an object.
 */
const VIEW_FIELDS = ['_id', 'chat_dialog_id', 'message', 'date_sent', 'sender_id', 'recipient_id', 'read_ids', 'delivered_ids', 'read',
  'attachments', 'created_at', 'updated_at', 'markable'];
const UNSPLICEABLE_KEYS = [...VIEW_FIELDS, ...Object.getOwnPropertyNames(Object.prototype)];
const sqlText = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** Times SQLite formats as isoSeconds does: years 1970–9999 (negative times divide differently). */
const MAX_MS = 253_402_300_800_000;
const isoSeconds = (c: string): string =>
  `format('%sT%02d:%02d:%02dZ', date(${c} / 1000, 'unixepoch'), ${c} / 3600000 % 24, ${c} / 60000 % 60, ${c} / 1000 % 60)`;
const contains = (array: string, value: string): string => `EXISTS (SELECT 1 FROM json_each(${array}) WHERE value = ${value})`;

const RENDERABLE = `typeof(m.date_sent) = 'integer' AND abs(m.date_sent) <= ${Number.MAX_SAFE_INTEGER}
  AND typeof(m.created_at) = 'integer' AND m.created_at BETWEEN 0 AND ${MAX_MS - 1}
  AND typeof(m.updated_at) = 'integer' AND m.updated_at BETWEEN 0 AND ${MAX_MS - 1}
  AND (m.custom = '{}' OR (json_type(m.custom) = 'object' AND NOT EXISTS (SELECT 1 FROM json_each(m.custom) c
    WHERE c.key IN (${UNSPLICEABLE_KEYS.map(sqlText).join(', ')}) OR c.key GLOB '[0-9]*')))`;

/** The view's JSON; its `?`: whether the dialog is private, then the reader to tell unread for (twice; null for nobody). */
const COLUMNS = `CASE WHEN ${RENDERABLE} THEN format(
    '{"_id":%s,"chat_dialog_id":%s,"message":%s,"date_sent":%d,"sender_id":%d,"recipient_id":%d,"read_ids":%s,"delivered_ids":%s,"read":%d,"attachments":%s,"created_at":"%s","updated_at":"%s"%s%s}',
    json_quote(m.id), json_quote(m.dialog_id), json_quote(m.body), m.date_sent, m.sender_id, m.recipient_id, m.read_ids, m.delivered_ids,
    ? AND ${contains('m.read_ids', 'm.recipient_id')}, m.attachments, ${isoSeconds('m.created_at')}, ${isoSeconds('m.updated_at')},
    CASE WHEN m.markable = 1 THEN ',"markable":1' ELSE '' END,
    CASE WHEN m.custom = '{}' THEN '' ELSE ',' || substr(m.custom, 2, length(m.custom) - 2) END) END AS json,
  CASE WHEN ? IS NULL THEN 0 ELSE NOT ${contains('m.read_ids', '?')} OR NOT ${contains('m.delivered_ids', '?')} END AS unread,
  m.seq AS seq, m.id AS id, m.date_sent AS dateSent`;

interface Row {
  json: string | null;
  unread: 0 | 1;
  seq: number;
  id: string;
  dateSent: number;
}

export class RenderedMessageReads {
  private readonly wholeRow: Database.Statement<[number], unknown>;

  constructor(
    db: Database.Database,
    private readonly chat: SqliteChatStore,
    private readonly toMessage: (row: unknown) => ChatMessage,
    private readonly deepPages: DeepPages | null = null,
  ) {
    this.wholeRow = db.prepare('SELECT * FROM messages WHERE seq = ?');
  }

  async render(query: MessageQuery, options: { private: boolean; unreadFor: number | null }): Promise<RenderedMessage[]> {
    const params = [options.private ? 1 : 0, options.unreadFor, options.unreadFor, options.unreadFor];
    const list = async (q: MessageQuery) => this.chat.selectMessages<Row>(q, COLUMNS, params);
    const rows = this.deepPages ? await this.deepPages.page(query, list) : await list(query);
    const page: RenderedMessage[] = [];
    for (const r of rows) {
      if (r.json !== null) {
        page.push({ id: r.id, unread: r.unread === 1, json: r.json });
        continue;
      }
      // Read again by itself: a row deleted in between is left out, as a later read would.
      const whole = this.wholeRow.get(r.seq);
      if (whole !== undefined) page.push({ id: r.id, unread: r.unread === 1, message: this.toMessage(whole) });
    }
    return page;
  }
}
