// Dialog pages rendered by SQLite: each dialog of the page comes out of the query as the JSON of its
// QuickBlox view (chat/views.ts dialogView, as JSON.stringify writes it) for the caller, built from the
// stored columns, instead of 17 columns per row turned into JavaScript values, parsed, made into a
// view and serialised again. The stored JSON columns (occupant_ids, admin_ids, data) were written by
// JSON.stringify and are spliced as they are; the times are formatted in JavaScript by the views' own
// function. A page with a row SQLite would print otherwise than JavaScript (a column of an unexpected
// type) is null: the caller reads it the usual way.
import type { DialogQuery, RenderedDialogs } from '../types.js';
import type { SqliteChatStore } from './chat.js';
import { isoSecondsOf } from '../../util/iso-seconds.js';

const TEXT_OR_NULL = ['d.name', 'd.photo', 'd.last_message', 'd.last_message_id', 'd.data'].map((c) => `typeof(${c}) IN ('text', 'null')`).join(' AND ');
const INTEGER_OR_NULL = ['d.last_message_date_sent', 'd.last_message_user_id'].map((c) => `typeof(${c}) IN ('integer', 'null')`).join(' AND ');
const RENDERABLE = `typeof(d.id) = 'text' AND typeof(d.owner_id) = 'integer' AND d.type IN (1, 2, 3) AND ${TEXT_OR_NULL} AND ${INTEGER_OR_NULL}
  AND typeof(d.occupant_ids) = 'text' AND typeof(d.admin_ids) = 'text' AND typeof(d.created_at) = 'integer' AND typeof(d.updated_at) = 'integer'`;

/** The view up to its times (null when SQLite cannot write it), and its times; the `?` is the MUC domain. */
const COLUMNS = `CASE WHEN ${RENDERABLE} THEN format(
    '{"_id":%s,"user_id":%d,"type":%d,"name":%s,"photo":%s,"xmpp_room_jid":%s,"occupants_ids":%s,"admin_ids":%s,"last_message":%s,"last_message_date_sent":%s,"last_message_id":%s,"last_message_user_id":%s,"unread_messages_count":%d,"is_join_required":%s,"is_joinable":%d,"data":%s,"created_at":"',
    json_quote(d.id), d.owner_id, d.type, json_quote(d.name), json_quote(d.photo),
    CASE WHEN d.type = 3 THEN 'null' ELSE json_quote(d.app_id || '_' || d.id || '@' || ?) END,
    CASE WHEN d.type = 1 THEN '[]' ELSE d.occupant_ids END, CASE WHEN d.type = 3 THEN '[]' ELSE d.admin_ids END,
    json_quote(d.last_message), coalesce(d.last_message_date_sent, 'null'), json_quote(d.last_message_id), coalesce(d.last_message_user_id, 'null'),
    CASE WHEN d.type = 1 THEN 0 ELSE coalesce(dm.unread_count, 0) END,
    CASE WHEN d.type = 2 THEN (CASE WHEN d.is_join_required = 1 THEN '1' ELSE '0' END) ELSE 'null' END,
    CASE WHEN d.type = 3 THEN 0 WHEN d.type = 1 OR d.is_join_required = 1 THEN 1 ELSE 0 END,
    coalesce(d.data, 'null')) END AS head,
  d.created_at AS createdAt, nullif(d.updated_at, d.created_at) AS updatedAt`;

interface Row {
  head: string | null;
  createdAt: number;
  updatedAt: number | null;
}

/**
 * Each dialog of listDialogs' page as its view's JSON, and the count of the caller's dialogs, or
 * null when a row cannot be written so.
 */
export function renderDialogs(chat: SqliteChatStore, query: DialogQuery, options: { mucDomain: string }): RenderedDialogs | null {
  const rows = chat.selectDialogsCounted<Row>(query, COLUMNS, [options.mucDomain]);
  const items: string[] = [];
  for (const r of rows) {
    if (r.head === null) return null;
    const created = isoSecondsOf(r.createdAt);
    items.push(`${r.head}${created}","updated_at":"${r.updatedAt === null ? created : isoSecondsOf(r.updatedAt)}"}`);
  }
  // An empty page past the first has no row to say how many there are.
  const total = rows.length > 0 ? rows[0]!.total : query.skip === 0 ? 0 : chat.countDialogsNow(query);
  return { items, total };
}
