// The archive query for both SQL drivers: they differ only in placeholders and in how a list of ids binds.
import type { ArchiveFilter, ArchiveQuery } from './archive-types.js';

export type Dialect = 'sqlite' | 'postgres';

export interface SqlText {
  sql: string;
  params: unknown[];
}

/** `FROM … WHERE …` selecting the archive's messages as `m` (plus the paging bounds when given). */
export function archiveFrom(dialect: Dialect, q: ArchiveFilter & Partial<Pick<ArchiveQuery, 'after' | 'before'>>): SqlText {
  const params: unknown[] = [];
  const p = (value: unknown): string => {
    params.push(value);
    return dialect === 'sqlite' ? '?' : `$${params.length}`;
  };
  let sql: string;
  if (q.dialogId !== null) {
    sql = `FROM messages m LEFT JOIN dialog_members dm ON dm.dialog_id = m.dialog_id AND dm.user_id = ${p(q.viewerId)}
      WHERE m.dialog_id = ${p(q.dialogId)} AND m.app_id = ${p(q.appId)}`;
  } else {
    sql = `FROM dialog_members dm JOIN dialogs d ON d.id = dm.dialog_id JOIN messages m ON m.dialog_id = dm.dialog_id
      WHERE dm.user_id = ${p(q.viewerId)} AND d.app_id = ${p(q.appId)} AND d.type = 3`;
  }
  sql += ` AND m.seq > coalesce(dm.cleared_seq, 0)
    AND NOT EXISTS (SELECT 1 FROM message_hides h WHERE h.message_id = m.id AND h.user_id = ${p(q.viewerId)})`;
  if (q.senderId !== undefined) sql += ` AND m.sender_id = ${p(q.senderId)}`;
  if (q.start !== undefined) sql += ` AND m.date_sent >= ${p(q.start)}`;
  if (q.end !== undefined) sql += ` AND m.date_sent <= ${p(q.end)}`;
  if (q.after) sql += ` AND (m.date_sent > ${p(q.after.dateSent)} OR (m.date_sent = ${p(q.after.dateSent)} AND m.id > ${p(q.after.id)}))`;
  if (q.before) sql += ` AND (m.date_sent < ${p(q.before.dateSent)} OR (m.date_sent = ${p(q.before.dateSent)} AND m.id < ${p(q.before.id)}))`;
  if (q.ids !== undefined) {
    if (q.ids.length === 0) sql += ' AND 1 = 0';
    else if (dialect === 'sqlite') sql += ` AND m.id IN (${q.ids.map((id) => p(id)).join(', ')})`;
    else sql += ` AND m.id = ANY(${p(q.ids)}::text[])`;
  }
  return { sql, params };
}

export function archivePageSql(dialect: Dialect, q: ArchiveQuery, columns: string): SqlText {
  const { sql, params } = archiveFrom(dialect, q);
  const dir = q.order === 'asc' ? 'ASC' : 'DESC';
  params.push(q.limit);
  const limit = dialect === 'sqlite' ? '?' : `$${params.length}`;
  return { sql: `SELECT ${columns} ${sql} ORDER BY m.date_sent ${dir}, m.id ${dir} LIMIT ${limit}`, params };
}
